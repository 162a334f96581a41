"""HTTP API of site checklists (表格化清单式管理): the work manual, a day's sheet, checks in bulk, overdue alerts."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.isolation import service
from bihuan.isolation.checklist_schemas import (
    AlertsRaised,
    ChecksIn,
    ChecksRecorded,
    DaySheet,
    OverdueList,
    TemplateIn,
    TemplatePublic,
)

router = APIRouter(prefix="/api/sites", tags=["isolation"])


@router.get("/{site_id}/manual")
def site_manual(ctx: UserCtx, site_id: int) -> list[TemplatePublic]:
    """The checklist templates that apply at the site: the platform's default manual and the site's own."""
    return [service.template_public(template) for template in service.site_manual(ctx, site_id)]


@router.post("/{site_id}/manual/templates", status_code=201)
def add_template(ctx: UserCtx, profile: ProfileDep, site_id: int, data: TemplateIn) -> TemplatePublic:
    """Add a template to the site's manual; its code again with other items is a new version."""
    return service.template_public(service.add_template(ctx, profile, site_id, data))


@router.get("/{site_id}/checklists")
def day_sheet(ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int, day: date | None = None) -> DaySheet:
    """Every item due on the local day (default today), shift by shift, with its check and whether overdue."""
    return service.day_sheet(ctx, profile, site_id, day or ctx.clock.now().astimezone(zone).date(), zone)


@router.post("/{site_id}/checklists")
def record_checks(ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int, data: ChecksIn) -> ChecksRecorded:
    """Record many checks at once: none stored if one is refused; the same check again changes nothing."""
    return service.record_checks(ctx, profile, site_id, data.entries, zone)


@router.get("/{site_id}/checklists/overdue")
def overdue(ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int) -> OverdueList:
    """Items of yesterday's and today's shifts left unsettled after the shift's end (plus the grace)."""
    items = service.overdue(ctx, profile, site_id, ctx.clock.now(), zone)
    return OverdueList(data=items, count=len(items))


@router.post("/{site_id}/checklists/overdue")
def raise_overdue_alerts(ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int) -> AlertsRaised:
    """Raise one alert per overdue item (raising again adds none); answers with the site's open alerts."""
    return service.raise_overdue_alerts(ctx, profile, site_id, ctx.clock.now(), zone)
