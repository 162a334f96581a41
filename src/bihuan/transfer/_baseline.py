"""The greedy baseline's steps: queue order, nearest site with room, vehicles filled in queue order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bihuan.grouping.engine import TravelUnit, VehicleLoad
from bihuan.transfer._assignment import Missed, no_room, place_fixed, place_nearest, site_tables, unit_km
from bihuan.transfer._geo import Point
from bihuan.transfer._routing import Booking, Fleet, RoutedLoad, route

if TYPE_CHECKING:
    from bihuan.transfer.engine import PlanRules, Site


def queue_order(units: Sequence[TravelUnit]) -> list[TravelUnit]:
    """Longest waiting first (ties in arrival order)."""
    return sorted(units, key=lambda unit: -unit.waited_minutes)


def assign_nearest(
    queue: Sequence[TravelUnit], sites: Sequence[Site], rules: PlanRules
) -> tuple[dict[str, int], list[Missed]]:
    """Each unit in queue order to its own site, or to the nearest site with room of its category within reach."""
    tables = site_tables(sites)
    placed: dict[str, int] = {}
    missed: list[Missed] = []
    for unit in queue:
        table = tables.get(unit.category)
        if unit.site_id is not None:
            outcome: int | str | None = place_fixed(unit, tables, rules)
        else:
            outcome = None if table is None else place_nearest(unit, table, unit_km(unit, table, rules), rules)
        if isinstance(outcome, int):
            placed[unit.key] = outcome
        else:
            missed.append((unit, outcome or no_room(unit, rules)))
    return placed, missed


def queue_trips(
    queue: Sequence[TravelUnit], placed: Mapping[str, int], sites: Mapping[int, Point], fleet: Fleet, rules: PlanRules
) -> list[tuple[RoutedLoad, Booking | float]]:
    """Per (site, category), units fill the next vehicle in queue order; a full vehicle leaves (stops as queued)."""
    riding: dict[tuple[int, str], tuple[int, list[TravelUnit]]] = {}
    booked: list[tuple[RoutedLoad, Booking | float]] = []

    def leave(key: tuple[int, str]) -> None:
        _, units = riding.pop(key)
        routed = route(VehicleLoad(key[1], key[0], tuple(units)), sites[key[0]], rules, optimise=False)
        booked.append((routed, fleet.book(routed, rules)))

    for unit in queue:
        if unit.key not in placed:
            continue
        key = (placed[unit.key], unit.category)
        if key in riding and sum(u.size for u in riding[key][1]) + unit.size > riding[key][0]:
            leave(key)
        if key not in riding:
            riding[key] = (_next_vehicle_places(fleet, unit, rules), [])
        riding[key][1].append(unit)
    for key in list(riding):
        leave(key)
    return booked


def _next_vehicle_places(fleet: Fleet, unit: TravelUnit, rules: PlanRules) -> int:
    """The places of the vehicle that would reach the unit first (the one a dispatcher would send next)."""
    found = fleet.earliest((unit.lat, unit.lon), unit.category, unit.size, rules)
    return unit.size if found is None else int(fleet.places[found[0]])
