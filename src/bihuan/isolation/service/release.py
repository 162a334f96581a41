"""Release from a site (解除隔离): only when the plan is complete and the release tests are negative.

A person may leave on the central phase's last day (or the day after, as the profile says) once the
plan's release test is resulted negative with the profile's samples and reagents (双采双检 under the
8th edition). Anything short of that is refused with the reason, per person; whoever is released
enters the home phase of their plan (`home.start_home_phase`) and leaves their room.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.errors import FieldError
from bihuan.core.events import EventRecord, make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.isolation.choices import SiteTestStatus, StayStatus
from bihuan.isolation.models import IsolationStay, SiteFloor, SiteRoom, SiteTest, SiteTestSample
from bihuan.isolation.release_schemas import ReleaseCandidatePublic, ReleaseOutcomePublic
from bihuan.isolation.service.home import start_home_phase
from bihuan.isolation.service.leaving import end_stays
from bihuan.isolation.service.linked_release import linked_release_reasons
from bihuan.isolation.service.plans import central_end, release_from
from bihuan.isolation.service.sites import get_site
from bihuan.isolation.service.testing import reagent_key
from bihuan.people.models import Person
from bihuan.people.service import in_scope
from bihuan.protocol import ContactCategory, DestinationKind, ProtocolProfile
from bihuan.screening.choices import TestResult
from bihuan.screening.models import Case


@dataclass
class _TestsOf:
    release: list[SiteTest] = field(default_factory=list)
    positive: list[SiteTest] = field(default_factory=list)
    others: list[SiteTest] = field(default_factory=list)  # every other test (plan, extra) not cancelled
    samples: dict[int, list[SiteTestSample]] = field(default_factory=dict)  # test id → its tubes


def release_list(ctx: Ctx, profile: ProtocolProfile, site_id: int, today: date) -> list[ReleaseCandidatePublic]:
    """Everyone in a stay at the site whose release day has come or is within a day, ready ones first."""
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    rows = _open_stays(ctx, site_id)
    tests = _tests_of(ctx, [stay.id for stay, *_ in rows])
    cases = _cases(ctx, [stay.person_id for stay, *_ in rows])
    linked = _linked(ctx, profile, [row[0] for row in rows])
    candidates = [_candidate(row, tests[row[0].id], cases, linked, profile, today) for row in rows]
    due = [c for c in candidates if c.release_from is None or c.release_from <= today + timedelta(days=1)]
    return sorted(due, key=lambda c: (not c.ready, c.release_from or today, c.room or "", c.stay_id))


def release(
    ctx: Ctx, profile: ProtocolProfile, site_id: int, stay_ids: Sequence[int], today: date
) -> ReleaseOutcomePublic:
    """Release those whose plan and release tests allow it; refuse the others with the reason."""
    require(ctx.actor, Permission.RELEASE)
    site = get_site(ctx, site_id)
    if not stay_ids:
        raise FieldError("stay_ids", "name at least one stay")
    outcome = ReleaseOutcomePublic()
    rows = _stays(ctx, site_id, stay_ids)
    found = {row[0].id: row for row in rows}
    tests = _tests_of(ctx, list(found))
    cases = _cases(ctx, [stay.person_id for stay, *_ in rows])
    linked = _linked(ctx, profile, [row[0] for row in rows])
    ready: list[IsolationStay] = []
    for index, stay_id in enumerate(stay_ids):
        row = found.get(stay_id)
        if row is None:
            raise FieldError(f"stay_ids[{index}]", f"stay {stay_id} is not at site {site.id}")
        stay = row[0]
        if stay.status == StayStatus.RELEASED:
            outcome.already.append(stay.id)
            continue
        candidate = _candidate(row, tests[stay.id], cases, linked, profile, today)
        if site.kind != DestinationKind.CENTRAL_QUARANTINE:
            candidate.reasons.insert(0, "a designated hospital discharges cases; it does not release from quarantine")
        if candidate.reasons:
            outcome.refused[stay.id] = "; ".join(candidate.reasons)
        elif stay.id not in {s.id for s in ready}:
            ready.append(stay)
    if ready:
        _release(ctx, profile, ready)
        outcome.released = [s.id for s in ready]
    return outcome


def _release(ctx: Ctx, profile: ProtocolProfile, stays: list[IsolationStay]) -> None:
    end_stays(ctx, stays, StayStatus.RELEASED)
    homes = start_home_phase(ctx, profile, stays)
    record_many(ctx, [_released(ctx, stay, homes.get(stay.id)) for stay in stays])


def _released(ctx: Ctx, stay: IsolationStay, home: dict[str, Any] | None) -> EventRecord:
    return make_event(
        ctx,
        EventKind.RELEASED,
        person_id=stay.person_id,
        jurisdiction_id=stay.jurisdiction_id,
        subject_type="stay",
        subject_id=stay.id,
        refs={"site": stay.site_id, **({"home_monitoring": home["id"]} if home else {})},
        payload={"category": stay.category, "home_phase": home},
    )


# -- the checks ------------------------------------------------------------------------------------


def _candidate(
    row: Any, tests: _TestsOf, cases: set[int], linked: dict[int, str], profile: ProtocolProfile, today: date
) -> ReleaseCandidatePublic:
    stay, name, resident_id, building, floor, room = row
    plan: dict[str, Any] = dict(stay.plan or {})
    first_day = release_from(plan, profile.sites)
    reasons = _reasons(stay, plan, first_day, tests, stay.person_id in cases, today)
    if stay.person_id in linked and first_day is not None and stay.person_id not in cases:
        reasons.append(linked[stay.person_id])
    return ReleaseCandidatePublic(
        stay_id=stay.id,
        person_id=stay.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        room=None if room is None else f"{building}-{floor}-{room}",
        category=stay.category,
        central_end=central_end(plan),
        release_from=first_day,
        ready=not reasons,
        reasons=reasons,
    )


def _reasons(
    stay: IsolationStay, plan: dict[str, Any], first_day: date | None, tests: _TestsOf, is_case: bool, today: date
) -> list[str]:
    if stay.status != StayStatus.IN_STAY:
        return [f"the stay is {stay.status}"]
    if is_case:
        return ["the person is a confirmed case: they go to a designated hospital, not home"]
    if tests.positive:
        return [f"the test of {tests.positive[0].due_on.isoformat()} was positive"]
    if first_day is None:
        return ["no quarantine plan: the last exposure is not known yet"]
    reasons = []
    if today < first_day:
        reasons.append(f"the plan allows release from {first_day.isoformat()}")
    reasons.extend(_release_test_reasons(tests))
    reasons.extend(_open_test_reasons(tests, today))
    return reasons


def _open_test_reasons(tests: _TestsOf, today: date) -> list[str]:
    """Tests due by today not taken, or taken and not back: nobody leaves with a result outstanding."""
    reasons = []
    for test in sorted(tests.others, key=lambda t: (t.due_on, t.id)):
        if test.due_on <= today and test.status == SiteTestStatus.DUE:
            reasons.append(f"the test of {test.due_on.isoformat()} is not taken yet")
        elif test.status == SiteTestStatus.SAMPLED:
            reasons.append(f"the test of {test.due_on.isoformat()} awaits its result")
    return reasons


def _release_test_reasons(tests: _TestsOf) -> list[str]:
    """Why the latest release test does not release yet (none: it is negative with every tube it needs)."""
    if not tests.release:
        return ["the plan has no release test scheduled"]
    test = max(tests.release, key=lambda t: (t.due_on, t.id))
    tubes = tests.samples.get(test.id, [])
    negative = [t for t in tubes if t.result == TestResult.NEGATIVE]
    if test.status == SiteTestStatus.DUE and not tubes:
        return [f"the release test of {test.due_on.isoformat()} is not taken yet"]
    if len(negative) < test.samples:
        return [f"the release test of {test.due_on.isoformat()} has {len(negative)} of {test.samples} negative samples"]
    reagents = {reagent_key(t.reagent) for t in negative} - {""}
    if len(reagents) < test.reagents:
        return [f"the release test needs {test.reagents} reagents, has {len(reagents)}"]
    return []


# -- reading ---------------------------------------------------------------------------------------


def _stay_rows() -> Any:
    return (
        select(IsolationStay, Person.name, Person.resident_id, SiteFloor.building, SiteFloor.number, SiteRoom.number)
        .join(Person, Person.id == IsolationStay.person_id)
        .outerjoin(SiteRoom, SiteRoom.id == IsolationStay.room_id)
        .outerjoin(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
    )


def _open_stays(ctx: Ctx, site_id: int) -> list[Any]:
    stmt = _stay_rows().where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
    return list(ctx.session.execute(in_scope(ctx, stmt, IsolationStay.jurisdiction_id)))


def _stays(ctx: Ctx, site_id: int, stay_ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for chunk in id_chunks(stay_ids):
        stmt = _stay_rows().where(IsolationStay.site_id == site_id, IsolationStay.id.in_(chunk))
        stmt = in_scope(ctx, stmt, IsolationStay.jurisdiction_id)
        # Locked and read afresh: two releases of one person at once release them once.
        locked = stmt.with_for_update(of=IsolationStay).execution_options(populate_existing=True)
        rows.extend(ctx.session.execute(locked))
    return rows


def _tests_of(ctx: Ctx, stay_ids: Sequence[int]) -> dict[int, _TestsOf]:
    found: dict[int, _TestsOf] = defaultdict(_TestsOf)
    by_id: dict[int, SiteTest] = {}
    for chunk in id_chunks(stay_ids):
        stmt = select(SiteTest).where(SiteTest.stay_id.in_(chunk), SiteTest.status != SiteTestStatus.CANCELLED.value)
        for test in ctx.session.scalars(stmt):
            by_id[test.id] = test
            if test.release:
                found[test.stay_id].release.append(test)
            else:
                found[test.stay_id].others.append(test)
            if test.result == TestResult.POSITIVE:
                found[test.stay_id].positive.append(test)
    release_ids = [t.id for t in by_id.values() if t.release]
    for chunk in id_chunks(release_ids):
        for sample in ctx.session.scalars(select(SiteTestSample).where(SiteTestSample.test_id.in_(chunk))):
            found[by_id[sample.test_id].stay_id].samples.setdefault(sample.test_id, []).append(sample)
    return found


def _linked(ctx: Ctx, profile: ProtocolProfile, stays: Sequence[IsolationStay]) -> dict[int, str]:
    """The secondary contacts' release condition, for stays following a secondary-contact plan."""
    secondary = ContactCategory.SECONDARY_CONTACT.value
    people = [s.person_id for s in stays if str((s.plan or {}).get("category") or s.category) == secondary]
    return linked_release_reasons(ctx, profile, people)


def _cases(ctx: Ctx, person_ids: Sequence[int]) -> set[int]:
    cases: set[int] = set()
    for chunk in id_chunks(person_ids):
        cases.update(ctx.session.scalars(select(Case.person_id).where(Case.person_id.in_(chunk))))
    return cases
