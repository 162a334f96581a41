"""A small transfer world: a district with coordinates, households at addresses, sites in two cities, vehicles.

People enter the queue the way the loop puts them there: a ``contact_identified`` or
``case_confirmed`` event, after whose commit the grouping reaction queues them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from tests.factories import District, context, make_district, make_person, new_resident_id

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import make_event, record_many
from bihuan.isolation import service as sites
from bihuan.isolation.schemas import PlacesIn, SiteCreate
from bihuan.people import service as people
from bihuan.people.schemas import AddressCreate, HouseholdCreate
from bihuan.protocol import DestinationKind, TransferCategory, load_profile
from bihuan.transfer.choices import VehicleKind
from bihuan.transfer.schemas import VehicleCreate
from bihuan.transfer.service import vehicles

_codes = itertools.count(1)
# Shangyu (上虞) and two places around it: the home city's sites and one in another city.
SHANGYU = (30.03, 120.87)
SHAOXING = (30.00, 120.58)  # about 28 km west
NINGBO = (29.87, 121.54)  # about 67 km east
# The profile that says which categories a site may take and what a vehicle carries by default.
PROFILE = load_profile("cn-8th-2021")


@dataclass(frozen=True)
class TransferWorld:
    district: District
    hospital: int
    near_site: int  # a quarantine site in Shangyu
    far_site: int  # a quarantine site in another city, within reach
    coach: int
    ambulance: int


def add_site(
    database: Database,
    clock: SimulatedClock,
    name: str,
    where: tuple[float, float],
    places: dict[TransferCategory, int],
    *,
    city: str = "上虞",
    kind: DestinationKind = DestinationKind.CENTRAL_QUARANTINE,
) -> int:
    with context(database, clock) as ctx:
        site = sites.create_site(
            ctx,
            PROFILE,
            SiteCreate(
                code=f"S{next(_codes):04d}",
                name=name,
                kind=kind,
                city=city,
                lat=where[0],
                lon=where[1],
                places=[PlacesIn(category=c, places=n) for c, n in places.items()],
            ),
        )
        return site.id


def add_vehicle(
    database: Database,
    clock: SimulatedClock,
    kind: VehicleKind = VehicleKind.COACH,
    seats: int = 44,
    where: tuple[float, float] = SHANGYU,
) -> int:
    with context(database, clock) as ctx:
        data = VehicleCreate(code=f"V{next(_codes):04d}", kind=kind, seats=seats, lat=where[0], lon=where[1])
        return vehicles.create_vehicle(ctx, PROFILE, data).id


def make_transfer_world(
    database: Database, clock: SimulatedClock, *, near_places: int = 50, far_places: int = 50
) -> TransferWorld:
    district = make_district(database, clock)
    return TransferWorld(
        district=district,
        hospital=add_site(
            database,
            clock,
            "上虞人民医院",
            SHANGYU,
            {TransferCategory.CONFIRMED: 20},
            kind=DestinationKind.DESIGNATED_HOSPITAL,
        ),
        near_site=add_site(
            database,
            clock,
            "百官隔离酒店",
            (SHANGYU[0] + 0.01, SHANGYU[1]),
            {TransferCategory.CLOSE_CONTACT: near_places, TransferCategory.SECONDARY_CONTACT: near_places},
        ),
        far_site=add_site(
            database,
            clock,
            "宁波隔离点",
            NINGBO,
            {TransferCategory.CLOSE_CONTACT: far_places, TransferCategory.SECONDARY_CONTACT: far_places},
            city="宁波",
        ),
        coach=add_vehicle(database, clock),
        ambulance=add_vehicle(database, clock, VehicleKind.AMBULANCE, seats=2),
    )


def make_household(
    database: Database,
    clock: SimulatedClock,
    jurisdiction_id: int,
    size: int,
    *,
    where: tuple[float, float] = SHANGYU,
    births: list[date] | None = None,
) -> list[int]:
    """A household of `size` people at an address with coordinates; returns their person ids."""
    with context(database, clock) as ctx:
        code = next(_codes)
        address = people.create_address(
            ctx,
            AddressCreate(
                code=f"A{code:05d}", jurisdiction_id=jurisdiction_id, text=f"龙山路{code}号", lat=where[0], lon=where[1]
            ),
        )
        household = people.create_household(
            ctx, HouseholdCreate(code=f"H{code:05d}", jurisdiction_id=jurisdiction_id, address_id=address.id)
        )
    dates = births or [date(1980, 1, 1)] * size
    return [
        make_person(
            database,
            clock,
            jurisdiction_id,
            name=f"居民{code}-{i}",
            household_id=household.id,
            resident_id=new_resident_id(birth=dates[i]),
        ).id
        for i in range(size)
    ]


def identify_contacts(
    database: Database, clock: SimulatedClock, person_ids: list[int], category: TransferCategory, case_id: int = 1
) -> None:
    """Contacts as tracing reports them: one ``contact_identified`` event each, in one commit."""
    with context(database, clock) as ctx:
        record_many(
            ctx,
            [
                make_event(
                    ctx,
                    EventKind.CONTACT_IDENTIFIED,
                    person_id=person_id,
                    subject_type="contact",
                    subject_id=person_id,
                    refs={"case": case_id},
                    payload={"category": category.value},
                )
                for person_id in person_ids
            ],
        )
