"""Capacity gauges (资源负荷) as a commander relies on them: rooms filling up turn strained then alert at
the profile's thresholds, a broken-down vehicle leaves the fleet, a lab backlog strains and alerts when
the labs go quiet, investigators carry the open investigations, and each user sees their own jurisdiction."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.command.factories import PROFILE, activate, actor, user_id
from tests.factories import District, context, count_statements, login, make_district, make_person, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.screening.lab_factories import make_people, make_tube, result_row
from tests.tracing.factories import confirm_case
from tests.transfer.factories import add_site, add_vehicle, identify_contacts, make_household, make_transfer_world

from bihuan.command import service as command
from bihuan.command.capacity import capacity_gauges
from bihuan.command.capacity_schemas import CapacityPublic, CapacityResource, GaugePublic, GaugeStatus
from bihuan.command.schemas import MemberIn
from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Actor
from bihuan.core.db import Database
from bihuan.core.errors import FieldError, Forbidden
from bihuan.isolation import service as sites
from bihuan.isolation.schemas import FloorCreate, RoomReserve
from bihuan.protocol import TransferCategory
from bihuan.screening.models import Tube
from bihuan.screening.service.results import record_results
from bihuan.transfer.models import Batch
from bihuan.transfer.service import dispatch, planning, vehicles

CLOSE = TransferCategory.CLOSE_CONTACT
ZONE = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("cheap_argon2")


def _gauges(
    database: Database, clock: SimulatedClock, who: Actor = SYSTEM, jurisdiction_id: int | None = None
) -> CapacityPublic:
    with context(database, clock, who) as ctx:
        return capacity_gauges(ctx, PROFILE, clock.now(), jurisdiction_id=jurisdiction_id)


def _gauge(found: CapacityPublic, resource: CapacityResource) -> GaugePublic:
    return next(g for g in found.gauges if g.resource == resource)


def _commander(database: Database, clock: SimulatedClock, jurisdiction_id: int) -> Actor:
    return actor(database, clock, make_user(database, clock, Role.COMMANDER, jurisdiction_id))


def _admit(database: Database, clock: SimulatedClock, site_id: int, count: int) -> None:
    with context(database, clock) as ctx:
        sites.admit(ctx, site_id, CLOSE.value, count)


# -- rooms ---------------------------------------------------------------------------------------------


def test_a_site_filling_up_turns_strained_then_alert_at_the_profiles_thresholds(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    site = add_site(database, clock, "百官隔离酒店", (30.04, 120.87), {CLOSE: 20})
    commander = _commander(database, clock, district.county_a)
    thresholds = PROFILE.command.capacity.rooms
    seen = []
    for arriving in (10, 6, 3):  # 10/20, 16/20 = strained_at 0.8, 19/20 = alert_at 0.95
        _admit(database, clock, site, arriving)
        rooms = _gauge(_gauges(database, clock, commander), CapacityResource.ROOMS)
        seen.append((rooms.used, rooms.total, rooms.ratio, rooms.status))

    assert (thresholds.strained_at, thresholds.alert_at) == (0.8, 0.95)
    assert seen == [
        (10, 20, 0.5, GaugeStatus.NORMAL),
        (16, 20, 0.8, GaugeStatus.STRAINED),
        (19, 20, 0.95, GaugeStatus.ALERT),
    ]


def test_reserved_rooms_are_used_and_a_full_sites_free_rooms_are_not_offered(
    database: Database, clock: SimulatedClock
) -> None:
    make_district(database, clock)
    site = add_site(database, clock, "百官隔离酒店", (30.04, 120.87), {CLOSE: 0})
    with context(database, clock) as ctx:
        floor = sites.add_floor(ctx, PROFILE, site, FloorCreate(building="A", number=3, category=CLOSE, room_count=10))
        sites.reserve_rooms(ctx, site, RoomReserve(floor_id=floor.id, count=4, reserved_for="百官街道密接"))
    before = _gauge(_gauges(database, clock), CapacityResource.ROOMS)
    with context(database, clock) as ctx:
        sites.report_full(ctx, site, "人手不足")
    full = _gauge(_gauges(database, clock), CapacityResource.ROOMS)

    assert (before.used, before.total, before.parts["reserved"], before.status) == (4, 10, 4, GaugeStatus.NORMAL)
    assert (full.used, full.total, full.parts["free_at_full_or_closed_sites"]) == (4, 4, 6)
    assert full.status == GaugeStatus.ALERT


def test_a_user_of_another_county_does_not_see_your_rooms_and_the_city_sees_them(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    site = add_site(database, clock, "百官隔离酒店", (30.04, 120.87), {CLOSE: 20})
    add_site(database, clock, "宁波隔离点", (29.87, 121.54), {CLOSE: 30}, city="宁波")  # 异地安置, no county of ours
    _admit(database, clock, site, 5)

    def rooms(who: Actor) -> tuple[int, int, int, GaugeStatus]:
        found = _gauge(_gauges(database, clock, who), CapacityResource.ROOMS)
        return found.used, found.total, found.parts["sites"], found.status

    normal = GaugeStatus.NORMAL
    assert rooms(_commander(database, clock, district.county_a)) == (5, 20, 1, normal)
    assert rooms(_commander(database, clock, district.county_b)) == (0, 0, 0, normal)  # nothing there, no alarm
    assert rooms(_commander(database, clock, district.city)) == (5, 20, 1, normal)
    assert rooms(SYSTEM) == (5, 50, 2, normal)


def test_a_narrower_jurisdiction_is_cut_and_one_outside_yours_is_refused(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    site = add_site(database, clock, "百官隔离酒店", (30.04, 120.87), {CLOSE: 20})
    _admit(database, clock, site, 5)
    city = _commander(database, clock, district.city)
    county = _commander(database, clock, district.county_a)

    narrowed = _gauges(database, clock, city, jurisdiction_id=district.county_b)
    with pytest.raises(FieldError) as refused:
        _gauges(database, clock, county, jurisdiction_id=district.county_b)

    assert narrowed.jurisdiction_id == district.county_b
    assert _gauge(narrowed, CapacityResource.ROOMS).total == 0
    assert refused.value.field == "jurisdiction_id"


# -- vehicles ------------------------------------------------------------------------------------------


def test_a_booked_coach_uses_the_fleet_and_a_broken_down_vehicle_leaves_its_total(
    database: Database, clock: SimulatedClock
) -> None:
    world = make_transfer_world(database, clock)
    identify_contacts(database, clock, make_household(database, clock, world.district.building_a, 3), CLOSE)
    with context(database, clock) as ctx:
        planning.plan(ctx, PROFILE, categories=[CLOSE])
    booked = _gauge(_gauges(database, clock), CapacityResource.VEHICLES)
    with database.session() as session:
        batch_id = session.scalars(select(Batch.id).where(Batch.status == "planned")).one()
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
    on_road = _gauge(_gauges(database, clock), CapacityResource.VEHICLES)
    with context(database, clock) as ctx:
        vehicles.mark_failed(ctx, world.ambulance, "爆胎")
    broken = _gauge(_gauges(database, clock), CapacityResource.VEHICLES)

    assert (booked.used, booked.total, booked.parts["booked"], booked.status) == (1, 2, 1, GaugeStatus.NORMAL)
    assert (on_road.used, on_road.parts["on_road"], on_road.parts["booked"]) == (1, 1, 0)
    assert (broken.used, broken.total, broken.parts["failed"], broken.status) == (1, 1, 1, GaugeStatus.ALERT)


def test_the_fleet_is_shared_but_only_your_people_aboard_are_yours(database: Database, clock: SimulatedClock) -> None:
    world = make_transfer_world(database, clock)
    add_vehicle(database, clock)
    identify_contacts(database, clock, make_household(database, clock, world.district.building_a, 3), CLOSE)
    with context(database, clock) as ctx:
        planning.plan(ctx, PROFILE, categories=[CLOSE])

    mine = _gauge(
        _gauges(database, clock, _commander(database, clock, world.district.county_a)), CapacityResource.VEHICLES
    )
    theirs = _gauge(
        _gauges(database, clock, _commander(database, clock, world.district.county_b)), CapacityResource.VEHICLES
    )

    assert (mine.used, mine.total, mine.parts["carrying_yours"]) == (1, 3, 1)
    assert (theirs.used, theirs.total, theirs.parts["carrying_yours"]) == (1, 3, 0)


# -- lab -----------------------------------------------------------------------------------------------


def _results(
    database: Database, clock: SimulatedClock, tubes: list[Tube], result: str = "negative", run: str = "RUN-1"
) -> None:
    tested = (clock.now() - timedelta(minutes=30)).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    received = (clock.now() - timedelta(hours=2)).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    rows = [result_row(t.barcode, result, tested_at=tested, received_at=received, run_id=run) for t in tubes]
    with context(database, clock) as ctx:
        record_results(ctx, rows, timezone=ZONE)


def test_a_lab_backlog_strains_alerts_when_the_labs_go_quiet_and_clears(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    people = make_people(database, clock, district.building_a, 6)
    tubes = [make_tube(database, clock, [person]) for person in people]
    clock.advance(timedelta(hours=3))
    _results(database, clock, tubes[:4])
    _results(database, clock, tubes[4:5], "invalid")  # an invalid run waits for a re-run
    strained = _gauge(_gauges(database, clock), CapacityResource.LAB)
    clock.advance(timedelta(hours=PROFILE.command.capacity.lab_window_hours + 1))
    quiet = _gauge(_gauges(database, clock), CapacityResource.LAB)
    _results(database, clock, tubes[4:], run="RUN-2")  # the re-run, and the last tube
    cleared = _gauge(_gauges(database, clock), CapacityResource.LAB)

    assert (strained.used, strained.total, strained.ratio, strained.status) == (2, 4, 0.5, GaugeStatus.STRAINED)
    assert (quiet.used, quiet.total, quiet.status) == (2, 0, GaugeStatus.ALERT)
    assert (cleared.used, cleared.total, cleared.status) == (0, 2, GaugeStatus.NORMAL)


def test_the_lab_gauge_is_the_labs_whole_load_with_your_peoples_tubes_as_a_part(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    make_tube(database, clock, make_people(database, clock, district.building_a, 3))
    make_tube(database, clock, make_people(database, clock, district.building_b, 2))
    make_tube(database, clock, make_people(database, clock, district.building_b, 2))

    mine = _gauge(_gauges(database, clock, _commander(database, clock, district.county_a)), CapacityResource.LAB)
    everyone = _gauge(_gauges(database, clock), CapacityResource.LAB)

    assert (mine.used, everyone.used) == (3, 3)  # the labs take every county's tubes
    assert (mine.parts["awaiting_yours"], everyone.parts["awaiting_yours"]) == (1, 3)


# -- tracing -------------------------------------------------------------------------------------------


def _case(database: Database, clock: SimulatedClock, district: District) -> None:
    confirm_case(database, clock, make_person(database, clock, district.building_a).id, district.building_a)


def test_investigators_and_the_tracing_task_force_carry_the_open_investigations(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    make_user(database, clock, Role.INVESTIGATOR, district.county_a)
    make_user(database, clock, Role.INVESTIGATOR, district.county_b)  # not ours
    helper = make_user(database, clock, Role.COMMUNITY_WORKER, district.county_a)
    _case(database, clock, district)
    county = _commander(database, clock, district.county_a)
    alone = _gauge(_gauges(database, clock, county), CapacityResource.TRACING)
    incident = activate(database, clock, district.county_a)
    with context(database, clock) as ctx:
        command.add_member(ctx, incident.id, "tracing", MemberIn(user_id=user_id(database, helper)))
    helped = _gauge(_gauges(database, clock, county), CapacityResource.TRACING)

    assert (alone.used, alone.total, alone.parts["investigators"], alone.status) == (1, 1, 1, GaugeStatus.ALERT)
    assert (helped.used, helped.total, helped.ratio, helped.status) == (1, 2, 0.5, GaugeStatus.NORMAL)


def test_open_investigations_with_no_investigator_are_an_alert(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    _case(database, clock, district)

    tracing = _gauge(_gauges(database, clock), CapacityResource.TRACING)

    assert (tracing.used, tracing.total, tracing.ratio, tracing.status) == (1, 0, 1.0, GaugeStatus.ALERT)


# -- reading -------------------------------------------------------------------------------------------


def test_a_quiet_deployment_shows_four_normal_gauges(database: Database, clock: SimulatedClock) -> None:
    make_district(database, clock)

    found = _gauges(database, clock)

    assert [g.resource for g in found.gauges] == list(CapacityResource)
    assert {(g.used, g.total, g.ratio, g.status) for g in found.gauges} == {(0, 0, 0.0, GaugeStatus.NORMAL)}


def test_the_gauges_take_a_few_queries_however_many_sites_tubes_and_vehicles(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    for n in range(5):
        add_site(database, clock, f"隔离点{n}", (30.04, 120.87), {CLOSE: 20})
        add_vehicle(database, clock)
        make_tube(database, clock, make_people(database, clock, district.building_a, 2))
    commander = _commander(database, clock, district.county_a)

    with count_statements(database) as statements:
        _gauges(database, clock, commander, jurisdiction_id=district.county_a)

    assert len(statements) <= 12


def test_reading_the_gauges_needs_read_tracing(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    lab = actor(database, clock, make_user(database, clock, Role.LAB, district.county_a))

    with pytest.raises(Forbidden):
        _gauges(database, clock, lab)


def test_the_api_shows_your_gauges_and_refuses_a_jurisdiction_outside_yours(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    site = add_site(database, clock, "百官隔离酒店", (30.04, 120.87), {CLOSE: 20})
    _admit(database, clock, site, 17)
    headers = login(client, make_user(database, clock, Role.INVESTIGATOR, district.county_a))

    found = client.get("/api/capacity", headers=headers)
    outside = client.get(f"/api/capacity?jurisdiction_id={district.county_b}", headers=headers)

    assert found.status_code == 200
    rooms = next(g for g in found.json()["gauges"] if g["resource"] == "rooms")
    assert (rooms["used"], rooms["total"], rooms["status"]) == (17, 20, "strained")
    assert outside.status_code == 422
    assert "jurisdiction_id" in outside.text
