"""Site assignment (分配): nearby households grouped into vehicle loads, the loads sent to sites by a min-cost flow.

Each category's units are first clustered into loads of nearby pickups (``cluster_units``, the 快编组 sweep);
every load is a source of an OR-Tools min-cost flow into (site, category) sinks of capacity
``free[category]``, along arcs only to sites within reach of all its pickups, a person costing the load's
road km over its size (so the flow prices one trip per load), plus an "unplaced" sink whose penalty
outweighs any path and grows with priority: the flow places as many people as possible, priority first.
Loads are then rounded (priority first) to one site each, the one the flow sends most of it to that holds
it whole, else the nearest that does; only a load no site holds whole is split, by household. Free
places are never exceeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from bihuan.grouping.engine import TravelUnit, VehicleLoad, cluster_units, load_vehicles
from bihuan.transfer._geo import FloatArray, road_km_from, road_km_matrix

if TYPE_CHECKING:
    from bihuan.transfer.engine import PlanRules, Site

COST_PER_KM = 100  # flow costs in 0.01 road km per trip
IntArray = npt.NDArray[np.int64]
Missed = tuple[TravelUnit, str]


@dataclass(slots=True)
class SiteTable:
    """The sites with free places of one category, as arrays; ``room`` is what is left and only ever decreases."""

    category: str
    ids: IntArray
    lats: FloatArray
    lons: FloatArray
    room: IntArray
    index: dict[int, int]

    def take(self, column: int, size: int) -> int:
        """Book ``size`` places at the site in ``column``; its site id."""
        self.room[column] -= size
        return int(self.ids[column])


def site_tables(sites: Sequence[Site]) -> dict[str, SiteTable]:
    """One table per category over the sites with free places of it."""
    categories = sorted({category for site in sites for category, free in site.free.items() if free > 0})
    return {category: _table(category, [s for s in sites if s.free.get(category, 0) > 0]) for category in categories}


def _table(category: str, sites: Sequence[Site]) -> SiteTable:
    return SiteTable(
        category=category,
        ids=np.array([site.site_id for site in sites], dtype=np.int64),
        lats=np.array([site.lat for site in sites], dtype=np.float64),
        lons=np.array([site.lon for site in sites], dtype=np.float64),
        room=np.array([site.free[category] for site in sites], dtype=np.int64),
        index={site.site_id: column for column, site in enumerate(sites)},
    )


def unit_km(unit: TravelUnit, table: SiteTable, rules: PlanRules) -> FloatArray:
    """Road km from the unit's pickup to every site of the table."""
    return road_km_from((unit.lat, unit.lon), table.lats, table.lons, rules.road_factor)


def place_fixed(unit: TravelUnit, tables: Mapping[str, SiteTable], rules: PlanRules) -> int | str:
    """The unit's own destination when it has room and lies within reach, else why not."""
    table = tables.get(unit.category)
    column = None if table is None or unit.site_id is None else table.index.get(unit.site_id)
    if table is None or column is None:
        return f"site {unit.site_id} has no {unit.category} places"
    km = float(unit_km(unit, table, rules)[column])
    if km > rules.max_reach_km:
        return f"site {unit.site_id} is {km:.0f} road km away (> {rules.max_reach_km:g})"
    if table.room[column] < unit.size:
        return f"site {unit.site_id} has {table.room[column]} {unit.category} places left for {unit.size}"
    return table.take(column, unit.size)


def place_nearest(unit: TravelUnit, table: SiteTable, km: FloatArray, rules: PlanRules) -> int | None:
    """The nearest site with room for the whole unit within reach (booked), or None."""
    fits = (table.room >= unit.size) & (km <= rules.max_reach_km)
    if not fits.any():
        return None
    return table.take(int(np.argmin(np.where(fits, km, np.inf))), unit.size)


def no_room(unit: TravelUnit, rules: PlanRules) -> str:
    """Why a flexible unit found no site."""
    return f"no site with {unit.size} {unit.category} places free within {rules.max_reach_km:g} road km"


def assign_sites(
    units: Sequence[TravelUnit], sites: Sequence[Site], rules: PlanRules, capacity: Mapping[str, int]
) -> tuple[list[VehicleLoad], list[Missed]]:
    """Vehicle loads with their sites (编组 then 分配), and the units left without a site; priority units first.

    Units with their own destination are loaded per site; the others are clustered per category into loads
    of at most ``capacity[category]`` nearby people, and the loads are sent to sites by a min-cost flow.
    """
    tables = site_tables(sites)
    loads: list[VehicleLoad] = []
    missed: list[Missed] = []
    ordered = sorted(units, key=lambda unit: -unit.priority)
    fixed: dict[tuple[int, str], list[TravelUnit]] = {}
    for unit in (u for u in ordered if u.site_id is not None):
        outcome = place_fixed(unit, tables, rules)
        if isinstance(outcome, int):
            fixed.setdefault((outcome, unit.category), []).append(unit)
        else:
            missed.append((unit, outcome))
    for (site_id, category), members in fixed.items():
        at = tables[category].index[site_id]
        site_at = (float(tables[category].lats[at]), float(tables[category].lons[at]))
        spread, factor = rules.pickup_spread_km, rules.road_factor
        loads += load_vehicles(members, site_id, capacity[category], spread, factor, site_at=site_at)
    for category in sorted({u.category for u in ordered if u.site_id is None}):
        flexible = [u for u in ordered if u.site_id is None and u.category == category]
        table = tables.get(category)
        if table is None:
            missed.extend((unit, no_room(unit, rules)) for unit in flexible)
        else:
            loads += _send_groups(_groups(flexible, capacity[category], table, rules), table, rules, missed)
    return loads, missed


def _groups(
    units: Sequence[TravelUnit], capacity: int, table: SiteTable, rules: PlanRules
) -> list[tuple[TravelUnit, ...]]:
    """Loads of nearby units; when the category's free places are short, within one priority class each, so that
    the flow can leave the lower classes out."""
    spread, factor = rules.pickup_spread_km, rules.road_factor
    if sum(u.size for u in units) <= int(table.room.sum()):
        return cluster_units(units, capacity, spread, factor)
    classes = sorted({u.priority for u in units}, reverse=True)
    return [g for p in classes for g in cluster_units([u for u in units if u.priority == p], capacity, spread, factor)]


def _send_groups(
    groups: Sequence[tuple[TravelUnit, ...]], table: SiteTable, rules: PlanRules, missed: list[Missed]
) -> list[VehicleLoad]:
    """Send each group whole to a site by the flow (or the nearest with room), splitting it only when none holds it."""
    km = np.array([_group_km(group, table, rules) for group in groups], dtype=np.float64).reshape(len(groups), -1)
    supply = np.array([sum(u.size for u in group) for group in groups], dtype=np.int64)
    priority = np.array([max(u.priority for u in group) for group in groups], dtype=np.int64)
    flows = _flow(km, supply, priority, table.room.copy(), rules.max_reach_km)
    loads: list[VehicleLoad] = []
    for row in np.argsort(-priority, kind="stable"):
        group, size, far = groups[row], int(supply[row]), km[row]
        column = _whole_site(flows[row], far, size, table, rules)
        if column is not None:
            loads.append(VehicleLoad(table.category, table.take(column, size), group))
        else:
            loads += _split(group, flows[row].astype(np.float64), table, rules, missed)
    return loads


def _group_km(group: tuple[TravelUnit, ...], table: SiteTable, rules: PlanRules) -> FloatArray:
    """Road km from the group's farthest pickup to every site (a site is within reach of all its pickups or not)."""
    lats = np.array([u.lat for u in group], dtype=np.float64)
    lons = np.array([u.lon for u in group], dtype=np.float64)
    km: FloatArray = road_km_matrix(lats, lons, table.lats, table.lons, rules.road_factor).max(axis=0)
    return km


def _whole_site(flow: IntArray, km: FloatArray, size: int, table: SiteTable, rules: PlanRules) -> int | None:
    """The column of the site the flow sends most of the group to that holds it all, else the nearest that does."""
    fits = (table.room >= size) & (km <= rules.max_reach_km)
    if not fits.any():
        return None
    if (flow * fits).max() > 0:
        return int(np.argmax(np.where(fits, flow, -1)))
    return int(np.argmin(np.where(fits, km, np.inf)))


def _split(
    group: tuple[TravelUnit, ...], quota: FloatArray, table: SiteTable, rules: PlanRules, missed: list[Missed]
) -> list[VehicleLoad]:
    """A group no site holds whole, split by household into the sites of its flow (or the nearest with room)."""
    parts: dict[int, list[TravelUnit]] = {}
    for unit in sorted(group, key=lambda u: (-u.priority, -u.size)):
        site = _place_by_quota(unit, table, quota, rules)
        if site is None:
            missed.append((unit, no_room(unit, rules)))
        else:
            parts.setdefault(site, []).append(unit)
    return [VehicleLoad(table.category, site, tuple(units)) for site, units in parts.items()]


def _place_by_quota(unit: TravelUnit, table: SiteTable, quota: FloatArray, rules: PlanRules) -> int | None:
    """The site with the largest flow quota left that holds the whole unit within reach, else the nearest with room."""
    km = unit_km(unit, table, rules)
    for column in np.argsort(-quota, kind="stable"):
        if quota[column] <= 0:
            break
        if table.room[column] >= unit.size and km[column] <= rules.max_reach_km:
            quota[column] -= unit.size
            return table.take(int(column), unit.size)
    return place_nearest(unit, table, km, rules)


def _flow(km: FloatArray, supply: IntArray, priority: IntArray, room: IntArray, max_reach_km: float) -> IntArray:
    """People per (group, site) of the min-cost flow; a person's cost is the group's road km over its size (one trip
    per group), and unplaced people leave through a penalised arc."""
    sources, sites = km.shape
    rows, columns = np.nonzero(km <= max_reach_km)
    cost = np.rint(km[rows, columns] * COST_PER_KM / supply[rows]).astype(np.int64)
    gap = (int(cost.max(initial=0)) + 1) * (sites + 2)  # more than any augmenting cycle can save
    sink = sources + sites
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([rows, sources + np.arange(sites), np.arange(sources)]),
        np.concatenate([sources + columns, np.full(sites, sink), np.full(sources, sink)]),
        np.concatenate([supply[rows], room, supply]),
        np.concatenate([cost, np.zeros(sites, dtype=np.int64), gap * (1 + priority)]),
    )
    flow.set_nodes_supplies(
        np.arange(sink + 1), np.concatenate([supply, np.zeros(sites, dtype=np.int64), [-supply.sum()]])
    )
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"the site-assignment flow ended with status {status}")
    result = np.zeros((sources, sites), dtype=np.int64)
    result[rows, columns] = flow.flows(arcs[: len(rows)])
    return result
