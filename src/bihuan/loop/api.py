"""HTTP API of the closed loop (量化闭环): a person's timeline, the open loops, the stage delays, the funnel
and where new cases were found.

Read with ``READ_TRACING`` (commanders, analysts, investigators, transfer and site teams, community
workers), checked in the service; people are those of the user's jurisdiction.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends

from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.core.errors import FieldError
from bihuan.loop import metrics, service
from bihuan.loop.choices import Link, Stage
from bihuan.loop.schemas import (
    FoundInQuarantinePublic,
    FunnelPublic,
    OpenLoopsPublic,
    StageDelaysPublic,
    TimelinePublic,
)
from bihuan.people.schemas import Page

router = APIRouter(prefix="/api/loop", tags=["loop"])
PageDep = Annotated[Page, Depends()]


@router.get("/people/{person_id}/timeline")
def person_timeline(ctx: UserCtx, profile: ProfileDep, person_id: int) -> TimelinePublic:
    """The person's stages reached, timed stages against the profile's targets, and closed or where stuck."""
    return service.timeline(ctx, profile, person_id, ctx.clock.now())


@router.get("/open")
def open_loops(
    ctx: UserCtx,
    profile: ProfileDep,
    page: PageDep,
    stage: Stage | None = None,
    link: Link | None = None,
    overdue: bool | None = None,
    jurisdiction_id: int | None = None,
) -> OpenLoopsPublic:
    """Open loops of your jurisdiction (`stage`: where they stand), overdue first, with the totals."""
    return service.open_loops(
        ctx,
        profile,
        ctx.clock.now(),
        page=page,
        stage=stage,
        link=link,
        overdue=overdue,
        jurisdiction_id=jurisdiction_id,
    )


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise FieldError(name, "needs a time zone (e.g. 2021-12-10T08:00:00+08:00)")
    return value


@router.get("/delays")
def stage_delays(
    ctx: UserCtx,
    profile: ProfileDep,
    since: datetime | None = None,
    until: datetime | None = None,
    jurisdiction_id: int | None = None,
) -> StageDelaysPublic:
    """Per timed stage, the delays that ended in [since, until) (default: the 24 hours to now) against target."""
    end = _aware("until", until) or ctx.clock.now()
    start = _aware("since", since) or end - timedelta(days=1)
    return service.stage_delays(ctx, profile, start, end, jurisdiction_id)


def _days(ctx: UserCtx, zone: ZoneInfo, since: date | None, until: date | None) -> tuple[date, date]:
    """The local days asked for: `until` defaults to today, `since` to `until`."""
    last = until or ctx.clock.now().astimezone(zone).date()
    return since or last, last


@router.get("/funnel")
def funnel(
    ctx: UserCtx,
    profile: ProfileDep,
    zone: ZoneDep,
    since: date | None = None,
    until: date | None = None,
    jurisdiction_id: int | None = None,
    by: metrics.By = "day",
) -> FunnelPublic:
    """People reaching each stage per local day from `since` to `until` (both included; default today), with
    the running totals (entered = closed + open)."""
    first, last = _days(ctx, zone, since, until)
    return metrics.funnel(ctx, profile, first, last, zone, jurisdiction_id=jurisdiction_id, by=by)


@router.get("/found-in-quarantine")
def found_in_quarantine(
    ctx: UserCtx,
    profile: ProfileDep,
    zone: ZoneDep,
    since: date | None = None,
    until: date | None = None,
    jurisdiction_id: int | None = None,
) -> FoundInQuarantinePublic:
    """Cases confirmed per local day from `since` to `until` (both included; default today): found already
    in quarantine (central site, in-place control) or in the community."""
    first, last = _days(ctx, zone, since, until)
    return metrics.found_in_quarantine(ctx, profile, first, last, zone, jurisdiction_id=jurisdiction_id)
