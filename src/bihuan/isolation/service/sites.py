"""Use cases of isolation sites (集中隔离点、定点医院): register sites, their places and releases, report full.

Grouping and transfer read the free places from here; an arrival takes places through `admit`.
Rooms, stays and releases of people come with the site checklists (快隔离).

Which categories a site may take is the profile's policy: a category goes to the kind of site
`profile.transfer.destination_of` names, and a category the profile does not move has no places.

A central quarantine site meets the profile's standards (三区两通道, no 集中空调): a new site that
breaks them is refused, and one found to break them later is closed to new arrivals.

Expected releases and reported occupancy never count the same place twice:

- a release dated today or earlier is already in the occupancy the site reports, so only releases
  dated after today (up to the plan's date) add to the free places, capped by the occupied places;
- when the site reports fewer occupied places (`set_places`), the drop is taken off its pending
  releases of that category (dated today or later), earliest first; a release taken to 0 is deleted.
  A drop for any other reason (a person moved to hospital) thus lowers the releases still expected:
  a plan may count on fewer places than will free, never on more.

Those releases are for sites counted without rooms; a category with rooms expects its rooms to free
from its stays' plans instead (`capacity.rooms_freeing`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.isolation.choices import SiteStatus, StaffRole
from bihuan.isolation.models import ExpectedRelease, IsolationSite, SiteFloor, SitePlaces, SiteStaff
from bihuan.isolation.schemas import (
    ExpectedReleaseIn,
    PlacesIn,
    PlacesPublic,
    SiteCreate,
    SitePublic,
    SiteStandardsUpdate,
)
from bihuan.isolation.service.capacity import rooms_freeing
from bihuan.protocol import DestinationKind, ProtocolProfile, TransferCategory


@dataclass(frozen=True, slots=True)
class SiteCapacity:
    """An open site as a plan sees it: where it is and the places free by category until a date."""

    site_id: int
    name: str
    kind: DestinationKind
    city: str
    lat: float
    lon: float
    free: dict[str, int]


def create_site(ctx: Ctx, profile: ProtocolProfile, data: SiteCreate) -> IsolationSite:
    """Register a site with its places by category (each one the profile sends to this kind of site).

    The same code twice is refused.
    """
    require(ctx.actor, Permission.MANAGE_SITES)
    if ctx.session.scalar(select(IsolationSite.id).where(IsolationSite.code == data.code)) is not None:
        raise Conflict(f"code: site {data.code} exists")
    broken = standard_broken(profile, data.kind, data.three_zones_two_channels, data.central_air_conditioning)
    if broken is not None:
        raise FieldError(*broken)
    for index, item in enumerate(data.places):
        _check_category(profile, data.kind, item, f"places[{index}].")
        _check_occupied(item, f"places[{index}].")
    now = ctx.clock.now()
    site = IsolationSite(
        **data.model_dump(exclude={"places", "kind"}),
        kind=data.kind.value,
        status=SiteStatus.OPEN.value,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(site)
    ctx.session.flush()
    for item in data.places:
        ctx.session.add(
            SitePlaces(site_id=site.id, category=item.category.value, places=item.places, occupied=item.occupied)
        )
    _record(ctx, EventKind.SITE_CREATED, site, places={p.category.value: p.places for p in data.places})
    return site


def standard_broken(
    profile: ProtocolProfile, kind: DestinationKind, three_zones_two_channels: bool, central_air_conditioning: bool
) -> tuple[str, str] | None:
    """The first of the profile's standards a central quarantine site breaks, as (field, reason); None: none."""
    if kind != DestinationKind.CENTRAL_QUARANTINE:
        return None
    rules = profile.sites
    if rules.three_zones_two_channels_required and not three_zones_two_channels:
        return (
            "three_zones_two_channels",
            "the profile requires 三区两通道 (clean, buffer and contaminated zones, two passages)",
        )
    if central_air_conditioning and not rules.central_air_conditioning_allowed:
        return "central_air_conditioning", "the profile forbids 集中空调 (central air conditioning)"
    return None


def _site_broken(profile: ProtocolProfile, site: IsolationSite) -> tuple[str, str] | None:
    kind = DestinationKind(site.kind)
    return standard_broken(profile, kind, site.three_zones_two_channels, site.central_air_conditioning)


def update_standards(ctx: Ctx, profile: ProtocolProfile, site_id: int, data: SiteStandardsUpdate) -> IsolationSite:
    """Record the standards found at a site; one that now breaks the profile's is closed to new arrivals
    with the rule as its reason (reopening waits until it meets them). The same values again change nothing."""
    require(ctx.actor, Permission.MANAGE_SITES)
    site = get_site(ctx, site_id)
    changes = {k: v for k, v in data.model_dump(exclude_none=True).items() if getattr(site, k) != v}
    for key, value in changes.items():
        setattr(site, key, value)
    broken = _site_broken(profile, site)
    reason = None if broken is None else f"{broken[0]}: {broken[1]}"
    if reason is not None and (site.status, site.status_reason) != (SiteStatus.CLOSED, reason):
        site.status, site.status_reason = SiteStatus.CLOSED.value, reason
        changes.update(status=SiteStatus.CLOSED.value, reason=reason)
    if changes:
        site.updated_at = ctx.clock.now()
        _record(ctx, EventKind.SITE_UPDATED, site, **changes)
    return site


def _check_category(profile: ProtocolProfile, kind: DestinationKind, item: PlacesIn, prefix: str) -> None:
    check_category(profile, kind, item.category, f"{prefix}category")


def check_category(profile: ProtocolProfile, kind: DestinationKind, category: TransferCategory, field: str) -> None:
    """Places (or floors) of a category only at the kind of site the profile sends that category to."""
    destination = profile.transfer.destination_of(category)
    if destination is None:
        raise FieldError(field, f"the profile does not move {category} people")
    if destination != kind:
        raise FieldError(
            field, f"the profile sends {category} people to a {_kind_text(destination)}, not a {_kind_text(kind)}"
        )


def _kind_text(kind: DestinationKind) -> str:
    return kind.value.replace("_", " ")


def _check_occupied(item: PlacesIn, prefix: str = "") -> None:
    if item.occupied > item.places:
        raise FieldError(f"{prefix}occupied", f"{item.occupied} occupied is more than the {item.places} places")


def get_site(ctx: Ctx, site_id: int) -> IsolationSite:
    require(ctx.actor, Permission.READ_TRANSFER)
    site = ctx.session.get(IsolationSite, site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    return site


def set_places(ctx: Ctx, profile: ProtocolProfile, site_id: int, item: PlacesIn) -> IsolationSite:
    """Set a site's places (and occupied rooms) of one category; the same values again change nothing.

    Fewer occupied places than before are places freed: the drop is taken off the category's pending
    releases, earliest first (see the module notes), so a release is not counted again.
    """
    require(ctx.actor, Permission.MANAGE_SITES)
    site = get_site(ctx, site_id)
    _check_category(profile, DestinationKind(site.kind), item, "")
    _check_occupied(item)
    row = ctx.session.scalar(
        select(SitePlaces).where(SitePlaces.site_id == site_id, SitePlaces.category == item.category.value)
    )
    if row is None:
        row = SitePlaces(site_id=site_id, category=item.category.value, places=0, occupied=0)
        ctx.session.add(row)
    if (row.places, row.occupied) != (item.places, item.occupied):
        if item.occupied < row.occupied:
            _consume_releases(ctx, site_id, item.category, row.occupied - item.occupied)
        row.places, row.occupied = item.places, item.occupied
        site.updated_at = ctx.clock.now()
        _record(
            ctx, EventKind.SITE_UPDATED, site, category=item.category.value, places=item.places, occupied=item.occupied
        )
    return site


def _consume_releases(ctx: Ctx, site_id: int, category: TransferCategory, freed: int) -> None:
    """Take `freed` places off the site's pending releases of `category`, earliest first; rows at 0 go."""
    pending = ctx.session.scalars(
        select(ExpectedRelease)
        .where(
            ExpectedRelease.site_id == site_id,
            ExpectedRelease.category == category.value,
            ExpectedRelease.on_date >= ctx.clock.now().date(),
        )
        .order_by(ExpectedRelease.on_date)
    ).all()
    for release in pending:
        if freed <= 0:
            break
        taken = min(release.places, freed)
        release.places -= taken
        freed -= taken
        if release.places == 0:
            ctx.session.delete(release)


def expect_release(ctx: Ctx, site_id: int, item: ExpectedReleaseIn) -> IsolationSite:
    """Record the places a site expects to free on a day; sending the same day again replaces the number."""
    require(ctx.actor, Permission.MANAGE_SITES)
    site = get_site(ctx, site_id)
    row = ctx.session.scalar(
        select(ExpectedRelease).where(
            ExpectedRelease.site_id == site_id,
            ExpectedRelease.category == item.category.value,
            ExpectedRelease.on_date == item.on_date,
        )
    )
    if row is None:
        ctx.session.add(
            ExpectedRelease(site_id=site_id, category=item.category.value, on_date=item.on_date, places=item.places)
        )
    else:
        row.places = item.places
    return site


def report_full(ctx: Ctx, site_id: int, reason: str = "") -> IsolationSite:
    """The site takes nobody more (已满); plans stop sending people there. Reporting it again is harmless."""
    require(ctx.actor, Permission.MANAGE_SITES)
    site = get_site(ctx, site_id)
    if site.status != SiteStatus.FULL:
        site.status, site.status_reason, site.updated_at = SiteStatus.FULL.value, reason, ctx.clock.now()
        _record(ctx, EventKind.SITE_REPORTED_FULL, site, reason=reason)
    return site


def reopen(ctx: Ctx, site_id: int, *, profile: ProtocolProfile) -> IsolationSite:
    """The site takes people again; refused while it breaks the profile's standards."""
    require(ctx.actor, Permission.MANAGE_SITES)
    site = get_site(ctx, site_id)
    broken = _site_broken(profile, site)
    if broken is not None:
        raise Conflict(f"{broken[0]}: site {site.code} cannot reopen: {broken[1]}")
    if site.status != SiteStatus.OPEN:
        site.status, site.status_reason, site.updated_at = SiteStatus.OPEN.value, "", ctx.clock.now()
        _record(ctx, EventKind.SITE_UPDATED, site, status=SiteStatus.OPEN.value)
    return site


def admit(ctx: Ctx, site_id: int, category: str, count: int) -> None:
    """At a site counted without rooms: `count` people arrived (a negative count: left), taking or
    giving back places of `category`; occupancy never goes below zero."""
    row = ctx.session.scalar(select(SitePlaces).where(SitePlaces.site_id == site_id, SitePlaces.category == category))
    if row is None:
        raise FieldError("category", f"site {site_id} has no places for {category}")
    row.occupied = max(row.occupied + count, 0)


def list_sites(ctx: Ctx, *, until: date | None = None) -> list[SitePublic]:
    """Every site with its places, occupied and free by category, and the places expected to free
    after today up to `until` (None: every pending release) (three queries)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    sites = list(ctx.session.scalars(select(IsolationSite).order_by(IsolationSite.city, IsolationSite.code)))
    places = _places_by_site(ctx, until)
    staff = _staff_by_site(ctx)
    return [
        SitePublic.model_validate(
            {
                **{c.key: getattr(site, c.key) for c in IsolationSite.__table__.columns},
                "places": places.get(site.id, []),
                "staff": staff.get(site.id, {}),
            }
        )
        for site in sites
    ]


def _staff_by_site(ctx: Ctx) -> dict[int, dict[StaffRole, int]]:
    found: dict[int, dict[StaffRole, int]] = defaultdict(dict)
    stmt = (
        select(SiteStaff.site_id, SiteStaff.role, func.count())
        .where(SiteStaff.active.is_(True))
        .group_by(SiteStaff.site_id, SiteStaff.role)
    )
    for site_id, role, count in ctx.session.execute(stmt):
        found[int(site_id)][StaffRole(role)] = int(count)
    return found


def capacity_for_planning(ctx: Ctx, profile: ProtocolProfile, until: date) -> list[SiteCapacity]:
    """Open sites with the places free now plus those expected to free after today up to `until`:
    a category with rooms from its stays' plans, a site counted without rooms from its expected releases.

    What frees today or earlier is left out: a room is free once its people have left, and the
    occupancy a site reports already holds its releases of today.
    """
    require(ctx.actor, Permission.READ_TRANSFER)
    today = ctx.clock.now().date()
    places = _places_by_site(ctx, until)
    floors = ctx.session.execute(select(SiteFloor.site_id, SiteFloor.category).distinct())
    with_rooms = {(int(site_id), str(category)) for site_id, category in floors}
    freeing = rooms_freeing(ctx, profile.sites, today)
    sites = ctx.session.scalars(select(IsolationSite).where(IsolationSite.status == SiteStatus.OPEN.value))

    def free(site_id: int, p: PlacesPublic) -> int:
        if (site_id, p.category.value) not in with_rooms:
            return p.free + p.releasing
        days = freeing.get((site_id, p.category.value), {})
        return p.free + sum(n for day, n in days.items() if today < day <= until)

    return [
        SiteCapacity(
            site_id=site.id,
            name=site.name,
            kind=DestinationKind(site.kind),
            city=site.city,
            lat=site.lat,
            lon=site.lon,
            free={p.category.value: free(site.id, p) for p in places.get(site.id, [])},
        )
        for site in sites
    ]


def sites_at(ctx: Ctx, site_ids: set[int]) -> list[SiteCapacity]:
    """Where these sites are (any status), for vehicles whose last trip ends there."""
    if not site_ids:
        return []
    rows = ctx.session.scalars(select(IsolationSite).where(IsolationSite.id.in_(sorted(site_ids))))
    return [SiteCapacity(s.id, s.name, DestinationKind(s.kind), s.city, s.lat, s.lon, {}) for s in rows]


def _places_by_site(ctx: Ctx, until: date | None) -> dict[int, list[PlacesPublic]]:
    """Places by site; `releasing` counts releases dated after today up to `until`, capped by occupied."""
    releasing: dict[tuple[int, str], int] = defaultdict(int)
    stmt = select(ExpectedRelease.site_id, ExpectedRelease.category, ExpectedRelease.places).where(
        ExpectedRelease.on_date > ctx.clock.now().date()
    )
    if until is not None:
        stmt = stmt.where(ExpectedRelease.on_date <= until)
    for site_id, category, count in ctx.session.execute(stmt):
        releasing[(site_id, category)] += count
    found: dict[int, list[PlacesPublic]] = defaultdict(list)
    for row in ctx.session.scalars(select(SitePlaces).order_by(SitePlaces.site_id, SitePlaces.category)):
        found[row.site_id].append(
            PlacesPublic(
                category=TransferCategory(row.category),
                places=row.places,
                occupied=row.occupied,
                free=max(row.places - row.occupied, 0),
                releasing=min(releasing[(row.site_id, row.category)], row.occupied),
            )
        )
    return found


def _record(ctx: Ctx, kind: EventKind, site: IsolationSite, **payload: object) -> None:
    record(ctx, kind, subject_type="site", subject_id=site.id, payload={"code": site.code, **payload})
