"""The transfer planner (快编组、快转运): nobody lost, no rule broken on random worlds, and a transfer day's stories."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.transfer.engine_factories import CONTACTS, RULES, Instance, city, instances, person, site, vehicle

from bihuan.grouping.engine import Traveller
from bihuan.transfer.engine import (
    PlanRules,
    Site,
    TransferPlan,
    Trip,
    UnplacedReason,
    Vehicle,
    greedy_plan,
    plan_transfers,
)

Planner = Callable[[list[Traveller], list[Site], list[Vehicle], PlanRules], TransferPlan]
PLANNERS: dict[str, Planner] = {"planner": plan_transfers, "greedy": greedy_plan}
EPS = 1e-6


def road_km(a: tuple[float, float], b: tuple[float, float], factor: float) -> float:
    """An independent haversine, times the road factor."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h))) * factor


def places(v: Vehicle, rules: PlanRules) -> int:
    return math.floor(v.seats * rules.seat_fraction)


def household_of(t: Traveller) -> tuple[str, str] | None:
    return None if t.household is None else (t.household, t.category)


def check_plan(plan: TransferPlan, world: Instance, *, grouped: bool) -> None:
    """Every hard rule of a transfer plan; ``grouped`` also checks the pickup spread within each trip."""
    rules, people = world.rules, {t.person_id: t for t in world.travellers}
    sites = {s.site_id: s for s in world.sites}
    vehicles = {v.vehicle_id: v for v in world.vehicles}
    on_trips = [pid for trip in plan.trips for pid in trip.person_ids]
    unplaced = [u.person_id for u in plan.unplaced]
    assert sorted(on_trips + unplaced) == sorted(people), "everyone exactly once"
    where: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for trip in plan.trips:
        check_trip(trip, world, people, sites, vehicles)
        if grouped:
            points = [(s.lat, s.lon) for s in trip.stops]
            assert all(road_km(a, b, rules.road_factor) <= rules.pickup_spread_km + EPS for a in points for b in points)
        for pid in trip.person_ids:
            if (key := household_of(people[pid])) is not None:
                where.setdefault(key, set()).add((trip.vehicle_id, trip.sequence))
    for item in plan.unplaced:
        if (key := household_of(people[item.person_id])) is not None:
            where.setdefault(key, set()).add((-1, -1))
    assert all(len(trips) == 1 for trips in where.values()), "a household never split"
    for site_id, load in plan.site_load().items():
        assert all(n <= sites[site_id].free.get(c, 0) for c, n in load.items()), "free places never exceeded"
    check_timetable(plan, rules)
    check_reasons(plan, world)


def check_trip(
    trip: Trip, world: Instance, people: dict[int, Traveller], sites: dict[int, Site], vehicles: dict[int, Vehicle]
) -> None:
    rules, v, destination = world.rules, vehicles[trip.vehicle_id], sites[trip.site_id]
    assert {people[pid].category for pid in trip.person_ids} == {trip.category}, "one category per trip"
    assert 0 < len(trip.person_ids) <= places(v, rules)
    assert v.categories is None or trip.category in v.categories
    for stop in trip.stops:
        assert (
            road_km((stop.lat, stop.lon), (destination.lat, destination.lon), rules.road_factor)
            <= rules.max_reach_km + EPS
        )
    for pid in trip.person_ids:
        assert people[pid].site_id in (None, trip.site_id), "a fixed destination is kept"


def check_timetable(plan: TransferPlan, rules: PlanRules) -> None:
    by_vehicle: dict[int, list[Trip]] = {}
    for trip in plan.trips:
        by_vehicle.setdefault(trip.vehicle_id, []).append(trip)
    for trips in by_vehicle.values():
        trips.sort(key=lambda t: t.sequence)
        assert [t.sequence for t in trips] == list(range(1, len(trips) + 1))
        assert trips[0].start_minute >= 0
        for before, after in itertools.pairwise(trips):
            assert after.start_minute >= before.end_minute - EPS, "a vehicle's trips never overlap"
        assert all(t.start_minute <= t.end_minute <= rules.horizon_minutes + EPS for t in trips)
    assert plan.total_km == pytest.approx(sum(t.km for t in plan.trips))


def check_reasons(plan: TransferPlan, world: Instance) -> None:
    """Households larger than every able vehicle are HOUSEHOLD_TOO_LARGE, categories nobody carries NO_VEHICLE."""
    sizes = Counter(household_of(t) for t in world.travellers if t.household is not None)
    reasons = {u.person_id: u.reason for u in plan.unplaced}
    for t in world.travellers:
        able = [places(v, world.rules) for v in world.vehicles if v.categories is None or t.category in v.categories]
        size = 1 if t.household is None else sizes[household_of(t)]
        if max(able, default=0) == 0:
            assert reasons.get(t.person_id) == UnplacedReason.NO_VEHICLE
        elif size > max(able):
            assert reasons.get(t.person_id) == UnplacedReason.HOUSEHOLD_TOO_LARGE
        else:
            assert reasons.get(t.person_id) != UnplacedReason.HOUSEHOLD_TOO_LARGE


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=instances())
def test_the_planner_keeps_every_rule_on_random_worlds(world: Instance) -> None:
    plan = plan_transfers(world.travellers, world.sites, world.vehicles, world.rules, time_limit_s=5)
    check_plan(plan, world, grouped=True)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=instances())
def test_the_greedy_baseline_keeps_every_rule_on_random_worlds(world: Instance) -> None:
    check_plan(greedy_plan(world.travellers, world.sites, world.vehicles, world.rules), world, grouped=False)


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_a_household_of_four_rides_together(name: str) -> None:
    family = [person(k, east_km=k * 0.1, household="王家") for k in range(1, 5)]
    others = [person(k, east_km=k * 0.2) for k in range(5, 25)]
    plan = PLANNERS[name](family + others, [site(1, 5, close_contact=30)], [vehicle(1, 20), vehicle(2, 20)], RULES)
    rides = [trip for trip in plan.trips if set(trip.person_ids) & {1, 2, 3, 4}]
    assert len(rides) == 1 and {1, 2, 3, 4} <= set(rides[0].person_ids)
    assert plan.unplaced == ()


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_a_confirmed_case_and_a_close_contact_of_one_household_ride_apart(name: str) -> None:
    case = person(1, "confirmed", household="李家")
    contact = person(2, "close_contact", household="李家")
    hospital, quarantine = site(1, 8, confirmed=5), site(2, -6, close_contact=5)
    fleet = [vehicle(1, 8, categories=frozenset({"confirmed"})), vehicle(2, 40, categories=CONTACTS)]
    plan = PLANNERS[name]([case, contact], [hospital, quarantine], fleet, RULES)
    ride = {pid: trip for trip in plan.trips for pid in trip.person_ids}
    assert (ride[1].site_id, ride[1].vehicle_id) == (1, 1)
    assert (ride[2].site_id, ride[2].vehicle_id) == (2, 2)


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_a_full_site_sends_people_to_the_next_city_within_reach(name: str) -> None:
    queue = [person(k, east_km=k * 0.1) for k in range(1, 7)]
    full, next_city, too_far = (
        site(1, 2, close_contact=0),
        site(2, 60, close_contact=10),
        site(3, -400, close_contact=50),
    )
    plan = PLANNERS[name](queue, [full, next_city, too_far], [vehicle(1, 50), vehicle(2, 50)], RULES)
    assert plan.site_load() == {2: {"close_contact": 6}}


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_short_room_leaves_people_unplaced_with_the_reason(name: str) -> None:
    queue = [person(k, north_km=k * 0.1) for k in range(1, 6)]
    plan = PLANNERS[name](queue, [site(1, 3, close_contact=3)], [vehicle(1, 50)], RULES)
    assert plan.placed == 3
    assert [u.reason for u in plan.unplaced] == [UnplacedReason.NO_ROOM_WITHIN_REACH] * 2


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_a_household_larger_than_every_vehicle_is_too_large(name: str) -> None:
    family = [person(k, household="张家") for k in range(1, 7)]
    plan = PLANNERS[name](family, [site(1, 3, close_contact=20)], [vehicle(1, 10)], RULES)
    assert plan.trips == ()
    assert {u.reason for u in plan.unplaced} == {UnplacedReason.HOUSEHOLD_TOO_LARGE}
    assert plan.unplaced[0].detail == "household of 6 > largest vehicle for close_contact (5 places)"


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_nobody_rides_without_a_vehicle_for_the_category_or_time_left(name: str) -> None:
    case = person(1, "confirmed")
    far_contact = person(2, east_km=5)
    ambulance_only = [vehicle(1, 40, categories=CONTACTS)]
    rules = PlanRules(0.5, 3, 300, 1.3, 40, 5, 360, horizon_minutes=10)
    plan = PLANNERS[name]([case, far_contact], [site(1, 50, confirmed=2, close_contact=2)], ambulance_only, rules)
    assert {u.person_id: u.reason for u in plan.unplaced} == {
        1: UnplacedReason.NO_VEHICLE,
        2: UnplacedReason.NO_VEHICLE,
    }


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_a_fixed_destination_is_the_only_destination(name: str) -> None:
    home = person(1, "returning", 40, site_id=2)
    full_home = person(2, "returning", 40, site_id=3)
    sites = [site(1, 41, returning=5), site(2, 0, returning=5), site(3, 1, returning=0)]
    plan = PLANNERS[name]([home, full_home], sites, [vehicle(1, 50)], RULES)
    assert [trip.site_id for trip in plan.trips] == [2]
    assert [(u.person_id, u.reason) for u in plan.unplaced] == [(2, UnplacedReason.NO_ROOM_WITHIN_REACH)]


def test_when_room_is_short_the_vulnerable_and_long_waiting_get_in_first() -> None:
    queue = [person(k, east_km=k * 0.3, waited_minutes=10) for k in range(1, 11)]
    queue[7] = person(8, east_km=2.1, vulnerable=True)
    queue[8] = person(9, east_km=2.4, vulnerable=True)
    queue[2] = person(3, east_km=0.9, waited_minutes=500)
    plan = plan_transfers(queue, [site(1, 3, close_contact=3)], [vehicle(1, 50)], RULES)
    assert sorted(pid for trip in plan.trips for pid in trip.person_ids) == [3, 8, 9]


@settings(max_examples=60, deadline=None)
@given(
    flags=st.lists(st.tuples(st.booleans(), st.floats(-8, 8), st.floats(-8, 8)), min_size=1, max_size=40),
    rooms=st.lists(st.integers(0, 10), min_size=1, max_size=4),
)
def test_short_room_goes_to_the_vulnerable_first(flags: list[tuple[bool, float, float]], rooms: list[int]) -> None:
    queue = [person(k, east_km=e, north_km=n, vulnerable=v) for k, (v, e, n) in enumerate(flags, start=1)]
    sites = [site(k, 5 * k, 0, close_contact=room) for k, room in enumerate(rooms, start=1)]
    plan = plan_transfers(queue, sites, [vehicle(1, 50), vehicle(2, 50), vehicle(3, 50)], RULES)
    placed = {pid for trip in plan.trips for pid in trip.person_ids}
    vulnerable = {t.person_id for t in queue if t.vulnerable}
    assert len(placed) == min(len(queue), sum(rooms))
    assert vulnerable <= placed or placed <= vulnerable


def test_when_vehicles_run_out_of_time_priority_trips_go_first() -> None:
    ordinary = [person(k, east_km=k * 0.05) for k in range(1, 6)]
    vulnerable = [person(k, north_km=-20 - k * 0.05, vulnerable=True) for k in range(6, 11)]
    rules = PlanRules(0.5, 3, 300, 1.3, 40, 5, 360, horizon_minutes=150)
    plan = plan_transfers(ordinary + vulnerable, [site(1, 20, close_contact=20)], [vehicle(1, 10)], rules)
    assert set(plan.trips[0].person_ids) == {6, 7, 8, 9, 10}
    assert {u.person_id for u in plan.unplaced} == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("name", sorted(PLANNERS))
def test_nothing_to_plan_or_nothing_to_plan_with_never_raises(name: str) -> None:
    planner = PLANNERS[name]
    assert planner([], [], [], RULES).trips == ()
    alone = planner([person(1), person(2, household="x")], [], [], RULES)
    assert {u.reason for u in alone.unplaced} == {UnplacedReason.NO_VEHICLE}
    no_sites = planner([person(1)], [], [vehicle(1)], RULES)
    assert [u.reason for u in no_sites.unplaced] == [UnplacedReason.NO_ROOM_WITHIN_REACH]


def test_the_planner_drives_fewer_km_than_the_greedy_dispatcher_on_a_city() -> None:
    world = city(2_000, seed=7)
    planned = plan_transfers(world.travellers, world.sites, world.vehicles, world.rules)
    greedy = greedy_plan(world.travellers, world.sites, world.vehicles, world.rules)
    check_plan(planned, world, grouped=True)
    check_plan(greedy, world, grouped=False)
    assert planned.placed >= greedy.placed == 2_000
    assert planned.total_km < 0.85 * greedy.total_km
