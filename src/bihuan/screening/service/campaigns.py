"""Testing rounds (一轮全员核酸检测): units with their pool sizes, targets and deadline, sampling sites, progress.

Scope: a user sees a round when at least one of its units lies inside their jurisdiction subtree,
and sees only those units (and the sites inside their subtree). A round is planned only over
units the planner sees.

Who may do what (until core.permissions holds screening permissions of its own):
``PLANNERS`` create and close rounds and add sites; ``SAMPLERS`` open tubes and scan people;
everyone who may read the register (READ_PEOPLE) reads rounds and their progress.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, exists, func, literal, select, true
from sqlalchemy.orm import aliased

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile, pool_size, round_deadline_hours
from bihuan.screening.choices import AreaKind, CampaignStatus, SampleKind
from bihuan.screening.models import Campaign, CampaignUnit, Sample, SamplingSite, Tube
from bihuan.screening.schemas.campaigns import (
    CampaignCreate,
    CampaignPublic,
    CampaignUnitPublic,
    ProgressPublic,
    SiteCreate,
    SiteProgress,
    UnitProgress,
)
from bihuan.screening.service import results

# -- scope -----------------------------------------------------------------------------------------------


def in_subtree(ctx: Ctx, jurisdiction_column: Any) -> ColumnElement[bool]:
    """A condition keeping rows whose jurisdiction lies in the actor's subtree (people.service.in_scope as a clause)."""
    if not ctx.actor.jurisdiction_path:
        return true()
    subtree = select(Jurisdiction.id).where(Jurisdiction.path.startswith(ctx.actor.jurisdiction_path))
    condition: ColumnElement[bool] = jurisdiction_column.in_(subtree)
    return condition


def _unit_in_scope(ctx: Ctx) -> Any:
    """A condition on Jurisdiction (joined to CampaignUnit) that keeps the units the actor sees."""
    return Jurisdiction.path.startswith(ctx.actor.jurisdiction_path)


def _visible_campaigns(ctx: Ctx) -> Select[Any]:
    stmt = select(Campaign)
    if ctx.actor.jurisdiction_path:
        visible_unit = (
            select(CampaignUnit.id)
            .join(Jurisdiction, Jurisdiction.id == CampaignUnit.jurisdiction_id)
            .where(CampaignUnit.campaign_id == Campaign.id, _unit_in_scope(ctx))
        )
        stmt = stmt.where(exists(visible_unit))
    return stmt


def get_campaign(ctx: Ctx, campaign_id: int) -> Campaign:
    """A round the actor sees; outside their subtree it does not exist."""
    require(ctx.actor, Permission.READ_PEOPLE)
    found = ctx.session.scalar(_visible_campaigns(ctx).where(Campaign.id == campaign_id))
    if found is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return found


def campaign_status(campaign: Campaign, now: datetime) -> CampaignStatus:
    """Planned until it starts, running until closed."""
    if campaign.closed_at is not None or campaign.status == CampaignStatus.CLOSED:
        return CampaignStatus.CLOSED
    return CampaignStatus.RUNNING if now >= campaign.starts_at else CampaignStatus.PLANNED


def require_running(ctx: Ctx, campaign: Campaign) -> None:
    """Sampling happens only in a round that has started and is not closed."""
    status = campaign_status(campaign, ctx.clock.now())
    if status is CampaignStatus.CLOSED:
        raise Conflict(f"campaign {campaign.code} is closed")
    if status is CampaignStatus.PLANNED:
        raise Conflict(f"campaign {campaign.code} starts at {campaign.starts_at.isoformat()}")


# -- creating a round ------------------------------------------------------------------------------------


def _check_units(ctx: Ctx, data: CampaignCreate) -> dict[int, Jurisdiction]:
    ids = [unit.jurisdiction_id for unit in data.units]
    found = {j.id: j for j in ctx.session.scalars(select(Jurisdiction).where(Jurisdiction.id.in_(ids)))}
    seen: dict[int, int] = {}
    for index, unit in enumerate(data.units):
        field = f"units.{index}.jurisdiction_id"
        place = found.get(unit.jurisdiction_id)
        if place is None or not ctx.actor.sees(place.path):
            raise FieldError(
                field, f"jurisdiction {unit.jurisdiction_id} does not exist or is outside your jurisdiction"
            )
        if unit.jurisdiction_id in seen:
            raise FieldError(
                field, f"jurisdiction {unit.jurisdiction_id} is listed twice (also units.{seen[unit.jurisdiction_id]})"
            )
        seen[unit.jurisdiction_id] = index
    paths = sorted((found[i].path, i) for i in ids)
    for (outer, outer_id), (inner, inner_id) in itertools.pairwise(paths):
        if inner.startswith(outer):
            raise FieldError(
                f"units.{seen[inner_id]}.jurisdiction_id",
                f"{found[inner_id].name} lies inside {found[outer_id].name}: units of a round must not overlap",
            )
    return found


def registered_population(ctx: Ctx, jurisdiction_ids: Iterable[int]) -> dict[int, int]:
    """Registered persons in the subtree of each jurisdiction, in one grouped query."""
    ids = list(jurisdiction_ids)
    unit = aliased(Jurisdiction)
    home = aliased(Jurisdiction)
    stmt = (
        select(unit.id, func.count(Person.id))
        .select_from(unit)
        .join(home, home.path.startswith(unit.path))
        .join(Person, Person.jurisdiction_id == home.id)
        .where(unit.id.in_(ids))
        .group_by(unit.id)
    )
    counts = {i: 0 for i in ids}
    counts.update({jid: n for jid, n in ctx.session.execute(stmt)})
    return counts


def _common_ancestor(ctx: Ctx, places: Iterable[Jurisdiction]) -> int | None:
    parts = [p.path.rstrip("/").split("/") for p in places]
    common: list[str] = []
    for codes in zip(*parts, strict=False):
        if len(set(codes)) != 1:
            break
        common.append(codes[0])
    if not common:
        return None
    return ctx.session.scalar(select(Jurisdiction.id).where(Jurisdiction.path == "/".join(common) + "/"))


def create_campaign(ctx: Ctx, data: CampaignCreate, profile: ProtocolProfile) -> CampaignPublic:
    """Plan a round: each unit's pool size from its area kind, its target from the register, the deadline
    from the round's population (all per the profile), and a `campaign_created` event."""
    require(ctx.actor, Permission.PLAN_SCREENING)
    places = _check_units(ctx, data)
    if ctx.session.scalar(select(Campaign.id).where(Campaign.code == data.code)) is not None:
        raise FieldError("code", f"a campaign with code {data.code} exists")
    now = ctx.clock.now()
    starts_at = data.starts_at or now
    targets = registered_population(ctx, places)
    population = sum(targets.values())
    hours = round_deadline_hours(population, profile, delineated_area=data.delineated_area)
    campaign = Campaign(
        code=data.code,
        name=data.name,
        status=(CampaignStatus.RUNNING if starts_at <= now else CampaignStatus.PLANNED).value,
        starts_at=starts_at,
        deadline_at=starts_at + timedelta(hours=hours),
        closed_at=None,
        created_at=now,
    )
    ctx.session.add(campaign)
    ctx.session.flush()
    units = [
        CampaignUnit(
            campaign_id=campaign.id,
            jurisdiction_id=unit.jurisdiction_id,
            area_kind=unit.area_kind.value,
            pool_size=pool_size(unit.area_kind, profile),
            target=targets[unit.jurisdiction_id],
        )
        for unit in data.units
    ]
    ctx.session.add_all(units)
    ctx.session.flush()
    record(
        ctx,
        EventKind.CAMPAIGN_CREATED,
        jurisdiction_id=_common_ancestor(ctx, places.values()),
        subject_type="campaign",
        subject_id=campaign.id,
        refs={"jurisdiction_ids": [u.jurisdiction_id for u in units]},
        payload={
            "code": campaign.code,
            "target": population,
            "deadline_hours": hours,
            "profile": str(profile.about.name),
            "pool_sizes": {str(u.jurisdiction_id): u.pool_size for u in units},
        },
    )
    return campaign_views(ctx, [campaign])[0]


def close_campaign(ctx: Ctx, campaign_id: int) -> CampaignPublic:
    """End a round (`campaign_closed`); its open tubes close with it. Closing twice changes nothing."""
    require(ctx.actor, Permission.PLAN_SCREENING)
    campaign = get_campaign(ctx, campaign_id)
    if campaign.closed_at is None:
        now = ctx.clock.now()
        campaign.status = CampaignStatus.CLOSED.value
        campaign.closed_at = now
        still_open = list(
            ctx.session.scalars(select(Tube).where(Tube.campaign_id == campaign.id, Tube.closed_at.is_(None)))
        )
        for tube in still_open:
            tube.closed_at = now
        ctx.session.flush()
        if still_open:
            results.on_tubes_opened(ctx, still_open)
        progress = campaign_progress(ctx, campaign.id)
        record(
            ctx,
            EventKind.CAMPAIGN_CLOSED,
            subject_type="campaign",
            subject_id=campaign.id,
            payload={
                "code": campaign.code,
                "target": progress.target,
                "sampled": progress.sampled,
                "overdue": progress.overdue,
            },
        )
    return campaign_views(ctx, [campaign])[0]


# -- reading rounds --------------------------------------------------------------------------------------


def campaign_views(ctx: Ctx, campaigns: list[Campaign]) -> list[CampaignPublic]:
    """Rounds with the units the actor sees: one query for the units of all of them."""
    ids = [c.id for c in campaigns]
    stmt = (
        select(CampaignUnit, Jurisdiction.code, Jurisdiction.name)
        .join(Jurisdiction, Jurisdiction.id == CampaignUnit.jurisdiction_id)
        .where(CampaignUnit.campaign_id.in_(ids), _unit_in_scope(ctx))
        .order_by(Jurisdiction.path)
    )
    units: dict[int, list[CampaignUnitPublic]] = {i: [] for i in ids}
    for unit, code, name in ctx.session.execute(stmt):
        units[unit.campaign_id].append(
            CampaignUnitPublic(
                id=unit.id,
                jurisdiction_id=unit.jurisdiction_id,
                jurisdiction_code=code,
                jurisdiction_name=name,
                area_kind=AreaKind(unit.area_kind),
                pool_size=unit.pool_size,
                target=unit.target,
            )
        )
    now = ctx.clock.now()
    return [
        CampaignPublic(
            id=c.id,
            code=c.code,
            name=c.name,
            status=campaign_status(c, now),
            starts_at=c.starts_at,
            deadline_at=c.deadline_at,
            closed_at=c.closed_at,
            created_at=c.created_at,
            target=sum(u.target for u in units[c.id]),
            units=units[c.id],
        )
        for c in campaigns
    ]


def get_campaign_view(ctx: Ctx, campaign_id: int) -> CampaignPublic:
    return campaign_views(ctx, [get_campaign(ctx, campaign_id)])[0]


def list_campaigns(ctx: Ctx, page: Page, *, status: CampaignStatus | None = None) -> tuple[list[CampaignPublic], int]:
    """The rounds the actor sees, newest first (three queries, however many rounds and units)."""
    require(ctx.actor, Permission.READ_PEOPLE)
    stmt = _visible_campaigns(ctx)
    now = ctx.clock.now()
    if status is CampaignStatus.CLOSED:
        stmt = stmt.where(Campaign.closed_at.is_not(None))
    elif status is CampaignStatus.RUNNING:
        stmt = stmt.where(Campaign.closed_at.is_(None), Campaign.starts_at <= now)
    elif status is CampaignStatus.PLANNED:
        stmt = stmt.where(Campaign.closed_at.is_(None), Campaign.starts_at > now)
    count = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        ctx.session.scalars(
            stmt.order_by(Campaign.starts_at.desc(), Campaign.id.desc()).limit(page.page_size).offset(page.offset)
        )
    )
    return campaign_views(ctx, rows), count


def sampled_by_campaign(ctx: Ctx, campaign_ids: list[int]) -> dict[int, int]:
    """Distinct persons sampled (duplicates not counted) in each round, among the persons the actor sees."""
    stmt = (
        select(Sample.campaign_id, func.count(distinct(Sample.person_id)))
        .join(Person, Person.id == Sample.person_id)
        .where(
            Sample.campaign_id.in_(campaign_ids),
            Sample.kind == SampleKind.SCREENING.value,
            Sample.duplicate.is_(False),
            in_subtree(ctx, Person.jurisdiction_id),
        )
        .group_by(Sample.campaign_id)
    )
    counts = {i: 0 for i in campaign_ids}
    counts.update({cid: n for cid, n in ctx.session.execute(stmt) if cid is not None})
    return counts


# -- sampling sites (采样点) ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitOf:
    """The round's unit a place lies in."""

    unit_id: int
    jurisdiction_id: int
    pool_size: int
    area_kind: AreaKind


def unit_of_place(ctx: Ctx, campaign_id: int, jurisdiction_id: int) -> UnitOf | None:
    """The unit of the round whose subtree holds this jurisdiction, or None (units never overlap)."""
    path = ctx.session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction_id))
    return None if path is None else unit_of_path(ctx, campaign_id, path)


def unit_of_path(ctx: Ctx, campaign_id: int, path: str) -> UnitOf | None:
    """The unit of the round whose subtree holds the place with this materialised path."""
    row = ctx.session.execute(
        select(CampaignUnit.id, CampaignUnit.jurisdiction_id, CampaignUnit.pool_size, CampaignUnit.area_kind)
        .join(Jurisdiction, Jurisdiction.id == CampaignUnit.jurisdiction_id)
        .where(CampaignUnit.campaign_id == campaign_id, literal(path).startswith(Jurisdiction.path))
    ).first()
    return None if row is None else UnitOf(row[0], row[1], row[2], AreaKind(row[3]))


def create_site(ctx: Ctx, campaign_id: int, data: SiteCreate) -> SamplingSite:
    """A sampling point inside one of the round's units, with its hours and hourly capacity."""
    require(ctx.actor, Permission.PLAN_SCREENING)
    campaign = get_campaign(ctx, campaign_id)
    if campaign.closed_at is not None:
        raise Conflict(f"campaign {campaign.code} is closed")
    if data.closes_at <= data.opens_at:
        raise FieldError("closes_at", "must be after opens_at")
    place = ctx.session.get(Jurisdiction, data.jurisdiction_id)
    if place is None or not ctx.actor.sees(place.path):
        raise FieldError(
            "jurisdiction_id", f"jurisdiction {data.jurisdiction_id} does not exist or is outside your jurisdiction"
        )
    if unit_of_place(ctx, campaign.id, place.id) is None:
        raise FieldError("jurisdiction_id", f"{place.name} is not inside any unit of campaign {campaign.code}")
    taken = select(SamplingSite.id).where(SamplingSite.campaign_id == campaign.id, SamplingSite.code == data.code)
    if ctx.session.scalar(taken) is not None:
        raise FieldError("code", f"campaign {campaign.code} already has a site {data.code}")
    site = SamplingSite(campaign_id=campaign.id, **data.model_dump())
    ctx.session.add(site)
    ctx.session.flush()
    return site


def _visible_sites(ctx: Ctx, campaign_id: int) -> Select[Any]:
    return select(SamplingSite).where(
        SamplingSite.campaign_id == campaign_id, in_subtree(ctx, SamplingSite.jurisdiction_id)
    )


def list_sites(ctx: Ctx, campaign_id: int) -> list[SamplingSite]:
    get_campaign(ctx, campaign_id)
    return list(ctx.session.scalars(_visible_sites(ctx, campaign_id).order_by(SamplingSite.code)))


def get_site(ctx: Ctx, site_id: int, *, field: str = "site_id") -> SamplingSite:
    """A site in the actor's subtree, or a FieldError naming ``field``."""
    site = ctx.session.scalar(
        select(SamplingSite).where(SamplingSite.id == site_id, in_subtree(ctx, SamplingSite.jurisdiction_id))
    )
    if site is None:
        raise FieldError(field, f"sampling site {site_id} does not exist or is outside your jurisdiction")
    return site


def site_capacity(site: SamplingSite) -> int:
    """How many people the site can sample over its opening hours."""
    hours = (site.closes_at - site.opens_at).total_seconds() / 3600
    return max(0, round(site.capacity_per_hour * hours))


# -- progress --------------------------------------------------------------------------------------------


def _share(done: int, target: int) -> float | None:
    return done / target if target > 0 else None


def _sample_counts() -> tuple[Any, Any]:
    screening = Sample.kind == SampleKind.SCREENING.value
    counted = func.count(distinct(case((Sample.duplicate.is_(False) & screening, Sample.person_id))))
    duplicates = func.coalesce(func.sum(case((Sample.duplicate.is_(True) & screening, 1), else_=0)), 0)
    return counted, duplicates


def _unit_progress(ctx: Ctx, campaign_id: int) -> list[UnitProgress]:
    unit_place = aliased(Jurisdiction)
    home = aliased(Jurisdiction)
    counted, duplicates = _sample_counts()
    sampled = (
        select(CampaignUnit.id.label("unit_id"), counted.label("sampled"), duplicates.label("duplicates"))
        .select_from(Sample)
        .join(Person, Person.id == Sample.person_id)
        .join(home, home.id == Person.jurisdiction_id)
        .join(CampaignUnit, CampaignUnit.campaign_id == Sample.campaign_id)
        .join(unit_place, (unit_place.id == CampaignUnit.jurisdiction_id) & home.path.startswith(unit_place.path))
        .where(Sample.campaign_id == campaign_id)
        .group_by(CampaignUnit.id)
        .subquery()
    )
    stmt = (
        select(CampaignUnit, Jurisdiction.name, sampled.c.sampled, sampled.c.duplicates)
        .join(Jurisdiction, Jurisdiction.id == CampaignUnit.jurisdiction_id)
        .outerjoin(sampled, sampled.c.unit_id == CampaignUnit.id)
        .where(CampaignUnit.campaign_id == campaign_id, _unit_in_scope(ctx))
        .order_by(Jurisdiction.path)
    )
    return [
        UnitProgress(
            unit_id=unit.id,
            jurisdiction_id=unit.jurisdiction_id,
            jurisdiction_name=name,
            area_kind=AreaKind(unit.area_kind),
            pool_size=unit.pool_size,
            target=unit.target,
            sampled=done or 0,
            duplicates=dups or 0,
            share=_share(done or 0, unit.target),
        )
        for unit, name, done, dups in ctx.session.execute(stmt)
    ]


def _site_progress(ctx: Ctx, campaign_id: int) -> list[SiteProgress]:
    counted, duplicates = _sample_counts()
    sampled = (
        select(Sample.site_id.label("site_id"), counted.label("sampled"), duplicates.label("duplicates"))
        .where(Sample.campaign_id == campaign_id)
        .group_by(Sample.site_id)
        .subquery()
    )
    stmt = (
        _visible_sites(ctx, campaign_id)
        .add_columns(sampled.c.sampled, sampled.c.duplicates)
        .outerjoin(sampled, sampled.c.site_id == SamplingSite.id)
        .order_by(SamplingSite.code)
    )
    rows = []
    for site, done, dups in ctx.session.execute(stmt):
        capacity = site_capacity(site)
        rows.append(
            SiteProgress(
                site_id=site.id,
                code=site.code,
                name=site.name,
                opens_at=site.opens_at,
                closes_at=site.closes_at,
                capacity=capacity,
                sampled=done or 0,
                duplicates=dups or 0,
                share=_share(done or 0, capacity),
            )
        )
    return rows


def campaign_progress(ctx: Ctx, campaign_id: int) -> ProgressPublic:
    """Sampled / target by unit and by site (distinct persons; duplicates apart), overall, and time left.

    Four queries whatever the number of units, sites and samples.
    """
    campaign = get_campaign(ctx, campaign_id)
    units = _unit_progress(ctx, campaign.id)
    sites = _site_progress(ctx, campaign.id)
    now = ctx.clock.now()
    target = sum(u.target for u in units)
    sampled = sum(u.sampled for u in units)
    ended = campaign.closed_at or now
    return ProgressPublic(
        campaign_id=campaign.id,
        code=campaign.code,
        name=campaign.name,
        status=campaign_status(campaign, now),
        starts_at=campaign.starts_at,
        deadline_at=campaign.deadline_at,
        as_of=now,
        hours_left=round((campaign.deadline_at - now).total_seconds() / 3600, 2),
        overdue=ended > campaign.deadline_at,
        target=target,
        sampled=sampled,
        duplicates=sum(u.duplicates for u in units),
        share=_share(sampled, target),
        units=units,
        sites=sites,
    )
