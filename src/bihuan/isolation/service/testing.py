"""Tests at sites (隔离点核酸检测): each test day of a person's plan becomes a task for the site's staff.

A stay's plan (快流调 stored it) lists its test days; the central phase's become `SiteTest` rows when
the person arrives, the release test with the profile's samples and reagents (双采双检 under the 8th
edition). A plan that changes (a cross-infection restarts a neighbour's clock) replaces the tests
still due. Extra tests (cross-infection, symptoms) are scheduled the same way with their reason.

The site's sampler takes a test as single tubes of the screening capability (单管单检), one
``SiteTestSample`` each; their lab results come back through `test_results`. A tube found invalid
is taken again: the test is due once more and needs only the tubes it lacks.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select, update

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import EventRecord, make_event, record, record_many
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.isolation.choices import SiteTestReason, SiteTestStatus
from bihuan.isolation.models import IsolationStay, SiteFloor, SiteRoom, SiteTest, SiteTestSample
from bihuan.isolation.service.sites import get_site
from bihuan.isolation.testing_schemas import (
    SampleTubeIn,
    SiteTestPublic,
    SiteTestsDue,
    SiteTestsSummary,
    SiteTestTubePublic,
)
from bihuan.people.models import Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import ContactCategory, ProtocolProfile, QuarantinePhase
from bihuan.screening.choices import SampleKind, TestResult, TubeKind
from bihuan.screening.models import Sample, Tube
from bihuan.screening.service.results import on_tubes_opened

AnySelect = Select[*tuple[Any, ...]]


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
    """The central phase's test days of a stay's plan; the release test takes the samples and reagents the plan
    says (plans stored before they said: the profile's for the plan's category)."""
    plan: dict[str, Any] = dict(stay.plan or {})
    samples, reagents = _release_test(str(plan.get("category") or stay.category), profile)
    return [
        TestDue(
            stay,
            date.fromisoformat(test["on"]),
            SiteTestReason.PLAN,
            phase=str(test["phase"]),
            day=int(test["day"]),
            release=bool(test.get("release")),
            samples=int(test.get("samples") or (samples if test.get("release") else 1)),
            reagents=int(test.get("reagents") or (reagents if test.get("release") else 1)),
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
    """Add the tests not already scheduled (same stay, day and reason): scheduling again is harmless; a test
    cancelled earlier (a plan that changed, then changed back) is due again with what the plan now says."""
    if not due:
        return []
    existing = {(t.stay_id, t.due_on, t.reason): t for t in _tests_of(ctx, [d.stay.id for d in due])}
    now = ctx.clock.now()
    scheduled: list[SiteTest] = []
    for item in due:
        key = (item.stay.id, item.due_on, item.reason.value)
        test = existing.get(key)
        if test is not None and test.status != SiteTestStatus.CANCELLED:
            continue
        if test is None:
            test = SiteTest(
                stay_id=item.stay.id,
                person_id=item.stay.person_id,
                site_id=item.stay.site_id,
                jurisdiction_id=item.stay.jurisdiction_id,
                due_on=item.due_on,
                reason=item.reason.value,
                created_at=now,
            )
            ctx.session.add(test)
            existing[key] = test
        test.phase, test.day, test.release = item.phase, item.day, item.release
        test.samples, test.reagents = item.samples, item.reagents
        test.status, test.result, test.resulted_at = SiteTestStatus.DUE.value, None, None
        scheduled.append(test)
    ctx.session.flush()
    record_many(ctx, [_scheduled_event(ctx, test) for test in scheduled])
    return scheduled


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


# -- the day's tests (今日采样任务) ------------------------------------------------------------------------


def tests_due(
    ctx: Ctx,
    site_id: int,
    day: date,
    *,
    floor_id: int | None = None,
    include_overdue: bool = True,
    page: Page | None = None,
) -> SiteTestsDue:
    """The site's tests of a local day (and earlier ones still due: overdue), by floor and room, with the
    tubes taken so far and the day's count by state; only people of the actor's jurisdiction."""
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    on_day = and_(SiteTest.due_on == day, SiteTest.status != SiteTestStatus.CANCELLED.value)
    late = and_(SiteTest.due_on < day, SiteTest.status == SiteTestStatus.DUE.value)
    wanted = or_(on_day, late) if include_overdue else on_day

    def narrow(stmt: AnySelect) -> AnySelect:
        stmt = stmt.where(SiteTest.site_id == site_id, wanted)
        stmt = stmt if floor_id is None else stmt.where(SiteRoom.floor_id == floor_id)
        return in_scope(ctx, stmt, SiteTest.jurisdiction_id)

    summary = _summary(ctx, narrow, day)
    stmt = narrow(_listing()).order_by(
        SiteFloor.building, SiteFloor.number, SiteRoom.position, SiteRoom.number, SiteTest.due_on, SiteTest.id
    )
    if page is not None:
        stmt = stmt.offset(page.offset).limit(page.page_size)
    data = _publics(ctx, list(ctx.session.execute(stmt)), day)
    total = summary.due + summary.sampled + summary.positive + summary.negative + summary.overdue
    return SiteTestsDue(day=day, data=data, count=total, summary=summary)


def tests_of_stay(
    ctx: Ctx, stay_id: int, *, site_id: int | None = None, today: date | None = None
) -> list[SiteTestPublic]:
    """A person's tests at their site with their tubes and results, by day (the release check reads them)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    stay = ctx.session.scalar(
        in_scope(ctx, select(IsolationStay).where(IsolationStay.id == stay_id), IsolationStay.jurisdiction_id)
    )
    if stay is None or (site_id is not None and stay.site_id != site_id):
        raise NotFound(f"stay {stay_id} not found")
    stmt = _listing().where(SiteTest.stay_id == stay_id).order_by(SiteTest.due_on, SiteTest.id)
    return _publics(ctx, list(ctx.session.execute(stmt)), today)


def _joined(stmt: AnySelect) -> AnySelect:
    return (
        stmt.join(IsolationStay, IsolationStay.id == SiteTest.stay_id)
        .outerjoin(SiteRoom, SiteRoom.id == IsolationStay.room_id)
        .outerjoin(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
    )


def _listing() -> AnySelect:
    columns = (SiteTest, Person.name, Person.resident_id, SiteRoom.floor_id, SiteFloor.building, SiteFloor.number)
    return _joined(select(*columns, SiteRoom.number).join(Person, Person.id == SiteTest.person_id))


def _summary(ctx: Ctx, narrow: Any, day: date) -> SiteTestsSummary:
    late = case((SiteTest.due_on < day, 1), else_=0)
    stmt = narrow(_joined(select(SiteTest.status, SiteTest.result, late, func.count(SiteTest.id))))
    summary = SiteTestsSummary()
    for status, result, is_late, count in ctx.session.execute(stmt.group_by(SiteTest.status, SiteTest.result, late)):
        if is_late:
            summary.overdue += count
        elif status == SiteTestStatus.RESULTED:
            field = "positive" if result == TestResult.POSITIVE else "negative"
            setattr(summary, field, getattr(summary, field) + count)
        elif status == SiteTestStatus.SAMPLED:
            summary.sampled += count
        else:
            summary.due += count
    return summary


def _publics(ctx: Ctx, rows: list[Any], day: date | None) -> list[SiteTestPublic]:
    """Rows of `_listing` as the API shows them, with each test's tubes (one more query)."""
    tubes: dict[int, list[SiteTestSample]] = {}
    for chunk in id_chunks(row[0].id for row in rows):
        stmt = select(SiteTestSample).where(SiteTestSample.test_id.in_(chunk))
        for tube in ctx.session.scalars(stmt.order_by(SiteTestSample.sampled_at, SiteTestSample.id)):
            tubes.setdefault(tube.test_id, []).append(tube)
    return [_public(row, tubes.get(row[0].id, []), day) for row in rows]


def _public(row: Any, tubes: list[SiteTestSample], day: date | None) -> SiteTestPublic:
    test, name, resident_id, floor_id, building, floor, room = row
    due = test.status == SiteTestStatus.DUE
    return SiteTestPublic(
        id=test.id,
        stay_id=test.stay_id,
        person_id=test.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        floor_id=floor_id,
        room=None if room is None else f"{building}-{floor}-{room}",
        due_on=test.due_on,
        overdue=due and day is not None and test.due_on < day,
        reason=SiteTestReason(test.reason),
        phase=test.phase,
        day=test.day,
        release=test.release,
        samples=test.samples,
        reagents=test.reagents,
        status=SiteTestStatus(test.status),
        result=test.result,
        resulted_at=test.resulted_at,
        tubes_needed=max(0, test.samples - len(_kept(tubes))) if due else 0,
        tubes=[
            SiteTestTubePublic(
                barcode=t.barcode, reagent=t.reagent, sampled_at=t.sampled_at, sampled_by=t.sampled_by, result=t.result
            )
            for t in tubes
        ],
    )


def _kept(tubes: Sequence[SiteTestSample]) -> list[SiteTestSample]:
    """The tubes that count towards the test: all but those the lab found invalid."""
    return [t for t in tubes if t.result != TestResult.INVALID]


# -- taking a test (采样) ---------------------------------------------------------------------------------


def sample_test(
    ctx: Ctx,
    site_id: int,
    test_id: int,
    tubes: Sequence[SampleTubeIn | Mapping[str, Any]],
    *,
    zone: tzinfo | str | None = None,
) -> SiteTestPublic:
    """The site's sampler takes a test as single tubes (a release test: its samples, for its reagents).

    Each tube is a closed single screening tube with one quarantine sample, so the lab's result finds
    it like any other; a result already waiting for its barcode is matched at once. The same tubes sent
    again for the same test change nothing. With a `zone`, a test is not taken before its local day.
    """
    require(ctx.actor, Permission.SAMPLE)
    test = _scoped_test(ctx, site_id, test_id)
    wanted = _read_tubes(tubes)
    taken = list(ctx.session.scalars(select(SiteTestSample).where(SiteTestSample.test_id == test.id)))
    if {barcode for barcode, _ in wanted} <= {t.barcode for t in taken}:
        return _public_of(ctx, test.id)
    if test.status != SiteTestStatus.DUE:
        raise Conflict(f"test {test_id} is {test.status}, not due")
    if zone is not None:
        today = ctx.clock.now().astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone).date()
        if test.due_on > today:
            raise Conflict(f"test {test_id} is due on {test.due_on.isoformat()}: it is not taken before its day")
    _check_tubes(test, _kept(taken), wanted)
    _check_unused(ctx, wanted, {t.barcode for t in taken})
    on_tubes_opened(ctx, _take(ctx, test, wanted))  # a result may already be waiting for a barcode
    return _public_of(ctx, test.id)


def _scoped_test(ctx: Ctx, site_id: int, test_id: int) -> SiteTest:
    stmt = select(SiteTest).where(SiteTest.id == test_id, SiteTest.site_id == site_id).with_for_update()
    test = ctx.session.scalar(in_scope(ctx, stmt, SiteTest.jurisdiction_id))
    if test is None:
        raise NotFound(f"test {test_id} not found at site {site_id}")
    return test


def _read_tubes(tubes: Sequence[SampleTubeIn | Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Barcodes and reagents as sent, trimmed; a missing, too long or repeated barcode is refused."""
    if not tubes:
        raise FieldError("tubes", "take at least one tube")
    read: list[tuple[str, str]] = []
    where: dict[str, int] = {}
    for i, item in enumerate(tubes):
        values = item.model_dump() if isinstance(item, SampleTubeIn) else dict(item)
        barcode, reagent = str(values.get("barcode") or "").strip(), str(values.get("reagent") or "").strip()
        if not 1 <= len(barcode) <= 40:
            raise FieldError(f"tubes[{i}].barcode", "must be 1 to 40 characters")
        if len(reagent) > 64:
            raise FieldError(f"tubes[{i}].reagent", "is longer than 64 characters")
        if barcode in where:
            raise FieldError(f"tubes[{i}].barcode", f"tube {barcode} is listed twice (tubes[{where[barcode]}])")
        where[barcode] = i
        read.append((barcode, reagent))
    return read


def _check_tubes(test: SiteTest, kept: Sequence[SiteTestSample], wanted: Sequence[tuple[str, str]]) -> None:
    """As many tubes as the test lacks, and at least its number of distinct reagents among all of them."""
    what = "the release test" if test.release else "the test"
    rule = f"{what} takes {_counted(test.samples, 'sample')} for {_counted(test.reagents, 'reagent')}"
    needed = test.samples - len(kept)
    if len(wanted) != needed:
        already = f"; {len(kept)} already taken, {needed} to take" if kept else ""
        raise FieldError("tubes", f"{rule}{already}; {len(wanted)} sent")
    if test.reagents <= 1:
        return
    seen = {reagent_key(t.reagent) for t in kept if t.reagent}
    first_repeat: int | None = None
    for i, (_, reagent) in enumerate(wanted):
        key = reagent_key(reagent)
        if not key or key in seen:
            first_repeat = i if first_repeat is None else first_repeat
        seen.add(key)
    seen.discard("")
    if len(seen) < test.reagents:
        field = "tubes" if first_repeat is None else f"tubes[{first_repeat}].reagent"
        raise FieldError(field, f"{rule}: name a different reagent for each tube")


def reagent_key(name: str) -> str:
    """A reagent's name as compared: full-width and case folded, spaces and punctuation dropped ("ＢＧＩ",
    "bgi" and "B.G.I" are one reagent)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _counted(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _check_unused(ctx: Ctx, wanted: Sequence[tuple[str, str]], own: set[str]) -> None:
    """A barcode already on any tube (of any round, site or test) is refused: a tube is used once."""
    barcodes = [barcode for barcode, _ in wanted]
    used = set(ctx.session.scalars(select(Tube.barcode).where(Tube.barcode.in_(barcodes))))
    for i, barcode in enumerate(barcodes):
        if barcode in used:
            mine = " for this test: send only the new tubes" if barcode in own else ""
            raise FieldError(f"tubes[{i}].barcode", f"tube {barcode} is already in use{mine}")


def _take(ctx: Ctx, test: SiteTest, wanted: Sequence[tuple[str, str]]) -> list[Tube]:
    """The tubes, their samples and the test's tube rows; the test is sampled (one event)."""
    now = ctx.clock.now()
    tubes = [
        Tube(barcode=barcode, kind=TubeKind.SINGLE.value, capacity=1, campaign_id=None, opened_at=now, closed_at=now)
        for barcode, _ in wanted
    ]
    ctx.session.add_all(tubes)
    ctx.session.flush()
    for tube, (barcode, reagent) in zip(tubes, wanted, strict=True):
        ctx.session.add(
            Sample(
                person_id=test.person_id,
                tube_id=tube.id,
                kind=SampleKind.QUARANTINE.value,
                sampled_at=now,
                duplicate=False,
            )
        )
        ctx.session.add(
            SiteTestSample(
                test_id=test.id,
                tube_id=tube.id,
                barcode=barcode,
                reagent=reagent,
                sampled_at=now,
                sampled_by=ctx.actor.username,
            )
        )
    test.status = SiteTestStatus.SAMPLED.value
    ctx.session.flush()
    record(
        ctx,
        EventKind.SITE_TEST_SAMPLED,
        person_id=test.person_id,
        jurisdiction_id=test.jurisdiction_id,
        subject_type="site_test",
        subject_id=test.id,
        refs={"test": test.id, "stay": test.stay_id, "site": test.site_id, "tubes": [t.id for t in tubes]},
        payload={"barcodes": [b for b, _ in wanted], "reagents": [r for _, r in wanted], "release": test.release},
    )
    return tubes


def _public_of(ctx: Ctx, test_id: int) -> SiteTestPublic:
    [public] = _publics(ctx, list(ctx.session.execute(_listing().where(SiteTest.id == test_id))), None)
    return public
