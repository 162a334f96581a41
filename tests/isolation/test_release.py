"""Release (解除隔离): nobody leaves before the plan allows, or with a release test missing or positive;
whoever leaves enters the home phase with tasks for their community worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tests.factories import context
from tests.isolation.factories import StayRef, traced_and_delivered, world_with_floor
from tests.isolation.release_factories import LAST_DAY, earlier_tests_negative, release_test_resulted
from tests.screening.lab_factories import ZONE, result_row
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.isolation.choices import RoomStatus, SiteTestReason, StayStatus
from bihuan.isolation.models import HomeMonitoring, HomeTask, IsolationStay, SiteRoom, SiteTest
from bihuan.isolation.service import release as releasing
from bihuan.isolation.service.testing import TestDue, sample_test, schedule_plan_tests, schedule_tests
from bihuan.protocol import ContactCategory, plan_document, quarantine_plan
from bihuan.screening.service.results import record_results


def _release(database: Database, clock: SimulatedClock, site: int, stays: list[int], today: date):  # type: ignore[no-untyped-def]
    with context(database, clock) as ctx:
        return releasing.release(ctx, PROFILE, site, stays, today)


def test_nobody_is_released_before_the_plan_allows_even_with_a_negative_release_test(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])

    outcome = _release(database, clock, world.near_site, [first.stay_id], LAST_DAY - timedelta(days=1))

    assert outcome.released == []
    assert outcome.refused[first.stay_id] == "the plan allows release from 2021-12-22"
    with database.session() as session:
        assert session.get(IsolationStay, first.stay_id).status == StayStatus.IN_STAY  # type: ignore[union-attr]


def test_a_missing_a_positive_or_a_single_reagent_release_test_is_refused_with_its_reason(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [untested, positive, one_reagent] = at_site
    earlier_tests_negative(database, clock, untested.stay_id)
    release_test_resulted(database, clock, positive.stay_id, [("negative", "A"), ("positive", "B")])
    release_test_resulted(database, clock, one_reagent.stay_id, [("negative", "A"), ("negative", "A")])

    outcome = _release(database, clock, world.near_site, [s.stay_id for s in at_site[1]], LAST_DAY)

    assert outcome.released == []
    assert outcome.refused == {
        untested.stay_id: "the release test of 2021-12-22 is not taken yet",
        positive.stay_id: "the test of 2021-12-22 was positive",
        one_reagent.stay_id: "the release test needs 2 reagents, has 1",
    }


def test_a_release_test_with_one_of_two_samples_back_is_not_enough(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "A")])

    outcome = _release(database, clock, world.near_site, [first.stay_id], LAST_DAY)

    assert outcome.refused[first.stay_id] == "the release test of 2021-12-22 has 1 of 2 negative samples"


def test_release_on_the_last_day_frees_the_room_and_starts_the_home_phase_with_tasks(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, second, _] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])

    outcome = _release(database, clock, world.near_site, [first.stay_id, second.stay_id], LAST_DAY)

    assert outcome.released == [first.stay_id]
    assert second.stay_id in outcome.refused
    with database.session() as session:
        stay = session.get(IsolationStay, first.stay_id)
        assert stay is not None and stay.status == StayStatus.RELEASED and stay.open_person_id is None
        assert session.get(SiteRoom, first.room_id).status == RoomStatus.FREE  # type: ignore[union-attr]
        home = session.scalar(select(HomeMonitoring).where(HomeMonitoring.stay_id == first.stay_id))
        assert home is not None
        assert (home.phase, home.starts_on, home.ends_on) == ("home_monitoring", date(2021, 12, 23), date(2021, 12, 29))
        tasks = session.execute(
            select(HomeTask.kind, HomeTask.due_on).where(HomeTask.monitoring_id == home.id).order_by(HomeTask.id)
        ).all()
        kinds = [event.kind for event in session.scalars(select(Event).where(Event.person_id == first.person_id))]
    checks = [day for kind, day in tasks if kind == "health_check"]
    tests = [day for kind, day in tasks if kind == "test"]
    assert checks == [date(2021, 12, 23) + timedelta(days=i) for i in range(7)]
    assert tests == [date(2021, 12, 24), date(2021, 12, 29)]  # home days 2 and 7
    assert kinds[-1] == "released"


def test_releasing_the_same_person_twice_is_harmless(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])
    _release(database, clock, world.near_site, [first.stay_id], LAST_DAY)

    again = _release(database, clock, world.near_site, [first.stay_id], LAST_DAY)

    assert (again.released, again.already, again.refused) == ([], [first.stay_id], {})
    with database.session() as session:
        assert len(session.scalars(select(HomeMonitoring)).all()) == 1


def test_a_stay_of_another_site_is_refused_naming_it(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        releasing.release(ctx, PROFILE, world.far_site, [first.stay_id], LAST_DAY)
    assert refused.value.field == "stay_ids[0]"


def test_the_release_list_shows_who_may_go_and_why_the_others_may_not(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, second, third] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])
    earlier_tests_negative(database, clock, second.stay_id)
    with context(database, clock) as ctx:
        early = releasing.release_list(ctx, PROFILE, world.near_site, LAST_DAY - timedelta(days=3))
        due = releasing.release_list(ctx, PROFILE, world.near_site, LAST_DAY)

    assert early == []  # nobody's release day is within a day
    assert due[0].stay_id == first.stay_id and due[0].ready
    assert {c.stay_id: c.reasons for c in due[1:]} == {
        second.stay_id: ["the release test of 2021-12-22 is not taken yet"],
        third.stay_id: [
            "the release test of 2021-12-22 is not taken yet",
            "the test of 2021-12-09 is not taken yet",
            "the test of 2021-12-12 is not taken yet",
            "the test of 2021-12-15 is not taken yet",
        ],
    }


def test_a_release_test_taken_at_the_site_and_resulted_by_the_lab_lets_the_person_go(
    database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock)
    [person] = make_household(database, clock, world.district.building_a, 1)
    traced_and_delivered(database, clock, [person], date(2021, 12, 8))
    with database.session() as session:
        [stay_id] = session.scalars(select(IsolationStay.id).where(IsolationStay.person_id == person)).all()
    earlier_tests_negative(database, clock, stay_id)
    clock.set(datetime(2021, 12, 22, 0, 30, tzinfo=UTC))  # 08:30 on the last central day
    with database.session() as session:
        stay_id, test_id = session.execute(
            select(SiteTest.stay_id, SiteTest.id).where(SiteTest.person_id == person, SiteTest.release.is_(True))
        ).one()
    with context(database, clock) as ctx:
        sample_test(
            ctx,
            world.near_site,
            test_id,
            [{"barcode": "R-1", "reagent": "达安"}, {"barcode": "R-2", "reagent": "华大"}],
        )
    before = _release(database, clock, world.near_site, [stay_id], LAST_DAY)
    clock.advance(timedelta(hours=8))
    with context(database, clock) as ctx:
        tested = clock.now().astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M")
        rows = [result_row(code, "negative", tested_at=tested, received_at=tested) for code in ("R-1", "R-2")]
        record_results(ctx, rows, timezone=ZONE)

    after = _release(database, clock, world.near_site, [stay_id], LAST_DAY)

    assert before.refused[stay_id] == "the release test of 2021-12-22 has 0 of 2 negative samples"
    assert after.released == [stay_id]


def test_a_test_due_today_or_still_at_the_lab_keeps_the_person_at_the_site(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])
    with context(database, clock) as ctx:
        [stay] = ctx.session.scalars(select(IsolationStay).where(IsolationStay.id == first.stay_id)).all()
        schedule_tests(ctx, [TestDue(stay, LAST_DAY, SiteTestReason.CROSS_INFECTION)])

    outcome = _release(database, clock, world.near_site, [first.stay_id], LAST_DAY)

    assert outcome.refused[first.stay_id] == "the test of 2021-12-22 is not taken yet"


def test_one_reagent_spelled_two_ways_is_still_one_reagent(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "ＢＧＩ"), ("negative", "b.g.i")])

    outcome = _release(database, clock, world.near_site, [first.stay_id], LAST_DAY)

    assert outcome.refused[first.stay_id] == "the release test needs 2 reagents, has 1"


def test_a_plan_with_home_isolation_then_home_monitoring_opens_both_phases_at_release(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    zhejiang = quarantine_plan(ContactCategory.INBOUND, date(2021, 12, 8), PROFILE, "zhejiang-2021-12")
    with context(database, clock) as ctx:
        stay = ctx.session.get(IsolationStay, first.stay_id)
        assert stay is not None
        stay.plan = plan_document(zhejiang)
        schedule_plan_tests(ctx, PROFILE, [stay])
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])

    assert _release(database, clock, world.near_site, [first.stay_id], LAST_DAY).released == [first.stay_id]
    with database.session() as session:
        phases = session.execute(
            select(HomeMonitoring.phase, HomeMonitoring.starts_on, HomeMonitoring.ends_on).order_by(HomeMonitoring.id)
        ).all()
    assert phases == [
        ("home_isolation", date(2021, 12, 23), date(2021, 12, 29)),
        ("home_monitoring", date(2021, 12, 30), date(2022, 1, 5)),
    ]
