"""Tests at sites: the plan's test days become the staff's tasks, taken as single tubes, results come back."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories import context, login, make_user
from tests.isolation.factories import deliver, give_plans, stays_at, traced_and_delivered, world_with_floor
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.screening.lab_factories import ZONE, result_row
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import Event, EventRecord
from bihuan.isolation import service as sites
from bihuan.isolation.models import IsolationStay, SiteRoom, SiteTest, SiteTestSample
from bihuan.isolation.schemas import FloorCreate
from bihuan.isolation.service import testing
from bihuan.isolation.service.test_results import results_came_back
from bihuan.isolation.service.testing import sample_test
from bihuan.people.models import Jurisdiction
from bihuan.protocol import TransferCategory
from bihuan.screening.models import Confirmation, Sample, Tube
from bihuan.screening.service.results import record_results

pytestmark = pytest.mark.usefixtures("cheap_argon2")
CLOSE = TransferCategory.CLOSE_CONTACT
EXPOSED = date(2021, 12, 9)  # the drill starts on the 10th: day 1 of the plan is today
TODAY, DAY_4, RELEASE_DAY = date(2021, 12, 10), date(2021, 12, 13), date(2021, 12, 23)


def _arrived(database: Database, clock: SimulatedClock, count: int = 1) -> tuple[TransferWorld, list[int]]:
    """Close contacts traced on EXPOSED and handed over at the near site's floor A-3."""
    world, _ = world_with_floor(database, clock)
    people = [make_household(database, clock, world.district.building_a, 1)[0] for _ in range(count)]
    traced_and_delivered(database, clock, people, EXPOSED)
    return world, people


def _tests(database: Database, person: int) -> list[SiteTest]:
    with database.session() as session:
        rows = list(session.scalars(select(SiteTest).where(SiteTest.person_id == person).order_by(SiteTest.due_on)))
        session.expunge_all()
    return rows


def _test_on(database: Database, person: int, day: date) -> SiteTest:
    [test] = [t for t in _tests(database, person) if t.due_on == day]
    return test


def _lab(database: Database, clock: SimulatedClock, results: list[tuple[str, str]]) -> None:
    """Results sent by the lab in the evening, through the lab-results path (committed: reactions follow)."""
    clock.advance(timedelta(hours=12))  # 20:00 local
    tested = clock.now().astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
    rows = [result_row(barcode, result, tested_at=tested, received_at=tested) for barcode, result in results]
    with context(database, clock) as ctx:
        record_results(ctx, rows, timezone=ZONE)


def _other_county(database: Database, world: TransferWorld) -> Actor:
    with database.session() as session:
        county_b = session.get(Jurisdiction, world.district.county_b)
        assert county_b is not None
        return Actor(None, "other-county", Role.SITE_MANAGER, county_b.id, county_b.path)


def _record(event: Event) -> EventRecord:
    return EventRecord(
        kind=EventKind(event.kind),
        occurred_at=event.occurred_at,
        person_id=event.person_id,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        payload=dict(event.payload),
    )


def _tubes(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"barcode": barcode, "reagent": reagent} for barcode, reagent in pairs]


def test_arrival_schedules_the_plans_central_test_days_with_the_profiles_release_test(
    database: Database, clock: SimulatedClock
) -> None:
    _, [person] = _arrived(database, clock)

    with database.session() as session:
        stay = session.scalar(select(IsolationStay).where(IsolationStay.person_id == person))
        assert stay is not None
        planned = [date.fromisoformat(t["on"]) for t in stay.plan["tests"] if t["phase"] == "central"]
    tests = _tests(database, person)
    assert [t.due_on for t in tests] == planned == [TODAY, DAY_4, date(2021, 12, 16), RELEASE_DAY]
    assert [(t.day, t.release, t.samples, t.reagents) for t in tests] == [
        (1, False, 1, 1),
        (4, False, 1, 1),
        (7, False, 1, 1),
        (14, True, 2, 2),  # 双采双检 under cn-8th-2021
    ]
    assert {t.status for t in tests} == {"due"}


def test_the_days_list_of_a_floor_shows_its_people_by_room_with_overdue_tests_of_earlier_days(
    database: Database, clock: SimulatedClock
) -> None:
    world, floor_a3 = world_with_floor(database, clock, rooms=2)
    with context(database, clock) as ctx:
        floor_a4 = sites.add_floor(
            ctx,
            PROFILE,
            world.near_site,
            FloorCreate(building="A", number=4, category=TransferCategory.CLOSE_CONTACT, room_count=2),
        ).id
    people = [make_household(database, clock, world.district.building_a, 1)[0] for _ in range(3)]
    traced_and_delivered(database, clock, people, EXPOSED)
    with database.session() as session:
        floors = dict(session.execute(select(SiteRoom.id, SiteRoom.floor_id)).all())
    on_a3 = [s.person_id for s in stays_at(database, world.near_site) if floors[s.room_id] == floor_a3]
    assert 0 < len(on_a3) < 3
    first = on_a3[0]
    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, _test_on(database, first, TODAY).id, _tubes(("SITE-0001", "")))

    with context(database, clock) as ctx:
        a3 = testing.tests_due(ctx, world.near_site, TODAY, floor_id=floor_a3)
        a4 = testing.tests_due(ctx, world.near_site, TODAY, floor_id=floor_a4)
        later = testing.tests_due(ctx, world.near_site, DAY_4)
        later_only = testing.tests_due(ctx, world.near_site, DAY_4, include_overdue=False)

    assert [t.person_id for t in a3.data] == on_a3  # by room
    assert {t.person_id for t in a4.data} == set(people) - set(on_a3)
    shown = a3.data[0]
    assert shown.room is not None and shown.room.startswith("A-3-")
    assert shown.resident_id_masked is not None and "*" in shown.resident_id_masked
    assert (shown.reason, shown.release, shown.samples, shown.status) == ("plan", False, 1, "sampled")
    assert [t.barcode for t in shown.tubes] == ["SITE-0001"] and shown.tubes_needed == 0
    assert (a3.summary.due, a3.summary.sampled) == (len(on_a3) - 1, 1)
    assert later.count == 5 and later.summary.overdue == 2 and later.summary.due == 3
    assert {t.person_id for t in later.data if t.overdue} == set(people) - {first}
    assert later_only.count == 3 and not any(t.overdue for t in later_only.data)


def test_a_normal_test_is_taken_as_one_single_tube_through_screening(database: Database, clock: SimulatedClock) -> None:
    world, [person] = _arrived(database, clock)
    test = _test_on(database, person, TODAY)

    with context(database, clock) as ctx:
        taken = sample_test(ctx, world.near_site, test.id, _tubes(("SITE-0001", "达安")))

    assert taken.status == "sampled" and [t.reagent for t in taken.tubes] == ["达安"]
    with database.session() as session:
        tube = session.scalar(select(Tube).where(Tube.barcode == "SITE-0001"))
        assert tube is not None
        assert (tube.kind, tube.capacity, tube.campaign_id, tube.closed_at is not None) == ("single", 1, None, True)
        [sample] = session.scalars(select(Sample).where(Sample.tube_id == tube.id)).all()
        assert (sample.person_id, sample.kind) == (person, "quarantine")
        event = session.scalar(select(Event).where(Event.kind == EventKind.SITE_TEST_SAMPLED.value))
        assert event is not None and event.person_id == person
        assert event.refs == {"test": test.id, "stay": test.stay_id, "site": world.near_site, "tubes": [tube.id]}


def test_a_release_test_with_one_tube_or_one_reagent_is_refused_naming_the_field(
    database: Database, clock: SimulatedClock
) -> None:
    world, [person] = _arrived(database, clock)
    release = _test_on(database, person, RELEASE_DAY)

    with context(database, clock) as ctx, pytest.raises(FieldError) as one_tube:
        sample_test(ctx, world.near_site, release.id, _tubes(("REL-1", "达安")))
    with context(database, clock) as ctx, pytest.raises(FieldError) as one_reagent:
        sample_test(ctx, world.near_site, release.id, _tubes(("REL-1", "达安"), ("REL-2", "达安")))

    assert one_tube.value.field == "tubes"
    assert "the release test takes 2 samples for 2 reagents" in one_tube.value.reason
    assert one_reagent.value.field == "tubes[1].reagent"
    assert "2 reagents" in one_reagent.value.reason
    with database.session() as session:
        assert session.scalar(select(func.count(Tube.id))) == 0
    assert _test_on(database, person, RELEASE_DAY).status == "due"
    with context(database, clock) as ctx:
        taken = sample_test(ctx, world.near_site, release.id, _tubes(("REL-1", "达安"), ("REL-2", "圣湘")))
    assert taken.status == "sampled" and len(taken.tubes) == 2


def test_a_barcode_already_used_is_refused_and_nothing_is_written(database: Database, clock: SimulatedClock) -> None:
    world, [first, second] = _arrived(database, clock, 2)
    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, _test_on(database, first, TODAY).id, _tubes(("SITE-0001", "")))

    with context(database, clock) as ctx, pytest.raises(FieldError) as used:
        sample_test(ctx, world.near_site, _test_on(database, second, TODAY).id, _tubes(("SITE-0001", "")))

    assert used.value.field == "tubes[0].barcode" and "already in use" in used.value.reason
    assert _test_on(database, second, TODAY).status == "due"
    with database.session() as session:
        assert session.scalar(select(func.count(SiteTestSample.id))) == 1


def test_sending_the_same_sampling_twice_is_harmless(database: Database, clock: SimulatedClock) -> None:
    world, [person] = _arrived(database, clock)
    test = _test_on(database, person, TODAY)

    with context(database, clock) as ctx:
        once = sample_test(ctx, world.near_site, test.id, _tubes(("SITE-0001", "")))
    with context(database, clock) as ctx:
        twice = sample_test(ctx, world.near_site, test.id, _tubes(("SITE-0001", "")))

    assert once == twice
    with database.session() as session:
        assert session.scalar(select(func.count(Tube.id))) == 1
        sampled = select(func.count(Event.id)).where(Event.kind == EventKind.SITE_TEST_SAMPLED.value)
        assert session.scalar(sampled) == 1
    with context(database, clock) as ctx, pytest.raises(Conflict):
        sample_test(ctx, world.near_site, test.id, _tubes(("SITE-0002", "")))  # taken already: not due


def test_a_negative_lab_result_comes_back_to_the_test_and_the_days_count(
    database: Database, clock: SimulatedClock
) -> None:
    world, [person] = _arrived(database, clock)
    test = _test_on(database, person, TODAY)
    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, test.id, _tubes(("SITE-0001", "")))

    _lab(database, clock, [("SITE-0001", "negative")])
    _lab(database, clock, [("SITE-0001", "negative")])  # the same results again

    resulted = _test_on(database, person, TODAY)
    assert (resulted.status, resulted.result) == ("resulted", "negative")
    with context(database, clock) as ctx:
        [shown] = [t for t in testing.tests_of_stay(ctx, test.stay_id) if t.id == test.id]
        summary = testing.tests_due(ctx, world.near_site, TODAY).summary
    assert [t.result for t in shown.tubes] == ["negative"]
    assert (summary.negative, summary.sampled, summary.due) == (1, 0, 0)
    with context(database, clock) as ctx:  # the reaction given the same events again
        tube_events = ctx.session.scalars(
            select(Event).where(Event.kind == EventKind.TEST_RESULTED.value, Event.subject_type == "tube")
        ).all()
        assert len(tube_events) == 1
        results_came_back(ctx, [_record(e) for e in tube_events])
    with database.session() as session:
        settled = select(func.count(Event.id)).where(Event.kind == EventKind.SITE_TEST_RESULTED.value)
        assert session.scalar(settled) == 1
    assert _test_on(database, person, TODAY).resulted_at == resulted.resulted_at


def test_a_result_that_reached_the_lab_before_its_tube_was_taken_is_matched_when_it_is(
    database: Database, clock: SimulatedClock
) -> None:
    world, [person] = _arrived(database, clock)
    _lab(database, clock, [("SITE-0001", "negative")])  # held: no tube has this barcode yet

    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, _test_on(database, person, TODAY).id, _tubes(("SITE-0001", "")))

    assert _test_on(database, person, TODAY).result == "negative"


def test_a_positive_tube_marks_the_test_positive_and_opens_a_confirmation(
    database: Database, clock: SimulatedClock
) -> None:
    world, [person] = _arrived(database, clock)
    release = _test_on(database, person, RELEASE_DAY)
    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, release.id, _tubes(("REL-1", "达安"), ("REL-2", "圣湘")))

    _lab(database, clock, [("REL-1", "positive")])  # the other tube's result is still awaited

    assert (_test_on(database, person, RELEASE_DAY).status, _test_on(database, person, RELEASE_DAY).result) == (
        "resulted",
        "positive",
    )
    with database.session() as session:
        [confirmation] = session.scalars(select(Confirmation).where(Confirmation.person_id == person)).all()
        assert confirmation.status == "pending"
    _lab(database, clock, [("REL-2", "negative")])
    assert _test_on(database, person, RELEASE_DAY).result == "positive"


def test_an_invalid_tube_sends_the_test_back_to_due_for_only_the_missing_tube(
    database: Database, clock: SimulatedClock
) -> None:
    world, [person] = _arrived(database, clock)
    release = _test_on(database, person, RELEASE_DAY)
    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, release.id, _tubes(("REL-1", "达安"), ("REL-2", "圣湘")))

    _lab(database, clock, [("REL-1", "invalid"), ("REL-2", "negative")])

    with context(database, clock) as ctx:
        [again] = [t for t in testing.tests_of_stay(ctx, release.stay_id) if t.id == release.id]
    assert (again.status, again.tubes_needed) == ("due", 1)
    assert [(t.barcode, t.result) for t in again.tubes] == [("REL-1", "invalid"), ("REL-2", "negative")]
    with context(database, clock) as ctx, pytest.raises(FieldError) as both:
        sample_test(ctx, world.near_site, release.id, _tubes(("REL-3", "达安"), ("REL-4", "圣湘")))
    with context(database, clock) as ctx, pytest.raises(FieldError) as same_reagent:
        sample_test(ctx, world.near_site, release.id, _tubes(("REL-3", "圣湘")))
    assert both.value.field == "tubes" and "1 to take" in both.value.reason
    assert same_reagent.value.field == "tubes[0].reagent"
    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, release.id, _tubes(("REL-3", "达安")))
    _lab(database, clock, [("REL-3", "negative")])
    assert _test_on(database, person, RELEASE_DAY).result == "negative"


def test_a_user_of_another_county_sees_none_of_the_tests_and_cannot_take_them(
    database: Database, clock: SimulatedClock
) -> None:
    world, [person] = _arrived(database, clock)
    test = _test_on(database, person, TODAY)
    other = _other_county(database, world)

    with context(database, clock, other) as ctx:
        listed = testing.tests_due(ctx, world.near_site, TODAY)
        with pytest.raises(NotFound):
            testing.tests_of_stay(ctx, test.stay_id)
        with pytest.raises(NotFound):
            sample_test(ctx, world.near_site, test.id, _tubes(("SITE-0001", "")))

    assert listed.count == 0 and listed.data == []
    assert _test_on(database, person, TODAY).status == "due"
    with context(database, clock) as ctx:
        assert testing.tests_due(ctx, world.near_site, TODAY).count == 1


def test_someone_moved_on_from_the_site_leaves_no_test_due_behind(database: Database, clock: SimulatedClock) -> None:
    world, [person] = _arrived(database, clock)
    with context(database, clock) as ctx:
        sample_test(ctx, world.near_site, _test_on(database, person, TODAY).id, _tubes(("SITE-0001", "")))

    deliver(database, clock, [person], TransferCategory.CONFIRMED)  # a case now: taken to hospital

    assert [t.status for t in _tests(database, person)] == ["sampled", "cancelled", "cancelled", "cancelled"]
    with context(database, clock) as ctx:
        assert testing.tests_due(ctx, world.near_site, DAY_4).count == 0


def test_a_site_manager_lists_takes_and_reads_tests_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    world, [person] = _arrived(database, clock)
    username = make_user(database, clock, Role.SITE_MANAGER, world.district.county_a)
    manager = login(client, username)
    site = world.near_site

    day = client.get(f"/api/sites/{site}/tests", headers=manager)
    assert day.status_code == 200, day.text
    [task] = day.json()["data"]
    assert (task["person_id"], task["due_on"], day.json()["summary"]["due"]) == (person, "2021-12-10", 1)
    taken = client.post(
        f"/api/sites/{site}/tests/{task['id']}/samples", json={"tubes": [{"barcode": "API-1"}]}, headers=manager
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "sampled"
    release = _test_on(database, person, RELEASE_DAY)
    early = client.post(
        f"/api/sites/{site}/tests/{release.id}/samples",
        json={"tubes": [{"barcode": "API-2", "reagent": "达安"}, {"barcode": "API-3", "reagent": "圣湘"}]},
        headers=manager,
    )
    assert early.status_code == 409 and "2021-12-23" in early.text  # not taken before its day
    clock.advance(timedelta(days=13))
    manager = login(client, username)  # the release day: a new shift's login
    short = client.post(
        f"/api/sites/{site}/tests/{release.id}/samples",
        json={"tubes": [{"barcode": "API-2", "reagent": "达安"}]},
        headers=manager,
    )
    assert short.status_code == 422 and short.json()["detail"][0]["loc"] == ["body", "tubes"]

    tests = client.get(f"/api/sites/{site}/stays/{task['stay_id']}/tests", headers=manager).json()
    assert tests["count"] == 4
    assert [t["status"] for t in tests["data"]] == ["sampled", "due", "due", "due"]
    assert [t["overdue"] for t in tests["data"]] == [False, True, True, False]
    assert tests["data"][0]["tubes"][0]["barcode"] == "API-1"


def test_a_plan_changed_and_changed_back_has_its_cancelled_tests_due_again(
    database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock)
    deliver(database, clock, [make_household(database, clock, world.district.building_a, 1)[0]], CLOSE)
    [stay] = stays_at(database, world.near_site)

    give_plans(database, clock, [stay.stay_id], date(2021, 12, 8))  # release test on the 22nd
    give_plans(database, clock, [stay.stay_id], date(2021, 12, 11))  # on the 25th: the 22nd cancelled
    give_plans(database, clock, [stay.stay_id], date(2021, 12, 8))  # the 22nd again

    tests = {(t.due_on, t.status) for t in _tests(database, stay.person_id) if t.release}
    assert tests == {(date(2021, 12, 22), "due"), (date(2021, 12, 25), "cancelled")}
