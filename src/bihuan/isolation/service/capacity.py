"""Capacity (床位): rooms free, occupied, reserved and out of service by site, city and category, and the
rooms expected to free on each day ahead, which the transfer planner counts on.

A room frees when everyone in it has left: its people's central phase ends on the same day or not, a
carer and the person cared for go together, so the room frees on the latest of their release days.
A person's release day is their central phase's last day when `profile.sites.release_on_last_day`,
else the day after; a stay without a plan (or without a central phase) frees nothing that can be
counted on, nor does the room it is in. A release day already past (release tests still awaited) is
expected today. A site counted without rooms expects what its managers entered (`ExpectedRelease`);
its releases of today are already in the occupancy it reports (see `sites`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from bihuan.core.context import Ctx
from bihuan.core.permissions import Permission, require
from bihuan.isolation.choices import RoomStatus
from bihuan.isolation.models import ExpectedRelease, IsolationSite, IsolationStay, SiteFloor, SitePlaces, SiteRoom
from bihuan.isolation.schemas import (
    CapacityCounts,
    CapacityPublic,
    CityCapacityPublic,
    DayFree,
    SiteCapacityPublic,
    SiteCategoryCapacity,
)
from bihuan.isolation.service.plans import release_from
from bihuan.protocol import DestinationKind, ProtocolProfile, SiteRules, TransferCategory

Key = tuple[int, str]  # (site, category)


def rooms_freeing(ctx: Ctx, rules: SiteRules, today: date) -> dict[Key, dict[date, int]]:
    """Occupied rooms expected to free, by (site, category) and day from `today` on (one query)."""
    stmt = select(IsolationStay.room_id, IsolationStay.site_id, IsolationStay.category, IsolationStay.plan).where(
        IsolationStay.open_person_id.is_not(None), IsolationStay.room_id.is_not(None)
    )
    rooms: dict[int, tuple[Key, list[date | None]]] = {}
    for room_id, site_id, category, plan in ctx.session.execute(stmt):
        _, days = rooms.setdefault(int(room_id), ((int(site_id), str(category)), []))
        days.append(release_from(plan or {}, rules))
    freeing: dict[Key, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for key, days in rooms.values():
        known = [day for day in days if day is not None]
        if len(known) == len(days):
            freeing[key][max(*known, today)] += 1
    return freeing


def capacity(ctx: Ctx, profile: ProtocolProfile, *, today: date, days: int) -> CapacityPublic:
    """Every site's rooms (or places) by category with the free rooms expected on each of `days` days
    from `today`, and their sums by city and by category (five queries)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    horizon = [today + timedelta(days=n) for n in range(days)]
    sites = list(ctx.session.scalars(select(IsolationSite).order_by(IsolationSite.city, IsolationSite.code)))
    counted = _place_counts(ctx, today, horizon) | _room_counts(ctx)  # a category with rooms counts its rooms
    freeing = rooms_freeing(ctx, profile.sites, today)
    rows = [_site_row(site, counted, freeing, horizon) for site in sites]
    by_city: dict[str, list[CapacityCounts]] = defaultdict(list)
    for site, row in zip(sites, rows, strict=True):
        by_city[site.city].extend(row.categories)
    return CapacityPublic(
        days=horizon,
        sites=rows,
        cities=[CityCapacityPublic(city=city, categories=_sums(counts)) for city, counts in by_city.items()],
        categories=_sums([c for row in rows for c in row.categories]),
    )


@dataclass(slots=True)
class _Counted:
    """One (site, category) as stored: room counts by status, or reported places with expected releases."""

    by_rooms: bool
    counts: dict[str, int]
    releases: dict[date, int] = field(default_factory=dict)


def _room_counts(ctx: Ctx) -> dict[Key, _Counted]:
    stmt = (
        select(SiteRoom.site_id, SiteFloor.category, SiteRoom.status, func.count())
        .join(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
        .group_by(SiteRoom.site_id, SiteFloor.category, SiteRoom.status)
    )
    found: dict[Key, _Counted] = {}
    for site_id, category, status, n in ctx.session.execute(stmt):
        found.setdefault((int(site_id), str(category)), _Counted(True, {})).counts[str(status)] = int(n)
    return found


def _place_counts(ctx: Ctx, today: date, horizon: Sequence[date]) -> dict[Key, _Counted]:
    releases: dict[Key, dict[date, int]] = defaultdict(dict)
    stmt = select(ExpectedRelease).where(ExpectedRelease.on_date > today, ExpectedRelease.on_date <= horizon[-1])
    for release in ctx.session.scalars(stmt):
        releases[(release.site_id, release.category)][release.on_date] = release.places
    return {
        (row.site_id, row.category): _Counted(
            False,
            {RoomStatus.FREE.value: max(row.places - row.occupied, 0), RoomStatus.OCCUPIED.value: row.occupied},
            releases.get((row.site_id, row.category), {}),
        )
        for row in ctx.session.scalars(select(SitePlaces))
    }


def _site_row(
    site: IsolationSite, counted: dict[Key, _Counted], freeing: dict[Key, dict[date, int]], horizon: Sequence[date]
) -> SiteCapacityPublic:
    categories = sorted(category for site_id, category in counted if site_id == site.id)
    return SiteCapacityPublic(
        id=site.id,
        code=site.code,
        name=site.name,
        kind=DestinationKind(site.kind),
        city=site.city,
        status=site.status,
        categories=[
            _category_row(category, counted[(site.id, category)], freeing.get((site.id, category), {}), horizon)
            for category in categories
        ],
    )


def _category_row(
    category: str, counted: _Counted, freeing: dict[date, int], horizon: Sequence[date]
) -> SiteCategoryCapacity:
    counts = counted.counts
    free, occupied = counts.get(RoomStatus.FREE.value, 0), counts.get(RoomStatus.OCCUPIED.value, 0)
    by_day = freeing if counted.by_rooms else counted.releases
    expected = []
    freed = 0
    for day in horizon:
        freeing_today = min(by_day.get(day, 0), occupied - freed)  # a site never frees more than it holds
        freed += freeing_today
        expected.append(DayFree(on=day, freeing=freeing_today, free=free + freed))
    return SiteCategoryCapacity(
        category=TransferCategory(category),
        by_rooms=counted.by_rooms,
        free=free,
        occupied=occupied,
        reserved=counts.get(RoomStatus.RESERVED.value, 0),
        out_of_service=counts.get(RoomStatus.OUT_OF_SERVICE.value, 0),
        expected=expected,
    )


def _sums(rows: Iterable[CapacityCounts]) -> list[CapacityCounts]:
    """Counts of the same category added up, day by day for the expected ones."""
    by_category: dict[TransferCategory, list[CapacityCounts]] = defaultdict(list)
    for row in rows:
        by_category[row.category].append(row)
    return [_sum(category, group) for category, group in sorted(by_category.items())]


def _sum(category: TransferCategory, group: Sequence[CapacityCounts]) -> CapacityCounts:
    days = [day.on for day in group[0].expected]
    return CapacityCounts(
        category=category,
        free=sum(r.free for r in group),
        occupied=sum(r.occupied for r in group),
        reserved=sum(r.reserved for r in group),
        out_of_service=sum(r.out_of_service for r in group),
        expected=[
            DayFree(
                on=day,
                freeing=sum(r.expected[i].freeing for r in group),
                free=sum(r.expected[i].free for r in group),
            )
            for i, day in enumerate(days)
        ],
    )
