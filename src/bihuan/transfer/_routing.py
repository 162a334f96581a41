"""Routing: the pickup order of one load (open start, ending at its site) and the chaining of trips onto vehicles.

A load's stops (one per distinct pickup point) are ordered exactly for up to ``EXACT_STOPS`` stops and by
OR-Tools routing (PATH_CHEAPEST_ARC then its default greedy-descent local search) beyond. Trips are then
chained onto vehicles one at a time: each goes to the eligible vehicle that reaches its first pickup
earliest (free time plus deadhead from its depot or last site); vehicles never return to a depot.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from bihuan.grouping.engine import TravelUnit, VehicleLoad
from bihuan.transfer._geo import Point, drive_minutes, road_km, road_km_from, road_km_matrix

if TYPE_CHECKING:
    from bihuan.transfer.engine import PlanRules, Vehicle

EXACT_STOPS = 4
StopPlan = tuple[Point, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class RoutedLoad:
    """A load with its stops in driving order, the km and minutes from its first pickup to its site."""

    load: VehicleLoad
    site: Point
    stops: tuple[StopPlan, ...]
    km: float
    minutes: float


@dataclass(frozen=True, slots=True)
class Booking:
    """A load's place in a vehicle's day: which vehicle, its trip number, when, and the km driven."""

    vehicle_id: int
    sequence: int
    start_minute: float
    end_minute: float
    km: float


def pickup_stops(units: Sequence[TravelUnit]) -> list[StopPlan]:
    """One stop per distinct pickup point, in the units' order, with everyone picked up there."""
    stops: dict[Point, list[int]] = {}
    for unit in units:
        stops.setdefault((unit.lat, unit.lon), []).extend(unit.person_ids)
    return [(point, tuple(people)) for point, people in stops.items()]


def route(load: VehicleLoad, site: Point, rules: PlanRules, *, optimise: bool) -> RoutedLoad:
    """The load's stops ordered (shortest path ending at the site when ``optimise``, else as listed)."""
    stops = pickup_stops(load.units)
    if optimise and len(stops) > 1:
        stops = [stops[i] for i in order_stops([point for point, _ in stops], site, rules.road_factor)]
    points = [point for point, _ in stops] + [site]
    km = sum(road_km(a, b, rules.road_factor) for a, b in itertools.pairwise(points))
    minutes = drive_minutes(km, rules.speed_kmh) + len(stops) * rules.stop_minutes
    return RoutedLoad(load, site, tuple(stops), km, minutes)


def order_stops(points: Sequence[Point], site: Point, road_factor: float) -> list[int]:
    """Indices of ``points`` in the order of a short path through all of them that ends at ``site``."""
    lats = np.array([p[0] for p in [*points, site]], dtype=np.float64)
    lons = np.array([p[1] for p in [*points, site]], dtype=np.float64)
    km = road_km_matrix(lats, lons, lats, lons, road_factor)
    if len(points) <= EXACT_STOPS:
        return _exact_order(km)
    return _solver_order(km)


def _path_km(km: npt.NDArray[np.float64], order: tuple[int, ...]) -> float:
    path = [*order, len(km) - 1]
    return float(sum(km[a, b] for a, b in itertools.pairwise(path)))


def _exact_order(km: npt.NDArray[np.float64]) -> list[int]:
    """Every permutation of the stops tried (few stops)."""
    best: tuple[int, ...] = ()
    shortest = float("inf")
    for order in itertools.permutations(range(len(km) - 1)):
        if (length := _path_km(km, order)) < shortest:
            best, shortest = order, length
    return list(best)


def _solver_order(km: npt.NDArray[np.float64]) -> list[int]:
    """OR-Tools routing with a free start node (zero cost to every stop) and the site as the end node."""
    stops = len(km) - 1
    start, end = stops + 1, stops
    metres = np.zeros((stops + 2, stops + 2), dtype=np.int64)
    metres[: stops + 1, : stops + 1] = np.rint(km * 1000)
    metres[:, start] = 10**9
    manager = pywrapcp.RoutingIndexManager(stops + 2, 1, [start], [end])
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(metres.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    solution = routing.SolveWithParameters(parameters)
    if solution is None:
        return list(range(stops))
    order: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    return order


class Fleet:
    """Where each vehicle is and when it is free, booking trips by the earliest-reach rule."""

    def __init__(self, vehicles: Sequence[Vehicle], places: Sequence[int]) -> None:
        self._vehicles = list(vehicles)
        self.ids = np.array([v.vehicle_id for v in vehicles], dtype=np.int64)
        self.places = np.array(places, dtype=np.int64)
        self.lats = np.array([v.lat for v in vehicles], dtype=np.float64)
        self.lons = np.array([v.lon for v in vehicles], dtype=np.float64)
        self.free_at = np.array([v.free_from_minute for v in vehicles], dtype=np.float64)
        self.trips = np.zeros(len(vehicles), dtype=np.int64)
        self._carries: dict[str, npt.NDArray[np.bool_]] = {}

    def carries(self, category: str) -> npt.NDArray[np.bool_]:
        """Which vehicles may carry the category."""
        if category not in self._carries:
            allowed = [v.categories is None or category in v.categories for v in self._vehicles]
            self._carries[category] = np.array(allowed, dtype=bool) & (self.places > 0)
        return self._carries[category]

    def earliest(self, first: Point, category: str, size: int, rules: PlanRules) -> tuple[int, float] | None:
        """The vehicle (column) able to carry ``size`` of the category that reaches ``first`` earliest, and when."""
        able = self.carries(category) & (self.places >= size)
        if not able.any():
            return None
        deadhead = road_km_from(first, self.lats, self.lons, rules.road_factor)
        reach = np.where(able, self.free_at + deadhead / rules.speed_kmh * 60.0, np.inf)
        chosen = int(np.argmin(reach))
        return chosen, float(reach[chosen])

    def book(self, routed: RoutedLoad, rules: PlanRules) -> Booking | float:
        """The trip booked on the vehicle reaching its first pickup earliest, or the earliest end past the horizon."""
        first = routed.stops[0][0]
        found = self.earliest(first, routed.load.category, routed.load.size, rules)
        if found is None:
            return float("inf")
        chosen, reach = found
        end = reach + routed.minutes
        if end > rules.horizon_minutes:
            return end
        start = float(self.free_at[chosen])
        deadhead = road_km((float(self.lats[chosen]), float(self.lons[chosen])), first, rules.road_factor)
        self.free_at[chosen] = end
        self.lats[chosen], self.lons[chosen] = routed.site
        self.trips[chosen] += 1
        return Booking(int(self.ids[chosen]), int(self.trips[chosen]), start, end, deadhead + routed.km)
