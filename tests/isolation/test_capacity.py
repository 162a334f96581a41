"""Capacity (床位): rooms by site, city and category, and the rooms expected to free on each day ahead
from the stays' plans, which the transfer planner counts on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.factories import context, count_statements, login, make_user
from tests.isolation.factories import deliver
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import PROFILE, TransferWorld, identify_contacts, make_household, make_transfer_world

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation import service as sites
from bihuan.isolation.models import IsolationStay, SiteRoom
from bihuan.isolation.schemas import CapacityPublic, ExpectedReleaseIn, FloorCreate, PlacesIn, RoomReserve
from bihuan.protocol import ContactCategory, ProtocolProfile, QuarantinePhase, TransferCategory, quarantine_plan
from bihuan.protocol import quarantine_schedule as schedule
from bihuan.transfer.service import planning

pytestmark = pytest.mark.usefixtures("cheap_argon2")
CLOSE, SECONDARY = TransferCategory.CLOSE_CONTACT, TransferCategory.SECONDARY_CONTACT
CENTRAL_DAYS = schedule(ContactCategory.CLOSE_CONTACT, PROFILE).phase_days(QuarantinePhase.CENTRAL)


def _with_sites(profile: ProtocolProfile, **rules: object) -> ProtocolProfile:
    return profile.model_copy(update={"sites": profile.sites.model_copy(update=rules)})


def _with_horizon(hours: int) -> ProtocolProfile:
    return PROFILE.model_copy(update={"transfer": PROFILE.transfer.model_copy(update={"horizon_hours": hours})})


def give_plans(database: Database, central_ends: dict[int, date]) -> None:
    """These people's open stays get the plan of a last exposure whose central phase ends on the day given,
    stored as tracing stores it (the loop's contacts here were identified without a traced exposure)."""
    with database.session() as session:
        stays = session.scalars(
            select(IsolationStay).where(
                IsolationStay.person_id.in_(central_ends), IsolationStay.open_person_id.is_not(None)
            )
        )
        for stay in stays:
            exposure = central_ends[stay.person_id] - timedelta(days=CENTRAL_DAYS)
            plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, exposure, PROFILE)
            stay.last_exposure = exposure
            stay.plan = {
                "last_exposure_date": exposure.isoformat(),
                "phases": [
                    {"phase": str(p.phase), "start": p.start.isoformat(), "end": p.end.isoformat()} for p in plan.phases
                ],
            }


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> TransferWorld:
    """Shangyu's hotel with a close-contact floor of 6 rooms and a secondary floor of 4; Ningbo's site counted
    without rooms (20 close-contact places)."""
    world = make_transfer_world(database, clock, far_places=20)
    with context(database, clock) as ctx:
        for number, category, rooms in ((3, CLOSE, 6), (4, SECONDARY, 4)):
            floor = FloorCreate(building="A", number=number, category=category, room_count=rooms)
            sites.add_floor(ctx, PROFILE, world.near_site, floor)
    return world


def _singles(database: Database, clock: SimulatedClock, world: TransferWorld, n: int) -> list[int]:
    return [p for _ in range(n) for p in make_household(database, clock, world.district.building_a, 1)]


def _capacity(database: Database, clock: SimulatedClock, profile: ProtocolProfile, days: int) -> CapacityPublic:
    with context(database, clock) as ctx:
        return sites.capacity(ctx, profile, today=clock.now().date(), days=days)


def test_capacity_by_site_city_and_category_adds_up_against_the_floors(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    deliver(database, clock, _singles(database, clock, world, 2), CLOSE)
    with context(database, clock) as ctx:
        [floor_3, _] = sites.list_floors(ctx, world.near_site)
        sites.reserve_rooms(ctx, world.near_site, RoomReserve(floor_id=floor_3.id, count=1, reserved_for="绍兴批次"))
        sites.set_places(ctx, PROFILE, world.far_site, PlacesIn(category=CLOSE, places=20, occupied=5))
    with database.session() as session:
        session.execute(
            update(SiteRoom)
            .where(SiteRoom.id == select(SiteRoom.id).where(SiteRoom.status == "free").limit(1).scalar_subquery())
            .values(status="out_of_service")
        )

    with count_statements(database) as statements:
        capacity = _capacity(database, clock, PROFILE, days=3)

    with context(database, clock) as ctx:
        floors = sites.list_floors(ctx, world.near_site)
    near = next(s for s in capacity.sites if s.id == world.near_site)
    for row in near.categories:
        on_floors = [f for f in floors if f.category == row.category]
        assert row.by_rooms
        assert (row.free, row.occupied, row.reserved, row.out_of_service) == (
            sum(f.free for f in on_floors),
            sum(f.occupied for f in on_floors),
            sum(f.reserved for f in on_floors),
            sum(f.out_of_service for f in on_floors),
        )
    [far] = [s.categories for s in capacity.sites if s.id == world.far_site]
    assert [(c.category, c.by_rooms, c.free, c.occupied) for c in far] == [
        (CLOSE, False, 15, 5),
        (SECONDARY, False, 20, 0),
    ]
    near_close = next(c for c in near.categories if c.category == CLOSE)
    assert (near_close.occupied, near_close.reserved) == (2, 1)
    [total_close] = [c for c in capacity.categories if c.category == CLOSE]
    assert (total_close.free, total_close.occupied) == (near_close.free + 15, 7)
    shangyu = next(c for c in capacity.cities if c.city == "上虞")
    assert {c.category: c.free for c in shangyu.categories} == {c.category: c.free for c in near.categories} | {
        TransferCategory.CONFIRMED: 20
    }
    assert capacity.days == [clock.now().date() + timedelta(days=n) for n in range(3)]
    assert len(statements) == 5


@pytest.mark.parametrize("on_last_day", [True, False])
def test_rooms_free_on_each_day_ahead_from_the_stays_plans(
    database: Database, clock: SimulatedClock, world: TransferWorld, on_last_day: bool
) -> None:
    today = clock.now().date()
    births = [date(1985, 1, 1), date(2016, 1, 1)]
    parent, child = make_household(database, clock, world.district.building_a, 2, births=births)
    soon, later, unknown, overdue = _singles(database, clock, world, 4)
    deliver(database, clock, [parent, child, soon, later, unknown, overdue], CLOSE)
    day = {n: today + timedelta(days=n) for n in range(-1, 4)}
    # The child's plan ends a day before the parent who cares for them: the room frees with the parent.
    give_plans(database, {soon: day[1], child: day[1], parent: day[2], later: day[3], overdue: day[-1]})
    profile = _with_sites(PROFILE, release_on_last_day=on_last_day)

    capacity = _capacity(database, clock, profile, days=5)

    [close] = [c for s in capacity.sites if s.id == world.near_site for c in s.categories if c.category == CLOSE]
    assert (close.free, close.occupied) == (1, 5)  # 6 rooms: parent and child share one
    shift = 0 if on_last_day else 1
    expected = {0: 1} | {n + shift: 1 for n in (1, 2, 3)}  # overdue: today; soon, the shared room, later
    assert [d.freeing for d in close.expected] == [expected.get(n, 0) for n in range(5)]
    assert [d.free for d in close.expected] == [1 + sum(expected.get(k, 0) for k in range(n + 1)) for n in range(5)]
    assert close.expected[-1].free == 5  # the stay with no plan frees nothing that can be counted on


def test_a_site_counted_without_rooms_expects_its_entered_releases_after_today(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    today = clock.now().date()
    with context(database, clock) as ctx:
        sites.set_places(ctx, PROFILE, world.far_site, PlacesIn(category=CLOSE, places=20, occupied=10))
        for days, places in ((0, 5), (1, 4), (2, 3), (9, 2)):
            release = ExpectedReleaseIn(category=CLOSE, on_date=today + timedelta(days=days), places=places)
            sites.expect_release(ctx, world.far_site, release)

    capacity = _capacity(database, clock, PROFILE, days=4)

    [close] = [c for s in capacity.sites if s.id == world.far_site for c in s.categories if c.category == CLOSE]
    assert [(d.freeing, d.free) for d in close.expected] == [(0, 10), (4, 14), (3, 17), (0, 17)]


def test_a_plan_counts_rooms_whose_stays_end_before_its_horizon_and_not_after(
    database: Database, clock: SimulatedClock
) -> None:
    world = make_transfer_world(database, clock, far_places=0)
    with context(database, clock) as ctx:
        floor = FloorCreate(building="A", number=3, category=CLOSE, room_count=2)
        sites.add_floor(ctx, PROFILE, world.near_site, floor)
    inside = _singles(database, clock, world, 2)
    deliver(database, clock, inside, CLOSE)
    tomorrow = clock.now().date() + timedelta(days=1)
    give_plans(database, dict.fromkeys(inside, tomorrow))  # released on their last day (cn-8th): tomorrow
    waiting = _singles(database, clock, world, 2)
    identify_contacts(database, clock, waiting, CLOSE)

    with context(database, clock) as ctx:
        today_only = planning.plan(ctx, _with_horizon(12), categories=[CLOSE])  # 00:00 UTC + 12 h: still today
        today_unplaced = {row["reason"] for row in today_only.unplaced}
    with context(database, clock) as ctx:
        past_tomorrow = planning.plan(ctx, _with_horizon(48), categories=[CLOSE])
        placed = past_tomorrow.placed

    assert today_only.placed == 0 and today_unplaced == {"no_room_within_reach"}
    assert placed == 2


def test_the_capacity_api_gives_the_days_asked(client: TestClient, database: Database, clock: SimulatedClock) -> None:
    world = make_transfer_world(database, clock)
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    worker = login(client, make_user(database, clock, Role.COMMUNITY_WORKER, world.district.county_a))

    response = client.get("/api/sites/capacity", params={"days": 3}, headers=manager)
    too_many = client.get("/api/sites/capacity", params={"days": 400}, headers=manager)
    refused = client.get("/api/sites/capacity", headers=worker)

    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["days"]) == 3 and {s["id"] for s in body["sites"]} == {
        world.hospital,
        world.near_site,
        world.far_site,
    }
    assert (too_many.status_code, refused.status_code) == (422, 403)


def test_rooms_reserved_through_the_api_show_in_the_capacity(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    [floor, _] = client.get(f"/api/sites/{world.near_site}/floors", headers=manager).json()

    floors = client.post(
        f"/api/sites/{world.near_site}/rooms/reserve",
        json={"floor_id": floor["id"], "count": 3, "reserved_for": "医护人员"},
        headers=manager,
    )
    both = client.post(
        f"/api/sites/{world.near_site}/rooms/reserve",
        json={"floor_id": floor["id"], "count": 1, "room_ids": [1], "reserved_for": "医护人员"},
        headers=manager,
    )
    capacity = client.get("/api/sites/capacity", params={"days": 1}, headers=manager).json()

    assert floors.status_code == 200, floors.text
    assert (floors.json()[0]["free"], floors.json()[0]["reserved"]) == (3, 3)
    assert both.status_code == 422
    [close] = [c for c in capacity["categories"] if c["category"] == "close_contact"]
    assert (close["reserved"], close["free"]) == (3, 3 + 20)  # and Ningbo's 20 places
