"""Transport records (乘坐交通工具记录): residents' plane, train, coach, bus and ship trips.

One row per traveller per trip (``TRIP_SCHEMA``), written per departure day like the scans. An
optional output with its own named random streams (``trips.*``), so turning it on changes nothing
else. A district's travellers share a few services a day, so a case's co-travellers are residents
too; seats never collide within a trip, and each flight has a crew of residents who fly once a day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from bihuan.protocol.choices import VehicleKind
from bihuan.sim._population import EPOCH, ROLE_WORKER, Population
from bihuan.sim._random import choice_cdf, stream
from bihuan.sim._scans import DAY_US, HOUR
from bihuan.tracing.sources import TRIP_SCHEMA


@dataclass(frozen=True, slots=True)
class Layout:
    """The seats of one kind of service, one entry per seat (null where the vehicle has no such part)."""

    row: pa.Array
    car: pa.Array
    compartment: pa.Array
    cabin: pa.Array

    @property
    def seats(self) -> int:
        return len(self.row)


_Seats = tuple[list[int | None], list[str | None], list[str | None], list[str | None]]
"""A stretch of seats as four lists: row, car, compartment, cabin."""


def _layout(parts: list[_Seats]) -> Layout:
    rows: list[int | None] = [value for part in parts for value in part[0]]
    names = [pa.array([value for part in parts for value in part[i]], pa.string()) for i in (1, 2, 3)]
    return Layout(pa.array(rows, pa.int32()), *names)


def _rows(rows: int, abreast: int, car: str | None = None) -> _Seats:
    """Seats in numbered rows, ``abreast`` to a row (in one train car, if given)."""
    n = rows * abreast
    return [s // abreast + 1 for s in range(n)], [car] * n, [None] * n, [None] * n


def _sleeper(compartments: int, berths: int, car: str) -> _Seats:
    """A soft-sleeper car (软卧): closed compartments of ``berths`` berths."""
    n = compartments * berths
    compartment: list[str | None] = [f"{s // berths + 1:02d}" for s in range(n)]
    return [None] * n, [car] * n, compartment, [None] * n


def _ship(cabins: int, berths: int, deck: int) -> _Seats:
    """Cabins of ``berths`` berths, then deck seats with no cabin."""
    n = cabins * berths + deck
    cabin: list[str | None] = [f"C{s // berths + 101}" for s in range(cabins * berths)]
    cabin += [None] * deck
    return [None] * n, [None] * n, [None] * n, cabin


PLANE = _layout([_rows(30, 6)])
SEAT_TRAIN = _layout([_rows(18, 5, f"{car:02d}") for car in range(1, 9)])
SLEEPER_TRAIN = _layout(
    [_sleeper(8, 4, f"{car:02d}") for car in range(1, 4)] + [_rows(18, 5, f"{car:02d}") for car in range(4, 9)]
)
COACH = _layout([_rows(12, 4)])
BUS = _layout([_rows(11, 4)])
SHIP = _layout([_ship(40, 4, 120)])


@dataclass(frozen=True, slots=True)
class Service:
    """A kind of scheduled service: number prefix, first number, departure hours, journey hours, seats."""

    kind: VehicleKind
    prefix: str
    number: int
    departs: tuple[float, float]
    hours: tuple[float, float]
    layout: Layout


SERVICES = (
    Service(VehicleKind.PLANE, "MU", 5101, (7.0, 21.0), (1.5, 3.5), PLANE),
    Service(VehicleKind.TRAIN, "G", 1301, (6.5, 20.0), (1.0, 6.0), SEAT_TRAIN),
    Service(VehicleKind.TRAIN, "Z", 41, (18.0, 22.5), (9.0, 13.0), SLEEPER_TRAIN),
    Service(VehicleKind.COACH, "KY", 1001, (7.0, 17.0), (2.0, 6.0), COACH),
    Service(VehicleKind.BUS, "CT", 201, (6.0, 18.0), (1.0, 3.0), BUS),
    Service(VehicleKind.SHIP, "SH", 11, (8.0, 20.0), (4.0, 12.0), SHIP),
)
"""Service types; a journey picks one with ``TripParams.service_weights`` (same order)."""


@dataclass(frozen=True, slots=True)
class TripParams:
    """How much residents travel: journeys per person-day, family parties, returns, services, loads, crews."""

    journeys_per_person_day: float = 0.002
    family_share: float = 0.35  # journeys made with household members, seated together
    max_party: int = 4
    return_share: float = 0.75
    stay_days: tuple[int, int] = (1, 6)
    service_weights: tuple[float, ...] = (0.25, 0.28, 0.12, 0.12, 0.13, 0.10)
    resident_load: float = 0.2  # residents fill about this share of a service's seats
    crew_per_flight: int = 5
    min_traveller_age: int = 1


@dataclass(frozen=True, slots=True)
class _Legs:
    """One entry per traveller per journey leg: who, their party (journey), service type and departure day."""

    person: np.ndarray
    party: np.ndarray
    service: np.ndarray
    day: np.ndarray

    def on(self, day: int, service: int) -> tuple[np.ndarray, np.ndarray]:
        """Travellers and their parties leaving on ``day`` with service type ``service``."""
        chosen = (self.day == day) & (self.service == service)
        return self.person[chosen], self.party[chosen]


def plan_trips(
    population: Population, start_date: date, days: int, seed: int, params: TripParams = TripParams()
) -> Iterator[tuple[date, pa.Table]]:
    """Trip rows per departure day, from day 0 to ``days - 1``, each day's rows ordered by trip and seat."""
    legs, crew_pool = _draw_legs(population, days, seed, params)
    for day in range(days):
        today = start_date + timedelta(days=day)
        rng = stream(seed, f"trips.day{day}")
        tables = [
            _service_rows(service, *legs.on(day, index), today, crew_pool, rng, params)
            for index, service in enumerate(SERVICES)
        ]
        yield today, pa.concat_tables([TRIP_SCHEMA.empty_table(), *tables])


def _draw_legs(population: Population, days: int, seed: int, params: TripParams) -> tuple[_Legs, np.ndarray]:
    """Every traveller's journey legs (out, and back within the period) and the crew pool for the flights."""
    rng = stream(seed, "trips.journeys")
    workers = (population.role == ROLE_WORKER) & (population.age >= 22) & (population.age < 50)
    candidates = rng.permutation(np.flatnonzero(workers))
    share = min(1.0, params.journeys_per_person_day * days)
    lead = np.flatnonzero((population.age >= params.min_traveller_age) & (rng.random(population.size) < share))
    person, journey = _parties(population, lead, rng.random(len(lead)) < params.family_share, params)
    service = choice_cdf(rng, np.array(params.service_weights), len(lead))[journey]
    out_day = rng.integers(0, days, len(lead))
    back_day = out_day + rng.integers(params.stay_days[0], params.stay_days[1] + 1, len(lead))
    back = ((rng.random(len(lead)) < params.return_share) & (back_day < days))[journey]
    legs = _Legs(
        person=np.concatenate([person, person[back]]),
        party=np.concatenate([journey, journey[back]]),
        service=np.concatenate([service, service[back]]),
        day=np.concatenate([out_day[journey], back_day[journey][back]]),
    )
    planes = [i for i, s in enumerate(SERVICES) if s.kind is VehicleKind.PLANE]
    flights = [
        _trip_count(int(np.isin(legs.service[legs.day == day], planes).sum()), SERVICES[planes[0]], params)
        for day in range(days)
    ]
    travelling = np.isin(candidates, person)
    return legs, candidates[~travelling][: max(flights, default=0) * params.crew_per_flight]


def _parties(
    population: Population, lead: np.ndarray, family: np.ndarray, params: TripParams
) -> tuple[np.ndarray, np.ndarray]:
    """Each journey's travellers (the lead, and household members on a family trip) with their journey index.

    A person in two parties travels with the first; babies under ``min_traveller_age`` stay home.
    """
    household = population.person_household[lead]
    first = population.household_start[household]
    members = np.diff(population.household_start)[household]
    size = np.where(family, np.minimum(members, params.max_party), 1)
    journey = np.repeat(np.arange(len(lead)), size)
    offset = np.arange(len(journey)) - np.repeat(np.cumsum(size) - size, size)
    person = first[journey] + (lead[journey] - first[journey] + offset) % members[journey]
    keep = np.zeros(len(person), dtype=bool)
    keep[np.unique(person, return_index=True)[1]] = True
    keep &= population.age[person] >= params.min_traveller_age
    return person[keep], journey[keep]


def _trip_count(passengers: int, service: Service, params: TripParams) -> int:
    """Services of one type run in a day for this many resident passengers, each about ``resident_load`` full."""
    per_service = max(1, int(service.layout.seats * params.resident_load))
    return -(-passengers // per_service)


def _service_rows(
    service: Service,
    passengers: np.ndarray,
    party: np.ndarray,
    today: date,
    crew_pool: np.ndarray,
    rng: np.random.Generator,
    params: TripParams,
) -> pa.Table:
    """One day's trips of one service type: parties spread over the services and seated together, with crews."""
    count = _trip_count(len(passengers), service, params)
    if count == 0:
        return TRIP_SCHEMA.empty_table()
    trip, seat = _seat_parties(party, count, service.layout.seats, rng)
    count = int(trip.max()) + 1
    day_us = (today - EPOCH).days * DAY_US
    departs = day_us + _five_minutes(rng, service.departs, count) * 60_000_000
    arrives = departs + _five_minutes(rng, service.hours, count) * 60_000_000
    names = np.array([f"{service.prefix}{service.number + t}-{today.isoformat()}" for t in range(count)])
    order = np.lexsort((seat, trip))
    trip, seat, passengers = trip[order], seat[order], passengers[order]
    table = _seated(service, names[trip], departs[trip], arrives[trip], passengers, seat)
    if service.kind is not VehicleKind.PLANE or params.crew_per_flight == 0:
        return table
    crew = rng.permutation(crew_pool)[: count * params.crew_per_flight]  # one flight a day each
    crew_trip = np.arange(len(crew)) // params.crew_per_flight
    crew_rows = _crew_rows(service, names[crew_trip], departs[crew_trip], arrives[crew_trip], crew)
    both = pa.concat_tables([table, crew_rows])
    key = np.concatenate([trip * 2, crew_trip * 2 + 1])
    return both.take(pa.array(np.argsort(key, kind="stable")))


def _seat_parties(party: np.ndarray, count: int, seats: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A trip and a seat for each traveller: parties spread evenly over ``count`` services (more if they
    do not fit) and seated in consecutive seats at random places, no seat taken twice."""
    parties, index, sizes = np.unique(party, return_inverse=True, return_counts=True)
    order = rng.permutation(len(parties))
    while True:
        trip_of_party = np.empty(len(parties), dtype=np.int64)
        trip_of_party[order] = np.arange(len(parties)) * count // len(parties)
        if np.bincount(trip_of_party, weights=sizes, minlength=count).max() <= seats:
            break
        count += 1
    first_seat = np.empty(len(parties), dtype=np.int64)
    for t in range(count):
        on_trip = np.flatnonzero(trip_of_party == t)
        first_seat[on_trip] = _block_starts(sizes[on_trip], seats, rng)
    return trip_of_party[index], first_seat[index] + _rank_within(index)


def _block_starts(sizes: np.ndarray, seats: int, rng: np.random.Generator) -> np.ndarray:
    """First seats of blocks of ``sizes`` consecutive seats placed at random among ``seats`` without overlap:
    the blocks and the free seats, shuffled, laid end to end."""
    units = np.concatenate([sizes, np.ones(seats - int(sizes.sum()), dtype=sizes.dtype)])
    order = rng.permutation(len(units))
    starts = np.empty(len(units), dtype=np.int64)
    starts[order] = np.cumsum(units[order]) - units[order]
    return starts[: len(sizes)]


def _rank_within(group: np.ndarray) -> np.ndarray:
    """Each entry's 0-based position among the entries of its group, in array order."""
    order = np.argsort(group, kind="stable")
    sorted_group = group[order]
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - np.searchsorted(sorted_group, sorted_group, side="left")
    return rank


def _five_minutes(rng: np.random.Generator, hours: tuple[float, float], n: int) -> np.ndarray:
    """Minutes (a time of day, or a duration) uniform in ``hours``, in whole five minutes."""
    lo, hi = hours
    return np.asarray((np.rint(rng.uniform(lo, hi, n) * HOUR / 300) * 5).astype(np.int64))


def _seated(
    service: Service, trip_id: np.ndarray, departs: np.ndarray, arrives: np.ndarray, who: np.ndarray, seat: np.ndarray
) -> pa.Table:
    """Passenger rows, each with the row, car, compartment and cabin of their seat."""
    seats = pa.array(seat)
    layout = service.layout
    taken = Layout(
        layout.row.take(seats), layout.car.take(seats), layout.compartment.take(seats), layout.cabin.take(seats)
    )
    return _table(service, trip_id, departs, arrives, who, taken, crew=False)


def _crew_rows(
    service: Service, trip_id: np.ndarray, departs: np.ndarray, arrives: np.ndarray, who: np.ndarray
) -> pa.Table:
    """Crew rows: no seat of their own, they serve the whole cabin."""
    none = pa.nulls(len(who), pa.string())
    return _table(
        service, trip_id, departs, arrives, who, Layout(pa.nulls(len(who), pa.int32()), none, none, none), crew=True
    )


def _table(
    service: Service,
    trip_id: np.ndarray,
    departs: np.ndarray,
    arrives: np.ndarray,
    who: np.ndarray,
    seats: Layout,
    *,
    crew: bool,
) -> pa.Table:
    n = len(who)
    columns = {
        "trip_id": pa.array(trip_id, pa.string()),
        "vehicle_kind": pa.array([str(service.kind)] * n, pa.string()),
        "departs_at": pa.array(departs, pa.timestamp("us")),
        "arrives_at": pa.array(arrives, pa.timestamp("us")),
        "person_key": pa.array(who, pa.int64()),
        "row": seats.row,
        "car": seats.car,
        "compartment": seats.compartment,
        "cabin": seats.cabin,
        "crew": pa.array(np.full(n, crew), pa.bool_()),
    }
    return pa.table(columns, schema=TRIP_SCHEMA)
