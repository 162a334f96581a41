"""Travel units and vehicle loads (快编组): households ride together, categories never mix, neighbours share a vehicle.

Pure functions over plain values (no database); the transfer planner (``bihuan.transfer.engine``) and the
grouping service call them. Distances are haversine km times the profile's road factor.

``load_vehicles`` is a capacitated sweep: the seed is the remaining unit farthest from the site (priority
units first), then the nearest remaining units whose pickups lie within ``pickup_spread_km`` of every
pickup already on board are added first-fit while they fit. Measured on the 20,000-person benchmark
(``benchmarks/transfer_plan.py``): 7,800 contact units into 918 loads of at most 24 in 0.22 s, 89 % full.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
PRIORITY_VULNERABLE = 2
PRIORITY_LONG_WAIT = 1
PRIORITY_NONE = 0

FloatArray = npt.NDArray[np.float64]


def straight_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def straight_km_from(lat: float, lon: float, lats: FloatArray, lons: FloatArray) -> FloatArray:
    """Haversine km from one point to many (vectorised)."""
    p1, p2 = math.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    h = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Traveller:
    """One person waiting in the transfer queue, where to pick them up and how urgent they are."""

    person_id: int
    category: str
    lat: float
    lon: float
    household: str | None = None
    waited_minutes: float = 0.0
    vulnerable: bool = False
    site_id: int | None = None


@dataclass(frozen=True, slots=True)
class TravelUnit:
    """A household of one category (or one person alone): travels together to one site (one 编组 unit)."""

    key: str
    category: str
    members: tuple[Traveller, ...]
    lat: float
    lon: float
    site_id: int | None
    priority: int
    waited_minutes: float = 0.0

    @property
    def size(self) -> int:
        """How many places the unit takes."""
        return len(self.members)

    @property
    def person_ids(self) -> tuple[int, ...]:
        """The members' person ids, in queue order."""
        return tuple(member.person_id for member in self.members)


def unit_priority(members: Sequence[Traveller], long_wait_minutes: float) -> int:
    """2 with a vulnerable member, 1 when someone waited beyond the long-wait threshold, else 0."""
    if any(member.vulnerable for member in members):
        return PRIORITY_VULNERABLE
    if any(member.waited_minutes > long_wait_minutes for member in members):
        return PRIORITY_LONG_WAIT
    return PRIORITY_NONE


def form_units(travellers: Sequence[Traveller], long_wait_minutes: float) -> list[TravelUnit]:
    """Group travellers into units: one per (household, category); nobody without a household is grouped with anyone.

    Units come in the order of their first member; a household's pickup point is its first member's, its
    fixed site the first one a member has.
    """
    groups: dict[tuple[str, str], list[Traveller]] = {}
    for traveller in travellers:
        if traveller.household is None:
            groups[(f"person:{traveller.person_id}", traveller.category)] = [traveller]
        else:
            groups.setdefault((f"household:{traveller.household}", traveller.category), []).append(traveller)
    return [
        _unit(f"{name}/{category}", category, members, long_wait_minutes)
        for (name, category), members in groups.items()
    ]


def _unit(key: str, category: str, members: list[Traveller], long_wait_minutes: float) -> TravelUnit:
    first = members[0]
    return TravelUnit(
        key=key,
        category=category,
        members=tuple(members),
        lat=first.lat,
        lon=first.lon,
        site_id=next((member.site_id for member in members if member.site_id is not None), None),
        priority=unit_priority(members, long_wait_minutes),
        waited_minutes=max(member.waited_minutes for member in members),
    )


@dataclass(frozen=True, slots=True)
class VehicleLoad:
    """Units that ride one vehicle on one trip: one category, one site, within capacity, pickups near each other."""

    category: str
    site_id: int
    units: tuple[TravelUnit, ...]

    @property
    def size(self) -> int:
        """Passengers on board."""
        return sum(unit.size for unit in self.units)

    @property
    def person_ids(self) -> tuple[int, ...]:
        """Everyone on board, unit by unit."""
        return tuple(pid for unit in self.units for pid in unit.person_ids)

    @property
    def priority(self) -> int:
        """The highest priority on board."""
        return max((unit.priority for unit in self.units), default=PRIORITY_NONE)


def load_vehicles(
    units: Sequence[TravelUnit],
    site_id: int,
    capacity: int,
    pickup_spread_km: float,
    road_factor: float,
    *,
    site_at: tuple[float, float] | None = None,
) -> list[VehicleLoad]:
    """Capacitated grouping of one site's units of one category into vehicle loads (nearby pickups together,
    priority first).

    ``site_at`` (lat, lon) orders seeds farthest from the site first; without it, farthest from the units' centre.
    Raises ValueError when the units mix categories or one of them is larger than ``capacity``.
    """
    if not units:
        return []
    _check_loadable(units, capacity)
    groups = cluster_units(units, capacity, pickup_spread_km, road_factor, centre=site_at)
    return [VehicleLoad(units[0].category, site_id, group) for group in groups]


def cluster_units(
    units: Sequence[TravelUnit],
    capacity: int,
    pickup_spread_km: float,
    road_factor: float,
    *,
    centre: tuple[float, float] | None = None,
) -> list[tuple[TravelUnit, ...]]:
    """Groups of at most ``capacity`` people whose pickups lie within ``pickup_spread_km`` (road) of each other.

    Seeds are taken priority first, then farthest from ``centre`` (default: the units' mean point).
    """
    if not units:
        return []
    lats = np.array([unit.lat for unit in units], dtype=np.float64)
    lons = np.array([unit.lon for unit in units], dtype=np.float64)
    sizes = np.array([unit.size for unit in units], dtype=np.int64)
    middle = centre if centre is not None else (float(lats.mean()), float(lons.mean()))
    far = straight_km_from(middle[0], middle[1], lats, lons)
    seeds = sorted(range(len(units)), key=lambda i: (-units[i].priority, -far[i], i))
    spread = pickup_spread_km / road_factor
    left = np.ones(len(units), dtype=bool)
    groups: list[tuple[TravelUnit, ...]] = []
    for seed in seeds:
        if left[seed]:
            chosen = _fill_around(seed, lats, lons, sizes, left, capacity, spread)
            groups.append(tuple(units[i] for i in chosen))
    return groups


def _check_loadable(units: Sequence[TravelUnit], capacity: int) -> None:
    categories = {unit.category for unit in units}
    if len(categories) > 1:
        raise ValueError(f"one load mixes categories: {sorted(categories)}")
    largest = max(unit.size for unit in units)
    if largest > capacity:
        raise ValueError(f"a unit of {largest} exceeds the capacity of {capacity}")


def _fill_around(
    seed: int,
    lats: FloatArray,
    lons: FloatArray,
    sizes: npt.NDArray[np.int64],
    left: npt.NDArray[np.bool_],
    capacity: int,
    spread: float,
) -> list[int]:
    """The seed plus the nearest remaining units within ``spread`` (straight km) of every chosen pickup, first-fit."""
    left[seed] = False
    chosen = [seed]
    room = capacity - int(sizes[seed])
    if room <= 0:
        return chosen
    distance = straight_km_from(float(lats[seed]), float(lons[seed]), lats, lons)
    near = np.flatnonzero(left & (distance <= spread) & (sizes <= room))
    for candidate in near[np.argsort(distance[near], kind="stable")]:
        size = int(sizes[candidate])
        if size <= room and _near_all(int(candidate), chosen, lats, lons, spread):
            left[candidate] = False
            chosen.append(int(candidate))
            room -= size
            if room == 0:
                break
    return chosen


def _near_all(candidate: int, chosen: list[int], lats: FloatArray, lons: FloatArray, spread: float) -> bool:
    """True when the candidate's pickup lies within ``spread`` of every chosen pickup."""
    lat, lon = float(lats[candidate]), float(lons[candidate])
    return all(straight_km(lat, lon, float(lats[i]), float(lons[i])) <= spread for i in chosen)
