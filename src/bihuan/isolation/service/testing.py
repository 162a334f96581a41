"""Tests at sites (隔离点核酸检测): each test day of a person's plan becomes a task for the site's staff.

A stay's plan (快流调 stored it) lists its test days; the central phase's become `SiteTest` rows when
the person arrives, the release test with the profile's samples and reagents (双采双检 under the 8th
edition). A plan that changes (a cross-infection restarts a neighbour's clock) replaces the tests
still due. Extra tests (cross-infection, symptoms) are scheduled the same way with their reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.events import EventRecord, make_event, record_many
from bihuan.isolation.choices import SiteTestReason, SiteTestStatus
from bihuan.isolation.models import IsolationStay, SiteTest
from bihuan.protocol import ContactCategory, ProtocolProfile, QuarantinePhase


@dataclass(frozen=True, slots=True)
class TestDue:
    """A test to schedule for a stay."""

    __test__ = False  # not a pytest test class

    stay: IsolationStay
    due_on: date
    reason: SiteTestReason
    phase: str = ""
    day: int | None = None
    release: bool = False
    samples: int = 1
    reagents: int = 1


def plan_tests(stay: IsolationStay, profile: ProtocolProfile) -> list[TestDue]:
    """The central phase's test days of a stay's plan; the release test takes the profile's samples and reagents."""
    plan: dict[str, Any] = dict(stay.plan or {})
    samples, reagents = _release_test(stay.category, profile)
    return [
        TestDue(
            stay,
            date.fromisoformat(test["on"]),
            SiteTestReason.PLAN,
            phase=str(test["phase"]),
            day=int(test["day"]),
            release=bool(test.get("release")),
            samples=samples if test.get("release") else 1,
            reagents=reagents if test.get("release") else 1,
        )
        for test in plan.get("tests", [])
        if test.get("phase") == QuarantinePhase.CENTRAL
    ]


def _release_test(category: str, profile: ProtocolProfile) -> tuple[int, int]:
    """The samples and reagents of a category's release test (one each when the profile sets none)."""
    schedule = profile.quarantine.get(ContactCategory(category)) if category in set(ContactCategory) else None
    release = schedule.release_test if schedule is not None else None
    return (release.samples, release.reagents) if release is not None else (1, 1)


def schedule_tests(ctx: Ctx, due: Sequence[TestDue]) -> list[SiteTest]:
    """Add the tests not already scheduled (same stay, day and reason): scheduling again is harmless."""
    if not due:
        return []
    taken = _scheduled(ctx, [d.stay.id for d in due])
    now = ctx.clock.now()
    fresh: list[SiteTest] = []
    for item in due:
        key = (item.stay.id, item.due_on, item.reason.value)
        if key in taken:
            continue
        taken.add(key)
        fresh.append(
            SiteTest(
                stay_id=item.stay.id,
                person_id=item.stay.person_id,
                site_id=item.stay.site_id,
                jurisdiction_id=item.stay.jurisdiction_id,
                due_on=item.due_on,
                reason=item.reason.value,
                phase=item.phase,
                day=item.day,
                release=item.release,
                samples=item.samples,
                reagents=item.reagents,
                status=SiteTestStatus.DUE.value,
                created_at=now,
            )
        )
    ctx.session.add_all(fresh)
    ctx.session.flush()
    record_many(ctx, [_scheduled_event(ctx, test) for test in fresh])
    return fresh


def schedule_plan_tests(ctx: Ctx, profile: ProtocolProfile, stays: Iterable[IsolationStay]) -> list[SiteTest]:
    """Schedule each stay's plan tests; plan tests still due on days the (new) plan no longer has are cancelled."""
    stays = list(stays)
    due = [test for stay in stays for test in plan_tests(stay, profile)]
    keep = {(d.stay.id, d.due_on) for d in due}
    stale = [
        test
        for test in _tests_of(ctx, [s.id for s in stays])
        if test.reason == SiteTestReason.PLAN
        and test.status == SiteTestStatus.DUE
        and (test.stay_id, test.due_on) not in keep
    ]
    cancel_tests(ctx, [t.id for t in stale])
    return schedule_tests(ctx, due)


def cancel_tests(ctx: Ctx, test_ids: Sequence[int]) -> None:
    for chunk in id_chunks(test_ids):
        ctx.session.execute(
            update(SiteTest).where(SiteTest.id.in_(chunk)).values(status=SiteTestStatus.CANCELLED.value)
        )


def cancel_due_tests(ctx: Ctx, stay_ids: Sequence[int]) -> None:
    """A stay that ends (released, moved on) leaves no test due behind it."""
    for chunk in id_chunks(stay_ids):
        ctx.session.execute(
            update(SiteTest)
            .where(SiteTest.stay_id.in_(chunk), SiteTest.status == SiteTestStatus.DUE.value)
            .values(status=SiteTestStatus.CANCELLED.value)
        )


def _tests_of(ctx: Ctx, stay_ids: Sequence[int]) -> list[SiteTest]:
    found: list[SiteTest] = []
    for chunk in id_chunks(stay_ids):
        found.extend(ctx.session.scalars(select(SiteTest).where(SiteTest.stay_id.in_(chunk))))
    return found


def _scheduled(ctx: Ctx, stay_ids: Sequence[int]) -> set[tuple[int, date, str]]:
    return {(t.stay_id, t.due_on, t.reason) for t in _tests_of(ctx, stay_ids) if t.status != SiteTestStatus.CANCELLED}


def _scheduled_event(ctx: Ctx, test: SiteTest) -> EventRecord:
    return make_event(
        ctx,
        EventKind.TEST_SCHEDULED,
        person_id=test.person_id,
        jurisdiction_id=test.jurisdiction_id,
        subject_type="site_test",
        subject_id=test.id,
        refs={"stay": test.stay_id, "site": test.site_id},
        payload={"due_on": test.due_on.isoformat(), "reason": test.reason, "release": test.release},
    )
