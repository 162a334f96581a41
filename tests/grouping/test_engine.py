"""Travel units and vehicle loads (快编组): households kept whole, categories apart, nearby pickups together."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bihuan.grouping.engine import (
    PRIORITY_LONG_WAIT,
    PRIORITY_NONE,
    PRIORITY_VULNERABLE,
    Traveller,
    TravelUnit,
    form_units,
    load_vehicles,
    straight_km,
)

CENTRE = (30.03, 120.87)
KM = 1 / 111.195  # degrees of latitude per km


def traveller(
    person_id: int,
    north_km: float = 0.0,
    *,
    category: str = "close_contact",
    household: str | None = None,
    waited_minutes: float = 0.0,
    vulnerable: bool = False,
    site_id: int | None = None,
) -> Traveller:
    lat = CENTRE[0] + north_km * KM
    return Traveller(person_id, category, lat, CENTRE[1], household, waited_minutes, vulnerable, site_id)


def unit(key: str, size: int, north_km: float, east_km: float = 0.0, priority: int = PRIORITY_NONE) -> TravelUnit:
    lat = CENTRE[0] + north_km * KM
    lon = CENTRE[1] + east_km * KM / math.cos(math.radians(CENTRE[0]))
    members = tuple(Traveller(hash((key, k)) % 10**9, "close_contact", lat, lon) for k in range(size))
    return TravelUnit(key, "close_contact", members, lat, lon, None, priority)


def test_a_household_of_one_category_is_one_unit_and_singles_stay_alone() -> None:
    queue = [
        traveller(1, household="陈家"),
        traveller(2),
        traveller(3, 2.0, household="陈家"),
        traveller(4, category="confirmed", household="陈家"),
        traveller(5),
    ]
    units = form_units(queue, long_wait_minutes=360)
    assert [u.person_ids for u in units] == [(1, 3), (2,), (4,), (5,)]
    assert [u.category for u in units] == ["close_contact", "close_contact", "confirmed", "close_contact"]
    assert (units[0].lat, units[0].size) == (queue[0].lat, 2), "picked up at the first member's point"
    assert len({u.key for u in units}) == 4


def test_a_vulnerable_member_outranks_a_long_wait() -> None:
    queue = [
        traveller(1, household="a", waited_minutes=400),
        traveller(2, household="a", vulnerable=True),
        traveller(3, waited_minutes=400),
        traveller(4, waited_minutes=100),
    ]
    units = form_units(queue, long_wait_minutes=360)
    assert [u.priority for u in units] == [PRIORITY_VULNERABLE, PRIORITY_LONG_WAIT, PRIORITY_NONE]
    assert units[0].waited_minutes == 400


def test_a_household_keeps_the_destination_one_member_has() -> None:
    units = form_units([traveller(1, household="h"), traveller(2, household="h", site_id=7)], 360)
    assert units[0].site_id == 7


def test_nearby_pickups_share_a_vehicle_and_far_ones_do_not() -> None:
    units = [unit("a", 3, 0.0), unit("b", 2, 0.5), unit("c", 4, 1.0), unit("d", 2, 30.0)]
    loads = load_vehicles(units, site_id=1, capacity=10, pickup_spread_km=3, road_factor=1.3)
    assert sorted(sorted(u.key for u in load.units) for load in loads) == [["a", "b", "c"], ["d"]]
    assert all(load.site_id == 1 and load.category == "close_contact" for load in loads)


def test_a_full_vehicle_leaves_the_rest_for_the_next() -> None:
    units = [unit(str(k), 4, k * 0.1) for k in range(5)]
    loads = load_vehicles(units, 1, capacity=9, pickup_spread_km=3, road_factor=1.0)
    assert sorted(load.size for load in loads) == [4, 8, 8]


def test_priority_units_seed_the_first_loads() -> None:
    units = [unit("far", 2, 10.0), unit("urgent", 2, 0.0, priority=PRIORITY_VULNERABLE)]
    loads = load_vehicles(units, 1, capacity=5, pickup_spread_km=1, road_factor=1.0)
    assert loads[0].units[0].key == "urgent" and loads[0].priority == PRIORITY_VULNERABLE


def test_a_load_refuses_mixed_categories_and_oversized_units() -> None:
    mixed = [unit("a", 1, 0), TravelUnit("b", "confirmed", (traveller(9, category="confirmed"),), *CENTRE, None, 0)]
    with pytest.raises(ValueError, match="mixes categories"):
        load_vehicles(mixed, 1, 5, 3, 1.3)
    with pytest.raises(ValueError, match="exceeds the capacity"):
        load_vehicles([unit("a", 6, 0)], 1, 5, 3, 1.3)
    assert load_vehicles([], 1, 5, 3, 1.3) == []


@settings(max_examples=100, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(1, 6), st.floats(-8, 8), st.floats(-8, 8), st.integers(0, 2)), max_size=60),
    capacity=st.integers(6, 30),
    spread=st.sampled_from([0.5, 2.0, 3.0, 10.0]),
    road_factor=st.sampled_from([1.0, 1.3]),
)
def test_loads_partition_the_units_within_capacity_and_spread(
    sizes: list[tuple[int, float, float, int]], capacity: int, spread: float, road_factor: float
) -> None:
    units = [unit(f"u{k}", size, north, east, priority) for k, (size, north, east, priority) in enumerate(sizes)]
    loads = load_vehicles(units, 3, capacity, spread, road_factor)
    assert sorted(u.key for load in loads for u in load.units) == sorted(u.key for u in units)
    for load in loads:
        assert 0 < load.size <= capacity
        assert all(
            straight_km(a.lat, a.lon, b.lat, b.lon) * road_factor <= spread + 1e-9
            for a in load.units
            for b in load.units
        )
