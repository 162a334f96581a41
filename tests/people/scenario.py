"""A register of two counties, each with an address, a household, a venue and a person, for scope tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tests.factories import District, context, make_district, make_person, new_resident_id

from bihuan.core.clock import Clock
from bihuan.core.db import Database
from bihuan.people import service
from bihuan.people.choices import VenueKind
from bihuan.people.schemas import AddressCreate, HouseholdCreate, VenueCreate


@dataclass(frozen=True)
class County:
    """What one county of the scenario holds."""

    id: int
    building: int
    address: int
    household: int
    venue: int
    person: int
    person_name: str
    resident_id: str
    phone: str


@dataclass(frozen=True)
class TwoCounties:
    district: District
    a: County  # 上虞区 330604
    b: County  # 越城区 330602


def _county(database: Database, clock: Clock, tag: str, county: int, building: int, name: str, phone: str) -> County:
    region = "330604" if tag == "a" else "330602"
    with context(database, clock) as ctx:
        address = service.create_address(
            ctx, AddressCreate(code=f"ADDR-{tag}", jurisdiction_id=building, text=f"{tag} 1幢101室")
        )
        household = service.create_household(
            ctx, HouseholdCreate(code=f"HH-{tag}", jurisdiction_id=building, address_id=address.id)
        )
        venue = service.create_venue(
            ctx, VenueCreate(code=f"V-{tag}", name=f"{tag} 农贸市场", kind=VenueKind.MARKET, jurisdiction_id=building)
        )
    resident_id = new_resident_id(region, date(1980, 5, 17), "M")
    person = make_person(
        database,
        clock,
        building,
        name=name,
        resident_id=resident_id,
        phone=phone,
        household_id=household.id,
        address_id=address.id,
    )
    return County(county, building, address.id, household.id, venue.id, person.id, name, resident_id, phone)


def make_two_counties(database: Database, clock: Clock) -> TwoCounties:
    district = make_district(database, clock)
    a = _county(database, clock, "a", district.county_a, district.building_a, "陈上虞", "13812345678")
    b = _county(database, clock, "b", district.county_b, district.building_b, "李越城", "13987654321")
    return TwoCounties(district, a, b)
