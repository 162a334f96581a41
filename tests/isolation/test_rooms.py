"""Floors and rooms: categories by floor, one person per room but for a carer, arrivals put in rooms,
rooms reserved (预留) and given back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from tests.factories import context
from tests.isolation.factories import deliver
from tests.transfer.factories import PROFILE, TransferWorld, make_household, make_transfer_world

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, FieldError
from bihuan.core.events import Event
from bihuan.isolation import service as sites
from bihuan.isolation.models import IsolationStay, SiteRoom
from bihuan.isolation.schemas import FloorCreate, ReservationRelease, RoomIn, RoomReserve
from bihuan.protocol import TransferCategory

CLOSE, SECONDARY = TransferCategory.CLOSE_CONTACT, TransferCategory.SECONDARY_CONTACT


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> TransferWorld:
    world = make_transfer_world(database, clock, far_places=0)
    with context(database, clock) as ctx:
        sites.add_floor(
            ctx, PROFILE, world.near_site, FloorCreate(building="A", number=3, category=CLOSE, room_count=6)
        )
        sites.add_floor(
            ctx, PROFILE, world.near_site, FloorCreate(building="A", number=4, category=SECONDARY, room_count=6)
        )
    return world


def _stays(database: Database) -> dict[int, IsolationStay]:
    with database.session() as session:
        rows = list(session.scalars(select(IsolationStay)))
        session.expunge_all()
    return {s.person_id: s for s in rows}


def _room_floor(database: Database, room_id: int | None) -> int:
    with database.session() as session:
        room = session.get(SiteRoom, room_id)
        assert room is not None
        return room.floor_id


def test_a_floors_rooms_are_the_sites_places_of_its_category(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    with context(database, clock) as ctx:
        sites.add_floor(
            ctx, PROFILE, world.near_site, FloorCreate(building="A", number=3, category=CLOSE, room_count=8)
        )
        [site] = [s for s in sites.list_sites(ctx) if s.id == world.near_site]
        floors = sites.list_floors(ctx, world.near_site)
    assert {p.category: p.places for p in site.places} == {CLOSE: 8, SECONDARY: 6}
    assert [(f.number, f.category, f.free) for f in floors] == [(3, CLOSE, 8), (4, SECONDARY, 6)]


def test_a_floor_cannot_change_category_nor_take_a_category_the_site_may_not(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    with context(database, clock) as ctx:
        with pytest.raises(Conflict, match="holds close_contact"):
            sites.add_floor(
                ctx, PROFILE, world.near_site, FloorCreate(building="A", number=3, category=SECONDARY, room_count=1)
            )
        with pytest.raises(FieldError) as refused:
            floor = FloorCreate(building="B", number=1, category=TransferCategory.CONFIRMED, room_count=1)
            sites.add_floor(ctx, PROFILE, world.near_site, floor)
    assert refused.value.field == "category" and "designated hospital" in refused.value.reason


def test_a_room_without_a_private_bathroom_is_refused(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    floor = FloorCreate.model_validate(
        {
            "building": "B",
            "number": 1,
            "category": CLOSE,
            "rooms": [{"number": "101"}, {"number": "102", "private_bathroom": False}],
        }
    )
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.add_floor(ctx, PROFILE, world.near_site, floor)
    assert refused.value.field == "rooms[1].private_bathroom"


def test_a_child_shares_a_room_with_one_parent_and_the_other_parent_has_their_own(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    births = [date(1985, 1, 1), date(1986, 1, 1), date(2016, 1, 1)]
    father, mother, child = make_household(database, clock, world.district.building_a, 3, births=births)
    deliver(database, clock, [father, mother, child], CLOSE)

    stays = _stays(database)
    assert stays[child].room_id == stays[father].room_id and stays[father].carer_for == child
    assert stays[mother].room_id not in (None, stays[child].room_id)
    assert len({_room_floor(database, stays[p].room_id) for p in (father, mother, child)}) == 1
    with database.session() as session:
        kinds = session.scalars(select(Event.kind).where(Event.person_id == child).order_by(Event.id)).all()
    assert kinds[-2:] == ["arrived", "isolation_started"]


def test_two_categories_never_share_a_floor_and_strangers_never_share_a_room(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    close = [p for _ in range(3) for p in make_household(database, clock, world.district.building_a, 1)]
    secondary = [p for _ in range(2) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, close, CLOSE)
    deliver(database, clock, secondary, SECONDARY)

    stays = _stays(database)
    close_floors = {_room_floor(database, stays[p].room_id) for p in close}
    secondary_floors = {_room_floor(database, stays[p].room_id) for p in secondary}
    assert close_floors.isdisjoint(secondary_floors)
    assert len({stays[p].room_id for p in close + secondary}) == 5
    with context(database, clock) as ctx:
        [site] = [s for s in sites.list_sites(ctx) if s.id == world.near_site]
    assert {p.category: (p.occupied, p.free) for p in site.places} == {CLOSE: (3, 3), SECONDARY: (2, 4)}


def test_moving_someone_into_a_strangers_room_or_another_categorys_floor_is_refused_naming_the_rule(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    first = make_household(database, clock, world.district.building_a, 1)
    second = make_household(database, clock, world.district.building_a, 1)
    secondary = make_household(database, clock, world.district.building_a, 1)
    deliver(database, clock, first + second, CLOSE)
    deliver(database, clock, secondary, SECONDARY)
    stays = _stays(database)

    with context(database, clock) as ctx:
        with pytest.raises(FieldError, match="two unrelated people never share a room"):
            sites.move_to_room(ctx, world.near_site, stays[second[0]].id, stays[first[0]].room_id or 0)
        with pytest.raises(FieldError, match="separated by floor"):
            sites.move_to_room(ctx, world.near_site, stays[first[0]].id, stays[secondary[0]].room_id or 0)


def test_a_room_out_of_service_is_refused_and_the_same_move_twice_is_harmless(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    person = make_household(database, clock, world.district.building_a, 1)
    deliver(database, clock, person, CLOSE)
    stay = _stays(database)[person[0]]
    with database.session() as session:
        broken, spare = session.scalars(
            select(SiteRoom).where(SiteRoom.floor_id == _room_floor(database, stay.room_id), SiteRoom.status == "free")
        ).all()[:2]
        broken.status = "out_of_service"
        broken_id, spare_id = broken.id, spare.id
    with context(database, clock) as ctx:
        with pytest.raises(FieldError, match="out_of_service"):
            sites.move_to_room(ctx, world.near_site, stay.id, broken_id)
        sites.move_to_room(ctx, world.near_site, stay.id, spare_id)
        sites.move_to_room(ctx, world.near_site, stay.id, spare_id)
    assert _stays(database)[person[0]].room_id == spare_id


def test_a_contact_confirmed_at_a_site_leaves_their_room_free_when_taken_to_hospital(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    person = make_household(database, clock, world.district.building_a, 1)
    deliver(database, clock, person, CLOSE)
    deliver(database, clock, person, TransferCategory.CONFIRMED)  # moved on from the hotel to the hospital

    with context(database, clock) as ctx:
        places = {s.id: {p.category: p.occupied for p in s.places} for s in sites.list_sites(ctx)}
    assert places[world.near_site][CLOSE] == 0
    assert places[world.hospital][TransferCategory.CONFIRMED] == 1
    with database.session() as session:
        stays = session.scalars(select(IsolationStay).where(IsolationStay.person_id == person[0])).all()
        assert sorted(s.status for s in stays) == ["in_stay", "moved_on"]


def _close_places(database: Database, clock: SimulatedClock, site_id: int) -> tuple[int, int]:
    with context(database, clock) as ctx:
        [site] = [s for s in sites.list_sites(ctx) if s.id == site_id]
    [close] = [p for p in site.places if p.category == CLOSE]
    return close.places, close.free


def test_rooms_reserved_on_a_floor_are_counted_apart_and_are_nobodys_place_until_released(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    with context(database, clock) as ctx:
        [floor, _] = sites.list_floors(ctx, world.near_site)
        hold = RoomReserve(floor_id=floor.id, count=2, reserved_for="绍兴市转来批次")
        sites.reserve_rooms(ctx, world.near_site, hold)
        sites.reserve_rooms(ctx, world.near_site, hold)  # sent again: still two
    with context(database, clock) as ctx:
        [reserved, _] = sites.list_floors(ctx, world.near_site)
    held_places = _close_places(database, clock, world.near_site)
    arriving = [p for _ in range(4) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, arriving, CLOSE)
    with database.session() as session:
        held_rooms = set(session.scalars(select(SiteRoom.id).where(SiteRoom.reserved_for == "绍兴市转来批次")))
    assert not held_rooms & {s.room_id for s in _stays(database).values()}
    with context(database, clock) as ctx:
        sites.release_reservation(ctx, world.near_site, ReservationRelease(reserved_for="绍兴市转来批次"))
    with context(database, clock) as ctx:
        [released, _] = sites.list_floors(ctx, world.near_site)

    assert (reserved.free, reserved.reserved) == (4, 2)
    assert held_places == (4, 4)  # a reserved room is not a place a plan may fill
    assert (released.free, released.occupied, released.reserved) == (2, 4, 0)
    assert _close_places(database, clock, world.near_site) == (6, 2)


def test_an_occupied_room_cannot_be_reserved_and_the_refusal_names_it(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    person = make_household(database, clock, world.district.building_a, 1)
    deliver(database, clock, person, CLOSE)
    stay = _stays(database)[person[0]]
    with database.session() as session:
        room = session.get(SiteRoom, stay.room_id)
        assert room is not None
        number, floor_id = room.number, room.floor_id
        free = select(SiteRoom.id).where(SiteRoom.floor_id == floor_id, SiteRoom.status == "free")
        spare_id = session.scalars(free).first()
        assert spare_id is not None
    with context(database, clock) as ctx:
        with pytest.raises(Conflict) as occupied:
            sites.reserve_rooms(
                ctx, world.near_site, RoomReserve(room_ids=[spare_id, stay.room_id or 0], reserved_for="医护人员")
            )
        with pytest.raises(Conflict, match="5 free rooms, not 6"):
            sites.reserve_rooms(ctx, world.near_site, RoomReserve(floor_id=floor_id, count=6, reserved_for="医护人员"))
    assert str(occupied.value) == f"room_ids[1]: room {number} is occupied"
    with context(database, clock) as ctx:
        assert [f.reserved for f in sites.list_floors(ctx, world.near_site)] == [0, 0]  # nothing half-reserved


def test_rooms_added_to_a_floor_later_continue_its_corridor(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    first = FloorCreate(building="A", number=5, category=CLOSE, rooms=[RoomIn(number="501"), RoomIn(number="502")])
    later = FloorCreate(building="A", number=5, category=CLOSE, rooms=[RoomIn(number="502"), RoomIn(number="503")])
    with context(database, clock) as ctx:
        sites.add_floor(ctx, PROFILE, world.near_site, first)
        sites.add_floor(ctx, PROFILE, world.near_site, later)
        rooms = select(SiteRoom.number, SiteRoom.position).where(SiteRoom.number.like("5%"))
        positions = dict(ctx.session.execute(rooms).all())
    assert positions == {"501": 1, "502": 2, "503": 3}
