"""A small traced world for the investigation tests: a district, a household, venues, scans and cases.

Cases are written straight on the tables with their ``case_confirmed`` event, as the confirmation
workflow leaves them, so the tracing reaction (open the investigation, trace) runs for real.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from tests.factories import District, context, make_district, make_person

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import record
from bihuan.people import service as people
from bihuan.people.schemas import HouseholdCreate, VenueCreate
from bihuan.protocol import VenueKind, load_profile
from bihuan.screening.models import Case
from bihuan.tracing.service.runtime import TracingRuntime, configure
from bihuan.tracing.sources import ScanStore

ZONE = "Asia/Shanghai"
_codes = itertools.count(1)


def runtime_for_tests(
    database: Database, clock: SimulatedClock, data_dir: Path, *, auto_trace: bool = True
) -> TracingRuntime:
    """Tracing wired for a test database, as create_app wires it."""
    runtime = TracingRuntime(
        profile=load_profile("cn-8th-2021"),
        store=ScanStore.under(data_dir),
        timezone=ZONE,
        auto_trace=auto_trace,
    )
    configure(database, runtime)
    return runtime


@dataclass(frozen=True)
class World:
    """A case-to-be, the people around them and the venues they met at."""

    district: District
    case_person: int
    household_member: int
    colleague: int  # worked beside the case at the office for hours
    shopper: int  # at the supermarket with the case for 5 minutes (below the close-contact minutes)
    stranger: int  # at the supermarket on another day
    colleague_child: int  # lives with the colleague: a secondary contact
    office: int
    supermarket: int


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time as an aware UTC time."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def _household(database: Database, clock: SimulatedClock, jurisdiction_id: int) -> int:
    with context(database, clock) as ctx:
        return people.create_household(
            ctx, HouseholdCreate(code=f"HH{next(_codes):06d}", jurisdiction_id=jurisdiction_id)
        ).id


def make_venue(database: Database, clock: SimulatedClock, jurisdiction_id: int, kind: VenueKind, name: str) -> int:
    with context(database, clock) as ctx:
        venue = people.create_venue(
            ctx, VenueCreate(code=f"V{next(_codes):06d}", name=name, kind=kind, jurisdiction_id=jurisdiction_id)
        )
        return venue.id


def make_world(database: Database, clock: SimulatedClock) -> World:
    district = make_district(database, clock)
    where = district.building_a
    home = _household(database, clock, where)
    colleague_home = _household(database, clock, where)
    person = lambda **kw: make_person(database, clock, where, **kw).id  # noqa: E731
    return World(
        district=district,
        case_person=person(name="张伟", household_id=home),
        household_member=person(name="李娜", household_id=home),
        colleague=person(name="王强", household_id=colleague_home),
        shopper=person(name="刘洋"),
        stranger=person(name="陈静"),
        colleague_child=person(name="王小明", household_id=colleague_home),
        office=make_venue(database, clock, where, VenueKind.OFFICE, "百官写字楼"),
        supermarket=make_venue(database, clock, where, VenueKind.SUPERMARKET, "龙山超市"),
    )


def scan(person: int, venue: int, start: datetime, end: datetime) -> dict[str, object]:
    """One venue-scan row of the store (naive UTC)."""
    return {
        "person_key": person,
        "venue_id": venue,
        "time_in": start.astimezone(UTC).replace(tzinfo=None),
        "time_out": end.astimezone(UTC).replace(tzinfo=None),
    }


def world_scans(world: World) -> list[dict[str, object]]:
    """The week before the case's onset on 9 December 2021 (window opens 7 December under cn-8th)."""
    return [
        scan(world.case_person, world.office, utc(2021, 12, 8, 9), utc(2021, 12, 8, 17)),
        scan(world.colleague, world.office, utc(2021, 12, 8, 9, 30), utc(2021, 12, 8, 18)),
        scan(world.case_person, world.supermarket, utc(2021, 12, 8, 18, 30), utc(2021, 12, 8, 18, 50)),
        scan(world.shopper, world.supermarket, utc(2021, 12, 8, 18, 45), utc(2021, 12, 8, 19, 10)),
        scan(world.stranger, world.supermarket, utc(2021, 12, 6, 18, 30), utc(2021, 12, 6, 19)),
    ]


def write_scans(runtime: TracingRuntime, rows: list[dict[str, object]]) -> None:
    runtime.store.write_scans(pa.Table.from_pylist(rows))


def confirm_case(
    database: Database,
    clock: SimulatedClock,
    person_id: int,
    jurisdiction_id: int,
    *,
    onset: date | None = date(2021, 12, 9),
    sampled: date = date(2021, 12, 9),
) -> int:
    """A case as the confirmation workflow leaves it: a Case row and its ``case_confirmed`` event."""
    with context(database, clock) as ctx:
        case = Case(
            person_id=person_id,
            classification="confirmed" if onset else "asymptomatic",
            confirmed_at=clock.now(),
            first_positive_sampling_date=sampled,
            onset_date=onset,
            jurisdiction_id=jurisdiction_id,
        )
        ctx.session.add(case)
        ctx.session.flush()
        record(
            ctx,
            EventKind.CASE_CONFIRMED,
            person_id=person_id,
            jurisdiction_id=jurisdiction_id,
            subject_type="case",
            subject_id=case.id,
        )
        return case.id
