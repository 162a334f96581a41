"""People in stays at a site: delivered the way the loop brings them, or thousands at once for speed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from tests.factories import context, make_district
from tests.transfer.factories import PROFILE, TransferWorld, add_site, identify_contacts, make_transfer_world

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database, core_table
from bihuan.isolation import service as sites
from bihuan.isolation.choices import RoomStatus, StayStatus
from bihuan.isolation.models import IsolationStay, SiteFloor, SiteRoom
from bihuan.isolation.schemas import FloorCreate
from bihuan.people.models import Person
from bihuan.protocol import TransferCategory
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.service import dispatch, planning

CLOSE = TransferCategory.CLOSE_CONTACT


def deliver(database: Database, clock: SimulatedClock, people: list[int], category: TransferCategory) -> None:
    """Traced contacts planned, driven and handed over at a site, every batch of the plan."""
    identify_contacts(database, clock, people, category)
    with context(database, clock) as ctx:
        planning.plan(ctx, PROFILE, categories=[category])
    with database.session() as session:
        batch_ids = session.scalars(select(Batch.id).where(Batch.status == "planned")).all()
    for batch_id in batch_ids:
        with context(database, clock) as ctx:
            dispatch.dispatch(ctx, batch_id)
            aboard = ctx.session.scalars(select(BatchMember.person_id).where(BatchMember.batch_id == batch_id))
            for person in list(aboard):
                dispatch.pick_up(ctx, batch_id, person)
            dispatch.arrive(ctx, PROFILE, batch_id)


def world_with_floor(database: Database, clock: SimulatedClock, rooms: int = 6) -> tuple[TransferWorld, int]:
    """The transfer world with one close-contact floor (A-3) at its near site; returns it and the floor."""
    world = make_transfer_world(database, clock, far_places=0)
    with context(database, clock) as ctx:
        floor = sites.add_floor(
            ctx, PROFILE, world.near_site, FloorCreate(building="A", number=3, category=CLOSE, room_count=rooms)
        )
        return world, floor.id


@dataclass(frozen=True)
class StayRef:
    stay_id: int
    person_id: int
    room_id: int


def stays_at(database: Database, site_id: int) -> list[StayRef]:
    """The site's open stays (with a room), by room."""
    with database.session() as session:
        rows = session.execute(
            select(IsolationStay.id, IsolationStay.person_id, IsolationStay.room_id)
            .where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
            .order_by(IsolationStay.room_id, IsolationStay.id)
        ).all()
    return [StayRef(int(s), int(p), int(r)) for s, p, r in rows]


def large_site(database: Database, clock: SimulatedClock, rooms: int, per_floor: int = 50) -> tuple[int, list[StayRef]]:
    """A site of `rooms` occupied rooms, one close contact each, built with Core inserts (no transfer)."""
    district = make_district(database, clock)
    site_id = add_site(database, clock, "大型隔离点", (30.04, 120.87), {CLOSE: 0})
    now = clock.now()
    with database.session() as session:
        floors = -(-rooms // per_floor)
        session.execute(
            insert(core_table(SiteFloor)),
            [{"site_id": site_id, "building": "A", "number": n + 1, "category": CLOSE.value} for n in range(floors)],
        )
        floor_ids = session.scalars(select(SiteFloor.id).where(SiteFloor.site_id == site_id).order_by(SiteFloor.number))
        session.execute(
            insert(core_table(SiteRoom)),
            [
                {
                    "site_id": site_id,
                    "floor_id": floor_id,
                    "number": f"{n + 1}{i + 1:02d}",
                    "private_bathroom": True,
                    "accessible": False,
                    "status": RoomStatus.OCCUPIED.value,
                }
                for n, floor_id in enumerate(list(floor_ids))
                for i in range(min(per_floor, rooms - n * per_floor))
            ],
        )
        session.execute(
            insert(core_table(Person)),
            [
                {
                    "name": f"隔离{site_id}-{i}",
                    "sex": "F",
                    "birth_date": date(1980, 1, 1),
                    "nationality": "CHN",
                    "jurisdiction_id": district.building_a,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(rooms)
            ],
        )
        person_ids = session.scalars(select(Person.id).where(Person.name.like(f"隔离{site_id}-%")).order_by(Person.id))
        room_ids = session.scalars(select(SiteRoom.id).where(SiteRoom.site_id == site_id).order_by(SiteRoom.id))
        session.execute(
            insert(core_table(IsolationStay)),
            [
                {
                    "person_id": person_id,
                    "open_person_id": person_id,
                    "jurisdiction_id": district.building_a,
                    "site_id": site_id,
                    "room_id": room_id,
                    "category": CLOSE.value,
                    "status": StayStatus.IN_STAY.value,
                    "started_at": now,
                }
                for person_id, room_id in zip(list(person_ids), list(room_ids), strict=True)
            ],
        )
    return site_id, stays_at(database, site_id)
