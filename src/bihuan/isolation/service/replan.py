"""A person already at a site who is traced again (快流调 → 快隔离) stays under the plan of their latest exposure.

Grouping does not move someone already delivered, so a later exposure (another case's contact, the
same contact seen later) would otherwise leave the stay on the old, shorter plan; a stay that arrived
before tracing stored a plan gets it here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.events import EventRecord, make_event, record_many
from bihuan.isolation.models import IsolationSite, IsolationStay
from bihuan.isolation.service.plans import central_end
from bihuan.isolation.service.testing import schedule_plan_tests
from bihuan.protocol import ContactCategory, DestinationKind, ProtocolProfile, TransferCategory
from bihuan.tracing.service.contacts import plans_of

REASON = "traced_again"


def replan_stays(ctx: Ctx, profile: ProtocolProfile, events: Sequence[EventRecord]) -> list[IsolationStay]:
    """Give the people of these ``contact_identified`` events who are in a central quarantine stay the plan
    tracing stored for the stay's category, when it counts from a later exposure (or the stay had none):
    their tests follow the new plan and each stay records one ``quarantine_clock_reset``.

    An earlier or equal exposure changes nothing, so the same event sent again is harmless. A person
    traced now in a more serious category (a secondary contact now a close contact) follows that
    category's plan (longer, with its release test) but stays in their room and on their floor — moving
    floors is a person's decision — and the reset event names it as ``category_now``.
    """
    traced = _most_serious_per_person(events, profile)
    replanned: list[tuple[IsolationStay, date | None]] = []
    by_category: dict[ContactCategory, list[IsolationStay]] = {}
    for stays in _open_stays_by_category(ctx, profile, list(traced)).values():
        for stay in stays:
            by_category.setdefault(_plan_category(profile, stay, traced[stay.person_id]), []).append(stay)
    for category, stays in by_category.items():
        plans = plans_of(ctx, [s.person_id for s in stays], category)
        for stay in stays:
            plan = plans.get(stay.person_id)
            if plan is None or _rank_against_current(profile, stay, category) > 0:
                continue  # a plan of a lesser category than the one followed (a cross-infection reset) is kept
            if _counts_from_later(stay, plan) or _rank_against_current(profile, stay, category) < 0:
                replanned.append((stay, stay.last_exposure))
                stay.plan, stay.last_exposure = dict(plan), date.fromisoformat(plan["last_exposure_date"])
    if not replanned:
        return []
    ctx.session.flush()
    schedule_plan_tests(ctx, profile, [stay for stay, _ in replanned])
    record_many(
        ctx, [_reset_event(ctx, profile, stay, previous, traced[stay.person_id]) for stay, previous in replanned]
    )
    return [stay for stay, _ in replanned]


def _most_serious_per_person(
    events: Sequence[EventRecord], profile: ProtocolProfile
) -> dict[int, TransferCategory | None]:
    """Each traced person and the most serious category they were traced in now (None: none the queue knows)."""
    rank = profile.transfer.rank
    traced: dict[int, TransferCategory | None] = {}
    for event in events:
        if event.person_id is None:
            continue
        value = str(event.payload.get("category", ""))
        category = TransferCategory(value) if value in set(TransferCategory) else None
        held = traced.get(event.person_id)
        if held is None or (category is not None and rank(category) < rank(held)):
            traced[event.person_id] = category
    return traced


def _open_stays_by_category(
    ctx: Ctx, profile: ProtocolProfile, person_ids: Sequence[int]
) -> dict[ContactCategory, list[IsolationStay]]:
    """The people's open stays at central quarantine sites, in categories the profile has a quarantine rule for."""
    ruled = [category.value for category in profile.quarantine]
    found: dict[ContactCategory, list[IsolationStay]] = {}
    for chunk in id_chunks(person_ids):
        stmt = (
            select(IsolationStay)
            .join(IsolationSite, IsolationSite.id == IsolationStay.site_id)
            .where(
                IsolationStay.open_person_id.in_(chunk),
                IsolationStay.category.in_(ruled),
                IsolationSite.kind == DestinationKind.CENTRAL_QUARANTINE.value,
            )
            .order_by(IsolationStay.id)
            .with_for_update(of=IsolationStay)
        )
        for stay in ctx.session.scalars(stmt):
            found.setdefault(ContactCategory(stay.category), []).append(stay)
    return found


def _plan_category(
    profile: ProtocolProfile, stay: IsolationStay, traced_as: TransferCategory | None
) -> ContactCategory:
    """The category whose plan the stay follows: the one traced now when it is more serious and has a rule."""
    if traced_as is not None and traced_as.value in set(ContactCategory):
        now = ContactCategory(traced_as.value)
        if now in profile.quarantine and _rank_against_current(profile, stay, now) < 0:
            return now
    return ContactCategory(stay.category)


def _rank_against_current(profile: ProtocolProfile, stay: IsolationStay, category: ContactCategory) -> int:
    """Below zero: `category` is more serious than that of the plan the stay follows now; zero: the same."""
    current = str((stay.plan or {}).get("category") or stay.category)
    rank = profile.transfer.rank
    return rank(TransferCategory(category.value)) - rank(TransferCategory(current))


def _counts_from_later(stay: IsolationStay, plan: dict[str, Any]) -> bool:
    if not stay.plan or stay.last_exposure is None:
        return True
    return date.fromisoformat(plan["last_exposure_date"]) > stay.last_exposure


def _reset_event(
    ctx: Ctx,
    profile: ProtocolProfile,
    stay: IsolationStay,
    previous: date | None,
    traced_as: TransferCategory | None,
) -> EventRecord:
    extra: dict[str, Any] = {"reason": REASON}
    rank = profile.transfer.rank
    if traced_as is not None and rank(traced_as) < rank(TransferCategory(stay.category)):
        extra["category_now"] = traced_as.value
    return clock_reset_event(ctx, stay, previous, refs={}, payload=extra)


def clock_reset_event(
    ctx: Ctx, stay: IsolationStay, previous: date | None, *, refs: dict[str, int], payload: dict[str, Any]
) -> EventRecord:
    """``quarantine_clock_reset``: the stay now follows a plan from a new last exposure (stay.plan holds it)."""
    end = central_end(stay.plan or {})
    return make_event(
        ctx,
        EventKind.QUARANTINE_CLOCK_RESET,
        person_id=stay.person_id,
        jurisdiction_id=stay.jurisdiction_id,
        subject_type="stay",
        subject_id=stay.id,
        refs={"stay": stay.id, "site": stay.site_id, **refs},
        payload={
            "previous_last_exposure": previous.isoformat() if previous is not None else None,
            "last_exposure": stay.last_exposure.isoformat() if stay.last_exposure is not None else None,
            "central_end": end.isoformat() if end is not None else None,
            **payload,
        },
    )
