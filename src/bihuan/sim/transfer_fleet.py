"""The demo's transfer resources (快编组、快转运): quarantine sites in Shangyu and in nearby cities, a
designated hospital, and the transfer teams' vehicles — registered through the services, then the
queue planned and the first batches driven, as a command centre's first hours would go.

Site sizes follow the profile's capacity target (rooms per 10,000 residents) at home, with larger
hotels in the cities that took Shangyu's people in December 2021 (Shaoxing, Hangzhou, Ningbo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.isolation import service as sites
from bihuan.isolation.models import IsolationSite, SiteFloor
from bihuan.isolation.schemas import FloorCreate, PlacesIn, SiteCreate
from bihuan.protocol import DestinationKind, ProtocolProfile, TransferCategory
from bihuan.sim import _names
from bihuan.transfer.choices import VehicleKind
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.schemas import VehicleCreate
from bihuan.transfer.service import dispatch, planning, vehicles

HOME = (_names.COUNTY[3], _names.COUNTY[4])
# (code, name, city, lat, lon, rooms): cross-city sites (异地安置) of the source outbreak's neighbours.
OTHER_CITIES = (
    ("SX-KQ-01", "柯桥区集中隔离点", "绍兴", 30.08, 120.49, 1500),
    ("HZ-XS-01", "萧山区集中隔离点", "杭州", 30.16, 120.26, 2000),
    ("NB-YY-01", "余姚市集中隔离点", "宁波", 30.04, 121.15, 1500),
)
CONTACTS = (TransferCategory.CLOSE_CONTACT, TransferCategory.SECONDARY_CONTACT)
# (kind, seats, how many, categories): coaches and buses of the transfer teams, ambulances and
# negative-pressure buses for confirmed cases (a household of cases rides together in one).
CASES_ONLY = [TransferCategory.CONFIRMED]
FLEET = (
    (VehicleKind.COACH, 49, 30, None),
    (VehicleKind.BUS, 33, 20, None),
    (VehicleKind.AMBULANCE, 2, 6, None),
    (VehicleKind.BUS, 20, 4, CASES_ONLY),
)


@dataclass(frozen=True)
class TransferSummary:
    sites: int
    vehicles: int
    planned: int
    unplaced: int
    trips: int
    km: float
    arrived: int


def prepare_transfer(
    database: Database, profile: ProtocolProfile, population: int, now: datetime
) -> TransferSummary | None:
    """Register the demo's sites and fleet, plan the queue's confirmed cases and close contacts, drive two
    batches (one arrived, one on the road); None when the demo already has its sites."""
    clock = SimulatedClock(now)
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        if session.scalar(select(IsolationSite.id).limit(1)) is not None:
            return None
        _register_sites(ctx, profile, population)
        _register_fleet(ctx, profile)
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        run = planning.plan(ctx, profile, categories=[TransferCategory.CONFIRMED, TransferCategory.CLOSE_CONTACT])
        summary = (run.placed, len(run.unplaced), run.trips, run.total_km)
    arrived = _drive_first_batches(database, clock, profile)
    return TransferSummary(3 + len(OTHER_CITIES) + 1, sum(fleet[2] for fleet in FLEET), *summary, arrived)


def _register_sites(ctx: Ctx, profile: ProtocolProfile, population: int) -> None:
    home_rooms = max(profile.sites.rooms_per_10000_population * population // 10_000, 30)
    for index in range(3):
        rooms = home_rooms // 3
        where = (HOME[0] + 0.02 * (index - 1), HOME[1] + 0.015 * (index - 1))
        site = _site(ctx, profile, f"SY-HOTEL-{index + 1:02d}", f"上虞隔离酒店{index + 1}号", "上虞", where, rooms)
        _add_floors(ctx, profile, site)
    for code, name, city, lat, lon, rooms in OTHER_CITIES:
        _site(ctx, profile, code, name, city, (lat, lon), rooms)
    sites.create_site(
        ctx,
        profile,
        SiteCreate(
            code="SX-HOSP-01",
            name="绍兴市定点医院",
            kind=DestinationKind.DESIGNATED_HOSPITAL,
            city="绍兴",
            lat=30.00,
            lon=120.58,
            places=[PlacesIn(category=TransferCategory.CONFIRMED, places=300)],
        ),
    )


def _site(
    ctx: Ctx, profile: ProtocolProfile, code: str, name: str, city: str, where: tuple[float, float], rooms: int
) -> int:
    """A quarantine site with places for the contact categories the profile moves there: 2/3 of the rooms
    for close contacts and 1/3 for secondary contacts, or all of them for the only one moved."""
    moved = [c for c in CONTACTS if profile.transfer.destination_of(c) == DestinationKind.CENTRAL_QUARANTINE]
    shares = [rooms * 2 // 3, rooms // 3] if len(moved) == len(CONTACTS) else [rooms]
    places = [PlacesIn(category=c, places=n) for c, n in zip(moved, shares, strict=True)]
    data = SiteCreate(
        code=code,
        name=name,
        kind=DestinationKind.CENTRAL_QUARANTINE,
        city=city,
        lat=where[0],
        lon=where[1],
        places=places,
    )
    return sites.create_site(ctx, profile, data).id


ROOMS_PER_FLOOR = 12


def _add_floors(ctx: Ctx, profile: ProtocolProfile, site_id: int) -> None:
    """The home hotels are run room by room (快隔离): floors of 12 rooms, one category per floor, for the
    places each category was given."""
    [site] = [s for s in sites.list_sites(ctx) if s.id == site_id]
    floor = 2
    for places in site.places:
        for start in range(0, places.places, ROOMS_PER_FLOOR):
            count = min(ROOMS_PER_FLOOR, places.places - start)
            data = FloorCreate(building="A", number=floor, category=places.category, room_count=count)
            sites.add_floor(ctx, profile, site_id, data)
            floor += 1


def _register_fleet(ctx: Ctx, profile: ProtocolProfile) -> None:
    number = 0
    for kind, seats, count, categories in FLEET:
        for _ in range(count):
            number += 1
            depot = (HOME[0] + 0.03 * ((number % 5) - 2), HOME[1] + 0.03 * ((number % 3) - 1))
            data = VehicleCreate(
                code=f"SY-{kind.value[:2].upper()}-{number:03d}",
                plate=f"浙D·{10000 + number}",
                kind=kind,
                seats=seats,
                categories=categories,
                depot_text="上虞转运车队",
                lat=depot[0],
                lon=depot[1],
            )
            vehicles.create_vehicle(ctx, profile, data)


def _drive_first_batches(database: Database, clock: SimulatedClock, profile: ProtocolProfile) -> int:
    """The first batch to a home hotel (run room by room) is driven there; the next batch of another vehicle
    is on the road with half its people aboard."""
    with database.session() as session:
        first_trips = select(Batch.id, Batch.vehicle_id, Batch.site_id).where(Batch.sequence == 1)
        trips = list(session.execute(first_trips.order_by(Batch.planned_start, Batch.id)))
        with_rooms = set(session.scalars(select(SiteFloor.site_id)))
        arriving = next((trip for trip in trips if trip.site_id in with_rooms), trips[0] if trips else None)
        on_road = next(
            (trip for trip in trips if arriving is not None and trip.vehicle_id != arriving.vehicle_id), None
        )
        first_two = [trip.id for trip in (arriving, on_road) if trip is not None]
    arrived = 0
    for position, batch_id in enumerate(first_two):
        with database.session() as session:
            ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
            people = list(session.scalars(select(BatchMember.person_id).where(BatchMember.batch_id == batch_id)))
            dispatch.dispatch(ctx, batch_id)
            aboard = people if position == 0 else people[: len(people) // 2]
            for person_id in aboard:
                clock.advance(timedelta(minutes=3))
                dispatch.pick_up(ctx, batch_id, person_id)
            if position == 0:
                clock.advance(timedelta(minutes=25))
                dispatch.arrive(ctx, profile, batch_id)
                arrived = len(people)
    return arrived
