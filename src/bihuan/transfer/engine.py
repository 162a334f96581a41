"""The transfer planner (快编组、快转运): group travellers, assign sites, route and chain vehicle trips.

Pure: plain values in, a :class:`TransferPlan` out; no database and no number of its own (every
threshold comes in :class:`PlanRules`, from the protocol profile). It never raises on infeasibility:
who cannot go is listed in ``unplaced`` with a reason.

Steps of :func:`plan_transfers`: 1) travel units per (household, category); units no vehicle can carry
are unplaced; 2) vehicle loads of neighbouring units by a capacitated sweep (``bihuan.grouping.engine``),
per category, or per site for units with their own destination; 3) loads sent to sites by an OR-Tools
min-cost flow rounded to whole loads (``_assignment``); 4) stops ordered, exactly or by OR-Tools routing
(``_routing``); 5) trips chained onto vehicles, priority loads and long trips first, each to the vehicle
that reaches its first pickup earliest; trips that cannot end within the horizon are unplaced. Steps 2-5
run for a few load sizes (the fleet's places quartiles) and the best plan is kept.
:func:`greedy_plan` is the baseline a dispatcher without the planner would follow.

Measured on ``benchmarks/transfer_plan.py`` (20,000 people, 300 sites, 500 vehicles; 2-core machine),
total plan 7.3 s, vehicle-km 100,967 against the greedy baseline's 152,043 (0.66):

- Grouping first is what pays: loads of neighbours (<= 3 km) instead of vehicles filled in queue order.
  The flow itself gains little on this instance: sending each load to the nearest site with room instead
  gives 101,522 km (+0.5 %). On a small tight instance (59 loads, 24 sites) the flow's rounding was 16 %
  above the flow's fractional bound on the site legs, CP-SAT 5 % after 30 s; on the full instance CP-SAT
  after 30 s was 25 % worse than the rounded flow (0.14 s), so the flow is used.
- The load size matters most: loads of 26 fit only 53-seat coaches and left 10,764 people past the horizon;
  24 gave 99.9 k km, 22 gave 111 k, 16 gave 116 k. Hence the quartile candidates, ~1.5 s each.
- Routing (1,169 loads of ~7 stops): OR-Tools with its default greedy descent 1.2 s, 53,064 km from first
  pickup to site; first solution only 0.8 s, 53,787 km; stops as listed 55,438 km.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from bihuan.grouping.engine import Traveller, TravelUnit, VehicleLoad, form_units
from bihuan.protocol import TransferRules
from bihuan.transfer._assignment import Missed, assign_sites
from bihuan.transfer._baseline import assign_nearest, queue_order, queue_trips
from bihuan.transfer._routing import Booking, Fleet, RoutedLoad, route

DEFAULT_TIME_LIMIT_S = 30.0


@dataclass(frozen=True, slots=True)
class Site:
    """A destination with free places by category: a central quarantine site or a designated hospital, in any city."""

    site_id: int
    lat: float
    lon: float
    free: Mapping[str, int]
    city: str = ""


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A coach, bus or ambulance where it is (its depot, or where its last trip ends) and from when it is free
    (minutes after the plan start); ``categories`` None carries any category."""

    vehicle_id: int
    seats: int
    lat: float
    lon: float
    categories: frozenset[str] | None = None
    free_from_minute: float = 0.0


@dataclass(frozen=True, slots=True)
class PlanRules:
    """The numbers the planner needs, all from the protocol profile (no number lives in the engine)."""

    seat_fraction: float
    pickup_spread_km: float
    max_reach_km: float
    road_factor: float
    speed_kmh: float
    stop_minutes: float
    long_wait_minutes: float
    horizon_minutes: float

    @classmethod
    def from_profile(cls, rules: TransferRules) -> PlanRules:
        """The engine's numbers from a profile's transfer section."""
        return cls(
            seat_fraction=rules.seat_fraction,
            pickup_spread_km=rules.pickup_spread_km,
            max_reach_km=rules.max_reach_km,
            road_factor=rules.road_factor,
            speed_kmh=rules.speed_kmh,
            stop_minutes=rules.stop_minutes,
            long_wait_minutes=rules.long_wait_hours * 60,
            horizon_minutes=rules.horizon_hours * 60,
        )


@dataclass(frozen=True, slots=True)
class Stop:
    """A pickup point of a trip and who boards there."""

    lat: float
    lon: float
    person_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Trip:
    """One vehicle's run: from where it was, through its pickups in order, to one site with one category."""

    vehicle_id: int
    sequence: int
    site_id: int
    category: str
    stops: tuple[Stop, ...]
    km: float
    start_minute: float
    end_minute: float

    @property
    def person_ids(self) -> tuple[int, ...]:
        """Everyone on board, in pickup order."""
        return tuple(pid for stop in self.stops for pid in stop.person_ids)


class UnplacedReason(StrEnum):
    """Why someone is not in the plan."""

    NO_ROOM_WITHIN_REACH = "no_room_within_reach"
    HOUSEHOLD_TOO_LARGE = "household_too_large"
    NO_VEHICLE = "no_vehicle"


@dataclass(frozen=True, slots=True)
class Unplaced:
    """A person left in the queue, why, and a readable detail."""

    person_id: int
    reason: UnplacedReason
    detail: str


@dataclass(frozen=True)
class TransferPlan:
    """The trips of one planning run and who could not be placed."""

    trips: tuple[Trip, ...]
    unplaced: tuple[Unplaced, ...]
    total_km: float
    makespan_minutes: float
    solver: str
    seconds: float

    def site_load(self) -> dict[int, dict[str, int]]:
        """People sent per site and category."""
        load: dict[int, Counter[str]] = {}
        for trip in self.trips:
            load.setdefault(trip.site_id, Counter())[trip.category] += len(trip.person_ids)
        return {site: dict(counts) for site, counts in load.items()}

    @property
    def placed(self) -> int:
        """People on a trip."""
        return sum(len(trip.person_ids) for trip in self.trips)

    @property
    def vehicles_used(self) -> int:
        """Distinct vehicles with at least one trip."""
        return len({trip.vehicle_id for trip in self.trips})

    def unplaced_by_reason(self) -> dict[UnplacedReason, int]:
        """How many people are unplaced for each reason."""
        return dict(Counter(item.reason for item in self.unplaced))


def places(vehicle: Vehicle, rules: PlanRules) -> int:
    """Passengers allowed under the distancing rule: floor(seats x seat_fraction)."""
    return math.floor(vehicle.seats * rules.seat_fraction)


def largest_places(vehicles: Sequence[Vehicle], rules: PlanRules, category: str) -> int:
    """The most passengers any vehicle able to carry the category may take (0: none can)."""
    able = [places(v, rules) for v in vehicles if v.categories is None or category in v.categories]
    return max(able, default=0)


def plan_transfers(
    travellers: Sequence[Traveller],
    sites: Sequence[Site],
    vehicles: Sequence[Vehicle],
    rules: PlanRules,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> TransferPlan:
    """Group, assign sites and route vehicles (快编组、快转运): minimise total travel under capacity, category and
    household rules.

    The load size is chosen among the fleet's places (quartiles per category): each is planned and the plan
    placing the most people, then driving the fewest km, is kept. Candidates after half of ``time_limit_s``
    are skipped, and stops are ordered by OR-Tools only while the time limit lasts.
    """
    started = time.perf_counter()
    units, unplaced, _ = carriable_units(form_units(travellers, rules.long_wait_minutes), vehicles, rules)
    best: TransferPlan | None = None
    for capacity in load_sizes(units, vehicles, rules):
        if best is not None and time.perf_counter() > started + time_limit_s / 2:
            break
        plan = _plan_with(units, list(unplaced), capacity, sites, vehicles, rules, started + time_limit_s)
        if best is None or (len(plan.unplaced), plan.total_km) < (len(best.unplaced), best.total_km):
            best = plan
    assert best is not None
    return replace(best, seconds=time.perf_counter() - started)


def load_sizes(units: Sequence[TravelUnit], vehicles: Sequence[Vehicle], rules: PlanRules) -> list[dict[str, int]]:
    """Candidate load sizes per category: the largest, upper-quartile, median and lower-quartile places of the
    vehicles able to carry it (never below the largest unit, so every unit fits)."""
    candidates: list[dict[str, int]] = []
    categories = sorted({unit.category for unit in units})
    largest_unit = {c: max(u.size for u in units if u.category == c) for c in categories}
    for quantile in (1.0, 0.75, 0.5, 0.25):
        sizes = {}
        for category in categories:
            able = sorted(places(v, rules) for v in vehicles if v.categories is None or category in v.categories)
            sizes[category] = max(largest_unit[category], able[math.ceil(quantile * (len(able) - 1))])
        if sizes not in candidates:
            candidates.append(sizes)
    return candidates or [{}]


def _plan_with(
    units: Sequence[TravelUnit],
    unplaced: list[Unplaced],
    capacity: Mapping[str, int],
    sites: Sequence[Site],
    vehicles: Sequence[Vehicle],
    rules: PlanRules,
    deadline: float,
) -> TransferPlan:
    """One planning run with the given load size per category."""
    started = time.perf_counter()
    loads, missed = assign_sites(units, sites, rules, capacity)
    unplaced += _no_room(missed)
    by_site = {site.site_id: site for site in sites}
    routed = [_route(load, by_site[load.site_id], rules, optimise=time.perf_counter() < deadline) for load in loads]
    routed.sort(key=lambda r: (-r.load.priority, -r.minutes))
    fleet = Fleet(vehicles, [places(v, rules) for v in vehicles])
    booked = [(load, fleet.book(load, rules)) for load in routed]
    return _plan(booked, unplaced, rules, "ortools min-cost flow + sweep + routing", started)


def greedy_plan(
    travellers: Sequence[Traveller], sites: Sequence[Site], vehicles: Sequence[Vehicle], rules: PlanRules
) -> TransferPlan:
    """The baseline: queue order, each household to the nearest site with room, vehicles filled in queue order
    with no grouping or routing."""
    started = time.perf_counter()
    units, unplaced, _ = carriable_units(form_units(travellers, rules.long_wait_minutes), vehicles, rules)
    queue = queue_order(units)
    placed, missed = assign_nearest(queue, sites, rules)
    unplaced += _no_room(missed)
    points = {site.site_id: (site.lat, site.lon) for site in sites}
    fleet = Fleet(vehicles, [places(v, rules) for v in vehicles])
    return _plan(queue_trips(queue, placed, points, fleet, rules), unplaced, rules, "greedy queue order", started)


def carriable_units(
    units: Sequence[TravelUnit], vehicles: Sequence[Vehicle], rules: PlanRules
) -> tuple[list[TravelUnit], list[Unplaced], dict[str, int]]:
    """The units some vehicle can carry whole, the people of the others, and the largest load per category."""
    capacity = {category: largest_places(vehicles, rules, category) for category in {u.category for u in units}}
    kept: list[TravelUnit] = []
    unplaced: list[Unplaced] = []
    for unit in units:
        largest = capacity[unit.category]
        if largest == 0:
            unplaced += _everyone(unit, UnplacedReason.NO_VEHICLE, f"no vehicle carries {unit.category}")
        elif unit.size > largest:
            detail = f"household of {unit.size} > largest vehicle for {unit.category} ({largest} places)"
            unplaced += _everyone(unit, UnplacedReason.HOUSEHOLD_TOO_LARGE, detail)
        else:
            kept.append(unit)
    return kept, unplaced, capacity


def _everyone(unit: TravelUnit, reason: UnplacedReason, detail: str) -> list[Unplaced]:
    return [Unplaced(pid, reason, detail) for pid in unit.person_ids]


def _no_room(missed: Sequence[Missed]) -> list[Unplaced]:
    return [item for unit, detail in missed for item in _everyone(unit, UnplacedReason.NO_ROOM_WITHIN_REACH, detail)]


def _route(load: VehicleLoad, site: Site, rules: PlanRules, *, optimise: bool) -> RoutedLoad:
    return route(load, (site.lat, site.lon), rules, optimise=optimise)


def _plan(
    booked: Sequence[tuple[RoutedLoad, Booking | float]],
    unplaced: list[Unplaced],
    rules: PlanRules,
    solver: str,
    started: float,
) -> TransferPlan:
    """The plan of the booked loads; loads no vehicle could finish within the horizon are unplaced."""
    trips: list[Trip] = []
    for load, booking in booked:
        if isinstance(booking, Booking):
            trips.append(_trip(load, booking))
        else:
            unplaced += _late(load, booking, rules)
    trips.sort(key=lambda trip: (trip.vehicle_id, trip.sequence))
    return TransferPlan(
        trips=tuple(trips),
        unplaced=tuple(unplaced),
        total_km=sum(trip.km for trip in trips),
        makespan_minutes=max((trip.end_minute for trip in trips), default=0.0),
        solver=solver,
        seconds=time.perf_counter() - started,
    )


def _trip(load: RoutedLoad, booking: Booking) -> Trip:
    return Trip(
        vehicle_id=booking.vehicle_id,
        sequence=booking.sequence,
        site_id=load.load.site_id,
        category=load.load.category,
        stops=tuple(Stop(point[0], point[1], people) for point, people in load.stops),
        km=booking.km,
        start_minute=booking.start_minute,
        end_minute=booking.end_minute,
    )


def _late(load: RoutedLoad, earliest_end: float, rules: PlanRules) -> list[Unplaced]:
    detail = (
        f"no vehicle free to reach site {load.load.site_id} within {rules.horizon_minutes:g} min"
        f" (earliest arrival at minute {earliest_end:.0f})"
    )
    return [item for unit in load.load.units for item in _everyone(unit, UnplacedReason.NO_VEHICLE, detail)]
