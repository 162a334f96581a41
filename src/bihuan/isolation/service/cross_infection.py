"""Cross-infection investigations (交叉感染调查): a case found inside a site, and its neighbours.

A case confirmed while in a central quarantine stay opens one investigation (one per case). Its
neighbours are flagged by the profile's ``sites.cross_infection`` rules, closest relation first:
the same room, the rooms within ``adjacent_rooms`` doors on the corridor or in the same position
``floors_above_below`` floors up and down in the same building (adjacent rooms), the rest of the
floor. Each gets the profile's extra tests; the quarantine clocks of the relations in
``reset_clock_for`` restart on the plan of ``reset_plan_as`` (close contacts: 按密接管理) from the
investigation's exposure day: the later of the case's first positive sampling day and the day the
investigation opens, for the case shared the site until it was found. A case at a designated
hospital is where cases belong: it opens nothing. Reading and closing: `cross_infection_reads`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select

from bihuan.config import get_settings
from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import Database, id_chunks
from bihuan.core.events import EventRecord, record, record_many
from bihuan.isolation.choices import CrossInfectionStatus, SiteTestReason
from bihuan.isolation.models import (
    CrossInfection,
    CrossInfectionNeighbour,
    IsolationSite,
    IsolationStay,
    SiteFloor,
    SiteRoom,
)
from bihuan.isolation.service.replan import clock_reset_event
from bihuan.isolation.service.testing import TestDue, schedule_plan_tests, schedule_tests
from bihuan.protocol import (
    ContactCategory,
    DestinationKind,
    NeighbourRule,
    ProtocolProfile,
    QuarantinePlan,
    SiteRules,
    plan_document,
    quarantine_plan,
)
from bihuan.screening.models import Case
from bihuan.tracing.service.runtime import runtime_for

CLOSEST_FIRST = (NeighbourRule.SAME_ROOM, NeighbourRule.ADJACENT_ROOM, NeighbourRule.SAME_FLOOR)
SUBJECT = "cross_infection"


def local_day(database: Database, moment: datetime) -> date:
    """The local day of a moment in the deployment's zone (the tracing runtime's, else the settings')."""
    runtime = runtime_for(database)
    zone = runtime.zone if runtime is not None else ZoneInfo(get_settings().timezone)
    return moment.astimezone(zone).date()


# ---------------------------------------------------------------- opening 立案


def open_for_cases(
    ctx: Ctx, profile: ProtocolProfile, events: Sequence[EventRecord], today: date | None = None
) -> list[CrossInfection]:
    """Each case confirmed in a central quarantine stay opens one investigation of its neighbours.

    ``today`` is the local day the investigation opens, from which its extra tests count (the
    reaction passes the deployment's; the clock's UTC day otherwise). A case seen again opens nothing.
    """
    day = today or ctx.clock.now().date()
    case_ids = [e.subject_id for e in events if e.subject_type == "case" and e.subject_id is not None]
    opened = []
    for case in _new_cases(ctx, case_ids):
        stay = _central_stay(ctx, case.person_id)
        if stay is not None:
            opened.append(_open(ctx, profile, case, stay, day))
    return opened


def _new_cases(ctx: Ctx, case_ids: Sequence[int]) -> list[Case]:
    found: list[Case] = []
    for chunk in id_chunks(case_ids):
        done = set(ctx.session.scalars(select(CrossInfection.case_id).where(CrossInfection.case_id.in_(chunk))))
        found.extend(c for c in ctx.session.scalars(select(Case).where(Case.id.in_(chunk))) if c.id not in done)
    return sorted(found, key=lambda c: c.id)


def _central_stay(ctx: Ctx, person_id: int) -> IsolationStay | None:
    return ctx.session.scalar(
        select(IsolationStay)
        .join(IsolationSite, IsolationSite.id == IsolationStay.site_id)
        .where(
            IsolationStay.open_person_id == person_id,
            IsolationSite.kind == DestinationKind.CENTRAL_QUARANTINE.value,
        )
    )


def _open(ctx: Ctx, profile: ProtocolProfile, case: Case, stay: IsolationStay, today: date) -> CrossInfection:
    rules = profile.sites.cross_infection
    room = ctx.session.get(SiteRoom, stay.room_id) if stay.room_id is not None else None
    investigation = CrossInfection(
        site_id=stay.site_id,
        case_person_id=case.person_id,
        case_id=case.id,
        stay_id=stay.id,
        room_id=stay.room_id,
        floor_id=room.floor_id if room is not None else None,
        exposure_on=max(case.first_positive_sampling_date, today),  # still in its room until found
        status=CrossInfectionStatus.OPEN.value,
        opened_at=ctx.clock.now(),
        note="",
    )
    ctx.session.add(investigation)
    ctx.session.flush()
    flagged = [
        (
            CrossInfectionNeighbour(
                investigation_id=investigation.id,
                stay_id=other.id,
                person_id=other.person_id,
                relation=relation.value,
                clock_reset=False,
            ),
            other,
        )
        for other, relation in _neighbours(ctx, profile.sites, stay, room)
    ]
    ctx.session.add_all([neighbour for neighbour, _ in flagged])
    ctx.session.flush()
    schedule_tests(
        ctx,
        [
            TestDue(other, today + timedelta(days=days), SiteTestReason.CROSS_INFECTION)
            for _, other in flagged
            for days in rules.extra_test_days
        ],
    )
    reset = _reset_clocks(ctx, profile, investigation, flagged)
    _record_opened(ctx, investigation, stay, [n for n, _ in flagged], reset)
    return investigation


def _neighbours(
    ctx: Ctx, sites: SiteRules, stay: IsolationStay, room: SiteRoom | None
) -> list[tuple[IsolationStay, NeighbourRule]]:
    """Other people's open stays near the case's room, each with its closest relation the profile flags."""
    if room is None:
        return _count_only_neighbours(ctx, sites, stay)
    rules = sites.cross_infection
    floor = ctx.session.get(SiteFloor, room.floor_id)
    assert floor is not None
    reach = range(1, rules.floors_above_below + 1)
    near_floors = [floor.number + k for k in reach] + [floor.number - k for k in reach]
    stmt = (
        select(IsolationStay, SiteRoom, SiteFloor)
        .join(SiteRoom, SiteRoom.id == IsolationStay.room_id)
        .join(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
        .where(
            IsolationStay.site_id == stay.site_id,
            IsolationStay.open_person_id.is_not(None),
            IsolationStay.person_id != stay.person_id,
            or_(
                SiteRoom.floor_id == floor.id,
                and_(
                    SiteFloor.building == floor.building,
                    SiteFloor.number.in_(near_floors),
                    SiteRoom.position == room.position,
                ),
            ),
        )
        .order_by(IsolationStay.id)
    )
    found = []
    for other, other_room, other_floor in ctx.session.execute(stmt):
        relation = _closest(_relations(sites, room, floor, other_room, other_floor), rules.flag)
        if relation is not None:
            found.append((other, relation))
    return found


def _relations(
    sites: SiteRules, room: SiteRoom, floor: SiteFloor, other_room: SiteRoom, other_floor: SiteFloor
) -> set[NeighbourRule]:
    """Every relation another room holds to the case's (a room next door is on the same floor too)."""
    rules = sites.cross_infection
    held: set[NeighbourRule] = set()
    if other_room.id == room.id:
        held.add(NeighbourRule.SAME_ROOM)
    if other_floor.id == floor.id:
        held.add(NeighbourRule.SAME_FLOOR)
        if room.position > 0 and 1 <= abs(other_room.position - room.position) <= rules.adjacent_rooms:
            held.add(NeighbourRule.ADJACENT_ROOM)
    elif (
        room.position > 0  # 0: the door order is not known (rooms registered before it was kept)
        and other_floor.building == floor.building
        and 1 <= abs(other_floor.number - floor.number) <= rules.floors_above_below
        and other_room.position == room.position
    ):
        held.add(NeighbourRule.ADJACENT_ROOM)  # the room over or under the case's (shared shafts)
    return held


def _closest(held: set[NeighbourRule], flag: Sequence[NeighbourRule]) -> NeighbourRule | None:
    return next((rule for rule in CLOSEST_FIRST if rule in held and rule in flag), None)


def _count_only_neighbours(
    ctx: Ctx, sites: SiteRules, stay: IsolationStay
) -> list[tuple[IsolationStay, NeighbourRule]]:
    """A site counted without rooms: everyone else of the case's category there counts as the same floor."""
    if NeighbourRule.SAME_FLOOR not in sites.cross_infection.flag:
        return []
    stmt = (
        select(IsolationStay)
        .where(
            IsolationStay.site_id == stay.site_id,
            IsolationStay.open_person_id.is_not(None),
            IsolationStay.person_id != stay.person_id,
            IsolationStay.category == stay.category,
        )
        .order_by(IsolationStay.id)
    )
    return [(other, NeighbourRule.SAME_FLOOR) for other in ctx.session.scalars(stmt)]


def _reset_clocks(
    ctx: Ctx,
    profile: ProtocolProfile,
    investigation: CrossInfection,
    flagged: Sequence[tuple[CrossInfectionNeighbour, IsolationStay]],
) -> list[tuple[CrossInfectionNeighbour, IsolationStay, QuarantinePlan]]:
    """Neighbours the profile restarts get the reset plan from the investigation's exposure day, and its tests.

    A clock never moves back: a neighbour already counting from a later day keeps that day (and takes the
    reset plan if on another one); one already on the reset plan from the same day or later is left alone.
    """
    rules = profile.sites.cross_infection
    reset = []
    for neighbour, stay in flagged:
        category = _reset_category(profile, stay.category)
        if NeighbourRule(neighbour.relation) not in rules.reset_clock_for or category is None:
            continue
        previous = stay.last_exposure
        if previous is not None and previous >= investigation.exposure_on and _plan_category(stay) == category:
            continue
        last = max(previous, investigation.exposure_on) if previous is not None else investigation.exposure_on
        plan = quarantine_plan(category, last, profile)
        neighbour.previous_last_exposure, neighbour.clock_reset = previous, True
        stay.last_exposure, stay.plan = last, plan_document(plan)
        reset.append((neighbour, stay, plan))
    ctx.session.flush()
    schedule_plan_tests(ctx, profile, [stay for _, stay, _ in reset])
    events = [
        clock_reset_event(
            ctx,
            stay,
            neighbour.previous_last_exposure,
            refs={"investigation": investigation.id},
            payload={"relation": neighbour.relation},
        )
        for neighbour, stay, _ in reset
    ]
    record_many(ctx, events)
    return reset


def _reset_category(profile: ProtocolProfile, own: str) -> ContactCategory | None:
    """The category whose plan a restarted clock follows (None: the neighbour's own has no plan to restart)."""
    chosen = profile.sites.cross_infection.reset_plan_as
    if chosen is not None:
        return chosen  # the profile checked it has a quarantine rule
    return ContactCategory(own) if own in set(ContactCategory) and ContactCategory(own) in profile.quarantine else None


def _plan_category(stay: IsolationStay) -> str:
    """The category a stay's plan was drawn for (plans stored before they named it: the stay's own)."""
    return str((stay.plan or {}).get("category", stay.category))


def _record_opened(
    ctx: Ctx,
    investigation: CrossInfection,
    stay: IsolationStay,
    neighbours: Sequence[CrossInfectionNeighbour],
    reset: Sequence[Any],
) -> None:
    record(
        ctx,
        EventKind.CROSS_INFECTION_OPENED,
        person_id=investigation.case_person_id,
        jurisdiction_id=stay.jurisdiction_id,
        subject_type=SUBJECT,
        subject_id=investigation.id,
        refs={
            "site": investigation.site_id,
            "case": investigation.case_id,
            "stay": stay.id,
            "investigation": investigation.id,
            **({"room": investigation.room_id} if investigation.room_id is not None else {}),
        },
        payload={
            "exposure_on": investigation.exposure_on.isoformat(),
            "counts": dict(Counter(n.relation for n in neighbours)),
            "clocks_reset": len(reset),
        },
    )
