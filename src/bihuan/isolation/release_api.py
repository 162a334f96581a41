"""HTTP API of release (解除隔离) and of the home phase's tasks for community workers (居家健康监测)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends

from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.core.errors import Conflict
from bihuan.isolation.choices import HomeTaskKind
from bihuan.isolation.release_schemas import (
    HomeTaskPublic,
    HomeTaskRecord,
    HomeTasksPublic,
    ReleaseCandidatePublic,
    ReleaseIn,
    ReleaseOutcomePublic,
)
from bihuan.isolation.service import home, release
from bihuan.people.schemas import Page

router = APIRouter(tags=["isolation"])
PageDep = Annotated[Page, Depends()]


@router.get("/api/sites/{site_id}/release-list")
def release_list(ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int) -> list[ReleaseCandidatePublic]:
    """People whose release day has come (or comes tomorrow), ready ones first, the others with the reasons."""
    today = ctx.clock.now().astimezone(zone).date()
    return release.release_list(ctx, profile, site_id, today)


@router.post("/api/sites/{site_id}/release")
def release_people(
    ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int, data: ReleaseIn
) -> ReleaseOutcomePublic:
    """Release those whose plan and release tests allow it; 409 with the reasons when nobody could go."""
    today = ctx.clock.now().astimezone(zone).date()
    outcome = release.release(ctx, profile, site_id, data.stay_ids, today)
    if outcome.refused and not outcome.released and not outcome.already:
        raise Conflict("; ".join(f"stay {stay_id}: {reason}" for stay_id, reason in outcome.refused.items()))
    return outcome


@router.get("/api/home-tasks")
def list_home_tasks(
    ctx: UserCtx,
    zone: ZoneDep,
    page: PageDep,
    day: date | None = None,
    open_only: bool = True,
    kind: HomeTaskKind | None = None,
) -> HomeTasksPublic:
    """Home-phase tasks of your jurisdiction due on the day (default today), and open ones left from before."""
    today = ctx.clock.now().astimezone(zone).date()
    rows, count = home.list_home_tasks(ctx, day or today, page, open_only=open_only, kind=kind)
    return HomeTasksPublic(count=count, missed_before_today=home.missed_count(ctx, today), data=rows)


@router.post("/api/home-tasks/{task_id}")
def record_home_task(ctx: UserCtx, zone: ZoneDep, task_id: int, data: HomeTaskRecord) -> HomeTaskPublic:
    """Record a task done, or missed with a note."""
    return home.record_home_task(ctx, task_id, data, ctx.clock.now().astimezone(zone).date())


@router.post("/api/home-monitoring/end-finished")
def end_finished_phases(ctx: UserCtx, zone: ZoneDep) -> dict[str, int]:
    """The daily close: home phases of your jurisdiction past their last day end; what was not recorded is missed."""
    return {"ended": home.end_finished_phases(ctx, ctx.clock.now().astimezone(zone).date())}
