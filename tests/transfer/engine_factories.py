"""Random instances of the transfer planner: Hypothesis strategies for small worlds, a seeded city for larger ones."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from bihuan.grouping.engine import Traveller
from bihuan.protocol import load_profile
from bihuan.transfer.engine import PlanRules, Site, Vehicle

CATEGORIES = ("confirmed", "close_contact", "secondary_contact")
CONTACTS = frozenset({"close_contact", "secondary_contact"})
CENTRE = (30.03, 120.87)
KM_PER_DEGREE = 111.195
RULES = PlanRules.from_profile(load_profile("cn-8th-2021").transfer)  # the shipped default profile's numbers


@dataclass(frozen=True)
class Instance:
    """Everything one planning run takes."""

    travellers: list[Traveller]
    sites: list[Site]
    vehicles: list[Vehicle]
    rules: PlanRules


def at(east_km: float, north_km: float) -> tuple[float, float]:
    """The point ``east_km`` east and ``north_km`` north of the test city's centre."""
    lat = CENTRE[0] + north_km / KM_PER_DEGREE
    return lat, CENTRE[1] + east_km / (KM_PER_DEGREE * math.cos(math.radians(CENTRE[0])))


def person(
    person_id: int,
    category: str = "close_contact",
    east_km: float = 0.0,
    north_km: float = 0.0,
    *,
    household: str | None = None,
    waited_minutes: float = 0.0,
    vulnerable: bool = False,
    site_id: int | None = None,
) -> Traveller:
    """A traveller at a point of the test city."""
    lat, lon = at(east_km, north_km)
    return Traveller(person_id, category, lat, lon, household, waited_minutes, vulnerable, site_id)


def site(site_id: int, east_km: float = 0.0, north_km: float = 0.0, **free: int) -> Site:
    """A site at a point of the test city with free places by category."""
    lat, lon = at(east_km, north_km)
    return Site(site_id, lat, lon, free)


def vehicle(
    vehicle_id: int,
    seats: int = 50,
    east_km: float = 0.0,
    north_km: float = 0.0,
    categories: frozenset[str] | None = None,
) -> Vehicle:
    """A vehicle at a depot of the test city."""
    lat, lon = at(east_km, north_km)
    return Vehicle(vehicle_id, seats, lat, lon, categories)


@st.composite
def rules(draw: st.DrawFn) -> PlanRules:
    """Rules from tight to generous: short reaches and horizons make infeasibility common."""
    return PlanRules(
        seat_fraction=draw(st.sampled_from([0.5, 0.75, 1.0])),
        pickup_spread_km=draw(st.sampled_from([0.5, 3.0, 20.0])),
        max_reach_km=draw(st.sampled_from([15.0, 60.0, 300.0])),
        road_factor=draw(st.sampled_from([1.0, 1.3])),
        speed_kmh=40.0,
        stop_minutes=draw(st.sampled_from([0.0, 5.0])),
        long_wait_minutes=360.0,
        horizon_minutes=draw(st.sampled_from([45.0, 240.0, 1440.0])),
    )


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    """A small world: up to 40 travellers in households, up to 6 sites and 6 vehicles, some of them unsuitable."""
    sites = [
        site(
            k + 1,
            draw(st.floats(-60, 60)),
            draw(st.floats(-60, 60)),
            **{c: draw(st.integers(0, 12)) for c in draw(st.sets(st.sampled_from(CATEGORIES)))},
        )
        for k in range(draw(st.integers(0, 6)))
    ]
    site_ids = [s.site_id for s in sites] + [99]
    vehicles = [
        vehicle(
            k + 1,
            draw(st.integers(1, 14)),
            draw(st.floats(-20, 20)),
            draw(st.floats(-20, 20)),
            draw(st.one_of(st.none(), st.frozensets(st.sampled_from(CATEGORIES), min_size=1))),
        )
        for k in range(draw(st.integers(0, 6)))
    ]
    fixed = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(site_ids))
    homes = {key: draw(fixed) for key in "abcdefg"}  # a household has one destination, if any
    travellers = []
    for k in range(draw(st.integers(0, 40))):
        household = draw(st.one_of(st.none(), st.sampled_from("abcdefg")))
        travellers.append(
            person(
                k + 1,
                draw(st.sampled_from(CATEGORIES)),
                draw(st.floats(-10, 10)),
                draw(st.floats(-10, 10)),
                household=household,
                waited_minutes=draw(st.sampled_from([0.0, 100.0, 500.0])),
                vulnerable=draw(st.booleans()),
                site_id=draw(fixed) if household is None else homes[household],
            )
        )
    return Instance(travellers, sites, vehicles, draw(rules()))


def city(people: int, seed: int, *, vehicles: int = 80, sites: int = 40) -> Instance:
    """A seeded city: households of 1-5 in neighbourhoods, sites in the city and 60 km away, coaches and buses."""
    rng = np.random.default_rng(seed)
    centres = [at(rng.uniform(-12, 12), rng.uniform(-12, 12)) for _ in range(max(2, people // 400))]
    travellers: list[Traveller] = []
    household = 0
    while len(travellers) < people:
        size = min(int(rng.choice([1, 2, 3, 4, 5], p=[0.22, 0.3, 0.24, 0.15, 0.09])), people - len(travellers))
        lat, lon = centres[int(rng.integers(len(centres)))]
        lat, lon = lat + rng.normal(0, 0.01), lon + rng.normal(0, 0.012)
        category = "close_contact" if rng.random() < 0.6 else "secondary_contact"
        for _ in range(size):
            travellers.append(
                Traveller(len(travellers) + 1, category, lat, lon, f"h{household}", float(rng.exponential(200)))
            )
        household += 1
    per_site = math.ceil(1.2 * people / sites)
    places = [
        site(
            k + 1,
            rng.uniform(-10, 10) + (0 if k < sites // 2 else 60),
            rng.uniform(-10, 10),
            close_contact=per_site * 6 // 10,
            secondary_contact=per_site * 4 // 10 + 1,
        )
        for k in range(sites)
    ]
    fleet = [
        vehicle(k + 1, int(rng.choice([33, 49])), rng.uniform(-10, 10), rng.uniform(-10, 10), CONTACTS)
        for k in range(vehicles)
    ]
    return Instance(travellers, places, fleet, RULES)
