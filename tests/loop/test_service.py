"""The loop read from the real platform's events: contacts traced, moved, isolated, released; scoping; the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import context, login, make_user
from tests.isolation.factories import StayRef, world_with_floor
from tests.isolation.release_factories import LAST_DAY, release_test_resulted
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.tracing.factories import confirm_case
from tests.transfer.factories import PROFILE, TransferWorld, identify_contacts, make_household

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import record
from bihuan.isolation.service import home, release
from bihuan.loop import service
from bihuan.loop.choices import Link, Stage
from bihuan.people.schemas import Page
from bihuan.protocol import LoopStage, TransferCategory
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.service import dispatch, planning

CLOSE = TransferCategory.CLOSE_CONTACT
PAGE = Page(page=1, page_size=50)
HALF_HOUR = timedelta(minutes=30)


def _delivered_over_hours(database: Database, clock: SimulatedClock, people: list[int]) -> None:
    """Traced (queued at once), planned an hour later, dispatched and picked up, arrived after 3 h in all."""
    identify_contacts(database, clock, people, CLOSE)
    clock.advance(timedelta(hours=1))
    with context(database, clock) as ctx:
        planning.plan(ctx, PROFILE, categories=[CLOSE])
    with database.session() as session:
        [batch_id] = session.scalars(select(Batch.id).where(Batch.status == "planned")).all()
        aboard = list(session.scalars(select(BatchMember.person_id).where(BatchMember.batch_id == batch_id)))
    clock.advance(HALF_HOUR)
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
    clock.advance(HALF_HOUR)
    with context(database, clock) as ctx:
        for person in aboard:
            dispatch.pick_up(ctx, batch_id, person)
    clock.advance(timedelta(hours=1))
    with context(database, clock) as ctx:
        dispatch.arrive(ctx, PROFILE, batch_id)


@pytest.fixture
def delivered(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, list[int]]:
    world, _ = world_with_floor(database, clock)
    people = [p for _ in range(2) for p in make_household(database, clock, world.district.building_a, 1)]
    _delivered_over_hours(database, clock, people)
    return world, people


def test_a_delivered_contacts_timeline_shows_each_stage_in_order_with_its_delays(
    database: Database, clock: SimulatedClock, delivered: tuple[TransferWorld, list[int]]
) -> None:
    _, [person, _] = delivered
    start = clock.now() - timedelta(hours=3)

    with context(database, clock) as ctx:
        t = service.timeline(ctx, PROFILE, person, clock.now())

    assert [r.stage for r in t.reached] == [
        Stage.IDENTIFIED,
        Stage.QUEUED,
        Stage.PLANNED,
        Stage.DISPATCHED,
        Stage.PICKED_UP,
        Stage.ARRIVED,
        Stage.ISOLATED,
    ]
    assert t.reached[0].first_at == start
    assert {d.stage: d.hours for d in t.delays} == {
        LoopStage.CONTACTS_UNDER_CONTROL: 3.0,
        LoopStage.IDENTIFIED_TO_QUEUED: 0.0,
        LoopStage.QUEUED_TO_ARRIVED: 3.0,
        LoopStage.ARRIVED_TO_ISOLATED: 0.0,
    }
    assert (t.in_loop, t.closed, t.stuck_at, t.link) == (True, False, Stage.ISOLATED, Link.ISOLATION)
    assert "*" in (t.resident_id_masked or "")


def test_stage_delays_count_what_ended_in_the_window_and_what_still_runs_at_its_end(
    database: Database, clock: SimulatedClock, delivered: tuple[TransferWorld, list[int]]
) -> None:
    arrived = clock.now()
    with context(database, clock) as ctx:
        whole = service.stage_delays(ctx, PROFILE, arrived - timedelta(hours=4), arrived + timedelta(minutes=1))
        before = service.stage_delays(ctx, PROFILE, arrived - timedelta(hours=4), arrived - timedelta(hours=2))

    queued = {s.stage: s for s in whole.stages}[LoopStage.QUEUED_TO_ARRIVED]
    assert (queued.count, queued.median_hours, queued.p90_hours, queued.within_target) == (2, 3.0, 3.0, 1.0)
    assert queued.pending == 0
    then = {s.stage: s for s in before.stages}[LoopStage.QUEUED_TO_ARRIVED]
    assert (then.count, then.pending, then.pending_overdue) == (0, 2, 0)


@pytest.fixture
def first_released_and_home_phase_over(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> tuple[TransferWorld, list[StayRef]]:
    world, stays = at_site
    release_test_resulted(database, clock, stays[0].stay_id, [("negative", "A"), ("negative", "B")])
    clock.set(datetime(2021, 12, 22, 2, 0, tzinfo=UTC))
    with context(database, clock) as ctx:
        assert release.release(ctx, PROFILE, world.near_site, [stays[0].stay_id], LAST_DAY).released
    clock.set(datetime(2021, 12, 30, 1, 0, tzinfo=UTC))
    with context(database, clock) as ctx:
        assert home.end_finished_phases(ctx, date(2021, 12, 30)) == 1
    return world, stays


def test_everyone_who_entered_the_loop_is_closed_or_listed_open(
    database: Database,
    clock: SimulatedClock,
    first_released_and_home_phase_over: tuple[TransferWorld, list[StayRef]],
) -> None:
    world, [done, *held] = first_released_and_home_phase_over
    case_person = make_household(database, clock, world.district.building_a, 1)[0]
    confirm_case(database, clock, case_person, world.district.building_a)  # queued for hospital at once

    with context(database, clock) as ctx:
        loops = service.open_loops(ctx, PROFILE, clock.now(), page=PAGE)
        closed = service.timeline(ctx, PROFILE, done.person_id, clock.now())
        waiting = service.open_loops(ctx, PROFILE, clock.now(), page=PAGE, stage=Stage.QUEUED)

    assert (loops.entered, loops.closed, loops.open) == (4, 1, 3)
    assert {o.person_id for o in loops.data} == {case_person, *(s.person_id for s in held)}
    assert (closed.closed, closed.end) == (True, Stage.HOME_ENDED)
    assert [r.stage for r in closed.reached][-3:] == [Stage.ISOLATED, Stage.RELEASED, Stage.HOME_ENDED]
    [case] = waiting.data
    assert (case.person_id, case.is_case, case.waiting_on) == (
        case_person,
        True,
        LoopStage.CONFIRMED_TO_TRANSFERRED,
    )
    assert loops.data[0].person_id == case_person  # the only one past a target: listed first
    assert (loops.overdue, case.overdue) == (0, False)
    clock.advance(timedelta(hours=2, minutes=1))
    with context(database, clock) as ctx:
        late = service.open_loops(ctx, PROFILE, clock.now(), page=PAGE, overdue=True)
    assert [o.person_id for o in late.data] == [case_person]


def test_a_hospitalised_case_is_closed_yet_its_late_investigation_counts_as_pending(
    database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock)
    case_person = make_household(database, clock, world.district.building_a, 1)[0]
    confirmed = clock.now()
    confirm_case(database, clock, case_person, world.district.building_a)
    clock.advance(timedelta(hours=3))
    with context(database, clock) as ctx:
        record(ctx, EventKind.HOSPITALISED, person_id=case_person, jurisdiction_id=world.district.building_a)
    clock.advance(timedelta(hours=27))  # the investigation has found nobody

    with context(database, clock) as ctx:
        loops = service.open_loops(ctx, PROFILE, clock.now(), page=PAGE)
        window = service.stage_delays(ctx, PROFILE, confirmed, clock.now() + HALF_HOUR)

    assert (loops.entered, loops.closed, loops.open, loops.data) == (1, 1, 0, [])
    by_stage = {s.stage: (s.pending, s.pending_overdue) for s in window.stages}
    assert by_stage[LoopStage.FIRST_TRACING_FINDINGS] == (1, 1)
    assert by_stage[LoopStage.COUNTY_CASE_INVESTIGATION] == (1, 1)


pytestmark = pytest.mark.usefixtures("cheap_argon2")


def test_the_api_shows_the_loop_to_its_jurisdiction_and_to_no_one_else(
    client: TestClient, database: Database, clock: SimulatedClock, delivered: tuple[TransferWorld, list[int]]
) -> None:
    world, [person, _] = delivered
    district = world.district
    analyst = login(client, make_user(database, clock, Role.ANALYST, district.city))
    elsewhere = login(client, make_user(database, clock, Role.COMMANDER, district.county_b))
    lab = login(client, make_user(database, clock, Role.LAB, district.county_a))

    mine = client.get(f"/api/loop/people/{person}/timeline", headers=analyst)
    listed = client.get("/api/loop/open", params={"link": "isolation"}, headers=analyst).json()
    window = {"since": "2021-12-10T00:00:00+00:00", "until": (clock.now() + HALF_HOUR).isoformat()}
    delays = client.get("/api/loop/delays", params=window, headers=analyst)

    assert mine.status_code == 200 and mine.json()["stuck_at"] == "isolated"
    assert (listed["count"], listed["entered"], listed["open"]) == (2, 2, 2)
    assert {o["person_id"] for o in listed["data"]} == set(delivered[1])
    assert delays.status_code == 200
    assert {s["stage"]: s["count"] for s in delays.json()["stages"]}["queued_to_arrived"] == 2
    assert client.get(f"/api/loop/people/{person}/timeline", headers=elsewhere).status_code == 404
    assert client.get("/api/loop/open", headers=elsewhere).json()["entered"] == 0
    assert client.get("/api/loop/open", headers=lab).status_code == 403
    naive = client.get("/api/loop/delays", params={"since": "2021-12-10T00:00:00"}, headers=analyst)
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["body", "since"]
