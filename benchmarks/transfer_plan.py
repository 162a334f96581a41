"""Benchmark: the transfer planner (快编组、快转运) against a greedy dispatcher, on two scenarios.

1. A city's queue: --people (20,000) close contacts (~60 %), secondary contacts (~38 %) and confirmed
   cases (~2 %) in households of 1-5, living in neighbourhoods of a city ~30 km across; 300 sites in three
   cities (the home city and two others 60 and 100 km away) whose free places total 1.2x the demand but
   whose nearest places fill up (designated hospitals for the confirmed); 500 vehicles (coaches of 45-53
   seats, buses of 30-35, ambulances for the confirmed only) at depots around the home city.
2. The return home of 19,826 Shangyu people from ~60 quarantine sites in other cities to ~20 towns and
   streets (each person's town fixed by ``Traveller.site_id``), with the 524 vehicles Shangyu used (274
   coaches, 250 buses), planned day by day as the quarantine sites released their people over the 11 days
   from 28 December to 7 January (a site's cohort is released on one day; at most ~4,800 people a day),
   each day's plan within a 24-hour horizon from the depots; compared with the 1,176 trips actually made.

The rules are the benchmark's scenario (distancing at half the seats, pickups of one vehicle within 3 km,
sites within 300 road km, road km = 1.3 x straight km, 40 km/h, 5 min per stop, priority after 6 hours
waiting, a 24-hour horizon). Instances are generated in-process from --seed (numpy default_rng).

    python benchmarks/transfer_plan.py              # both scenarios, full size
    python benchmarks/transfer_plan.py --quick      # a small smoke run (a few seconds)
    python benchmarks/transfer_plan.py --people 50000 --seed 3

Targets: scenario 1 planned in <= 30 s with total vehicle-km <= 0.85x the greedy baseline's.
"""

from __future__ import annotations

from _environment import use_the_project_environment

use_the_project_environment()

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402

import numpy as np  # noqa: E402

from bihuan.grouping.engine import Traveller  # noqa: E402
from bihuan.protocol import load_profile  # noqa: E402
from bihuan.transfer.engine import (  # noqa: E402
    PlanRules,
    Site,
    TransferPlan,
    Vehicle,
    greedy_plan,
    plan_transfers,
)

RULES = PlanRules.from_profile(load_profile("cn-8th-2021").transfer)  # the shipped default profile's numbers
HOME = (30.03, 120.87)  # Shangyu
KM_PER_DEGREE = 111.195
CONTACTS = frozenset({"close_contact", "secondary_contact"})
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5)
HOUSEHOLD_MIX = (0.22, 0.30, 0.24, 0.15, 0.09)
ACTUAL_RETURN_TRIPS = 1_176
RETURN_PEOPLE = 19_826
RETURN_DAYS = 11


def offset(origin: tuple[float, float], east_km: float, north_km: float) -> tuple[float, float]:
    """The point ``east_km`` east and ``north_km`` north of ``origin``."""
    lat = origin[0] + north_km / KM_PER_DEGREE
    return lat, origin[1] + east_km / (KM_PER_DEGREE * math.cos(math.radians(origin[0])))


def scatter(rng: np.random.Generator, origin: tuple[float, float], radius_km: float) -> tuple[float, float]:
    """A uniform point in a disk of ``radius_km`` around ``origin``."""
    r, angle = radius_km * math.sqrt(rng.random()), rng.random() * 2 * math.pi
    return offset(origin, r * math.cos(angle), r * math.sin(angle))


def households(rng: np.random.Generator, people: int) -> list[int]:
    """Household sizes adding up to ``people``."""
    sizes: list[int] = []
    while sum(sizes) < people:
        sizes.append(min(int(rng.choice(HOUSEHOLD_SIZES, p=HOUSEHOLD_MIX)), people - sum(sizes)))
    return sizes


# -- scenario 1: a city's queue ---------------------------------------------------------------------


def city_queue(rng: np.random.Generator, people: int) -> list[Traveller]:
    """Households in ~40 neighbourhoods of the home city; ~2 % of people confirmed, the rest contacts."""
    centres = [scatter(rng, HOME, 15.0) for _ in range(max(4, people // 500))]
    travellers: list[Traveller] = []
    for number, size in enumerate(households(rng, people)):
        centre = centres[int(rng.integers(len(centres)))]
        home = offset(centre, rng.normal(0, 1.2), rng.normal(0, 1.2))
        category = "close_contact" if rng.random() < 0.61 else "secondary_contact"
        waited = float(rng.exponential(180.0))
        for _ in range(size):
            travellers.append(
                Traveller(
                    person_id=len(travellers) + 1,
                    category="confirmed" if rng.random() < 0.02 else category,
                    lat=home[0],
                    lon=home[1],
                    household=f"h{number}",
                    waited_minutes=waited,
                    vulnerable=bool(rng.random() < 0.12),
                )
            )
    return travellers


def city_sites(rng: np.random.Generator, travellers: Sequence[Traveller], per_city: int) -> list[Site]:
    """Sites in three cities (``per_city`` each, 4 of them hospitals): 40 % of the places in the home city, 35 % in
    a city 60 km away, 25 % in one 100 km away; 1.2x the demand of each category."""
    demand = {c: sum(t.category == c for t in travellers) for c in ("close_contact", "secondary_contact", "confirmed")}
    cities = (
        ("上虞", HOME, 0.40),
        ("绍兴", offset(HOME, -45, -40), 0.35),
        ("宁波", offset(HOME, 95, -30), 0.25),
    )
    sites: list[Site] = []
    hospitals = 4
    for city, centre, share in cities:
        weights = rng.uniform(0.5, 1.5, per_city - hospitals)
        for k in range(per_city):
            point = scatter(rng, centre, 12.0)
            if k < hospitals:
                free = {"confirmed": math.ceil(1.2 * share * demand["confirmed"] / hospitals)}
            else:
                w = weights[k - hospitals] / weights.sum()
                free = {c: math.ceil(1.2 * share * demand[c] * w) for c in CONTACTS}
            sites.append(Site(len(sites) + 1, point[0], point[1], free, city))
    return sites


def city_fleet(rng: np.random.Generator, vehicles: int) -> list[Vehicle]:
    """45 % coaches, 47 % buses, 8 % ambulances (confirmed only), at 10 depots around the home city."""
    depots = [scatter(rng, HOME, 12.0) for _ in range(10)]
    fleet: list[Vehicle] = []
    for number in range(vehicles):
        depot = depots[number % len(depots)]
        kind = rng.random()
        if kind < 0.45:
            seats, carries = int(rng.integers(45, 54)), CONTACTS
        elif kind < 0.92:
            seats, carries = int(rng.integers(30, 36)), CONTACTS
        else:
            seats, carries = int(rng.integers(6, 9)), frozenset({"confirmed"})
        fleet.append(Vehicle(number + 1, seats, depot[0], depot[1], carries))
    return fleet


# -- scenario 2: the return home -------------------------------------------------------------------


def return_days(rng: np.random.Generator, people: int) -> list[list[Traveller]]:
    """Each day's returning people: ~60 quarantine sites in other cities, each releasing its cohort on one day."""
    hubs = [offset(HOME, rng.uniform(-160, 160), rng.uniform(-120, 120)) for _ in range(6)]
    quarantine = [offset(hubs[k % len(hubs)], rng.normal(0, 6), rng.normal(0, 6)) for k in range(60)]
    cohort = rng.multinomial(people, rng.dirichlet(np.full(60, 4.0)))
    release = rng.permutation(np.arange(60) % RETURN_DAYS)
    days: list[list[Traveller]] = [[] for _ in range(RETURN_DAYS)]
    for site, size in enumerate(cohort):
        main_towns = rng.choice(20, 3, replace=False)
        for household in households(rng, int(size)):
            town = int(main_towns[0] if rng.random() < 0.7 else rng.choice(main_towns[1:]))
            day = days[int(release[site])]
            key = f"q{site}-{len(day)}"
            for _ in range(household):
                point = quarantine[site]
                day.append(Traveller(len(day) + 1, "returning", point[0], point[1], key, site_id=town + 1))
    return days


def return_fleet(rng: np.random.Generator) -> tuple[list[Vehicle], list[Site]]:
    """Shangyu's 524 vehicles (274 coaches, 250 buses) at its depots, and its 20 towns as destinations."""
    depots = [offset(HOME, rng.uniform(-8, 8), rng.uniform(-8, 8)) for _ in range(6)]
    towns = [offset(HOME, rng.uniform(-15, 15), rng.uniform(-15, 15)) for _ in range(20)]
    sizes = [int(rng.integers(45, 54)) for _ in range(274)] + [int(rng.integers(30, 36)) for _ in range(250)]
    fleet = [Vehicle(k + 1, seats, *depots[k % len(depots)]) for k, seats in enumerate(sizes)]
    sites = [Site(k + 1, lat, lon, {"returning": RETURN_PEOPLE}, "上虞") for k, (lat, lon) in enumerate(towns)]
    return fleet, sites


# -- the report --------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def summary(plan: TransferPlan) -> str:
    unplaced = ", ".join(f"{reason.value} {n:,}" for reason, n in sorted(plan.unplaced_by_reason().items())) or "none"
    return (
        f"{plan.placed:,} placed in {len(plan.trips):,} trips on {plan.vehicles_used:,} vehicles, "
        f"{plan.total_km:,.0f} vehicle-km, makespan {plan.makespan_minutes / 60:.1f} h, unplaced: {unplaced}"
    )


def city_benchmark(people: int, vehicles: int, sites_per_city: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    travellers = city_queue(rng, people)
    sites = city_sites(rng, travellers, sites_per_city)
    fleet = city_fleet(rng, vehicles)
    print(f"1. A city's queue — {len(travellers):,} people, {len(sites)} sites in 3 cities, {len(fleet)} vehicles")
    started = time.perf_counter()
    planned = plan_transfers(travellers, sites, fleet, RULES)
    seconds = time.perf_counter() - started
    greedy = greedy_plan(travellers, sites, fleet, RULES)
    ratio = planned.total_km / greedy.total_km
    trips = len(planned.trips) / len(greedy.trips)
    print(f"   planner: {summary(planned)}")
    print(f"   greedy:  {summary(greedy)}")
    print(
        f"   planning time: {seconds:.1f} s, greedy {greedy.seconds:.1f} s (target <= 30 s: {verdict(seconds <= 30)})"
    )
    print(
        f"   vehicle-km: {planned.total_km:,.0f} vs greedy {greedy.total_km:,.0f} -> {ratio:.2f}"
        f" (target <= 0.85: {verdict(ratio <= 0.85)})"
    )
    print(f"   trips: {len(planned.trips):,} vs greedy {len(greedy.trips):,} -> {trips:.2f}")
    print(
        f"   makespan: {planned.makespan_minutes / 60:.1f} h vs greedy {greedy.makespan_minutes / 60:.1f} h"
        f" -> {planned.makespan_minutes / greedy.makespan_minutes:.2f}"
    )


def return_benchmark(people: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = [day for day in return_days(rng, people) if day]
    fleet, towns = return_fleet(rng)
    print(f"2. The return home — {people:,} people over {len(days)} days to {len(towns)} towns, {len(fleet)} vehicles")
    started = time.perf_counter()
    plans = [plan_transfers(day, towns, fleet, RULES) for day in days]
    seconds = time.perf_counter() - started
    greedy = [greedy_plan(day, towns, fleet, RULES) for day in days]
    print(f"   busiest day: {max(len(day) for day in days):,} people; all days planned in {seconds:.1f} s")
    for name, daily in (("planner", plans), ("greedy ", greedy)):
        placed, km = sum(p.placed for p in daily), sum(p.total_km for p in daily)
        unplaced, busiest = sum(len(p.unplaced) for p in daily), max(p.vehicles_used for p in daily)
        print(
            f"   {name}: {placed:,} placed in {sum(len(p.trips) for p in daily):,} trips, {km:,.0f} vehicle-km,"
            f" {busiest} vehicles on the busiest day, unplaced {unplaced:,}"
        )
    actual = ACTUAL_RETURN_TRIPS * people / RETURN_PEOPLE
    trips, greedy_trips = sum(len(p.trips) for p in plans), sum(len(p.trips) for p in greedy)
    scaled = "" if people == RETURN_PEOPLE else f" (scaled to {people:,} people)"
    print(
        f"   trips: {trips:,} vs {actual:,.0f} actually made{scaled} -> {trips / actual:.2f}"
        f" (greedy {greedy_trips:,} -> {greedy_trips / actual:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20_000, help="people in scenario 1's queue (default 20,000)")
    parser.add_argument("--seed", type=int, default=20211207, help="the random seed of both scenarios")
    parser.add_argument("--quick", action="store_true", help="small instances of both scenarios (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        people, vehicles, sites_per_city, returning = 2_000, 60, 12, 2_000
    else:
        people, vehicles, sites_per_city, returning = args.people, 500, 100, RETURN_PEOPLE
    print(
        f"Transfer planner benchmark (seed {args.seed}); baseline: greedy_plan (queue order, nearest site, no grouping)"
    )
    print()
    city_benchmark(people, vehicles, sites_per_city, args.seed)
    print()
    return_benchmark(returning, args.seed)


if __name__ == "__main__":
    main()
