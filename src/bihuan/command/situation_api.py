"""HTTP API of the situation (态势): the day's document the dashboard and the daily report (日报) show,
the daily report as JSON, and a live stream that tells a page when it should read again.

Read with ``READ_TRACING``, checked in the service; people are those of the user's jurisdiction. The
stream (server-sent events) looks every ``POLL_SECONDS`` for events recorded in the user's scope and
sends ``changed`` with the latest event id when there are new ones, and a heartbeat comment meanwhile;
it ends when the client goes away (or after ``max_events`` changes, for scripts and tests).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from bihuan.command import report
from bihuan.command.report import DailyReportPublic
from bihuan.command.situation import latest_event_id, situation
from bihuan.command.situation_schemas import SituationPublic
from bihuan.core.context import Actor, Ctx
from bihuan.core.db import Database
from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep, get_clock, get_database
from bihuan.core.permissions import Permission, require
from bihuan.loop.reading import subtree_path
from bihuan.web.templating import request_language

router = APIRouter(tags=["situation"])

POLL_SECONDS = 3.0  # how often the stream looks for new events
HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies from closing a quiet stream
RETRY_MS = 5000  # how long a browser waits before reconnecting a dropped stream
DaysQuery = Annotated[int | None, Query(description="days on the epi curve, ending on `day` (default 14)")]


@router.get("/api/situation")
def read_situation(
    ctx: UserCtx,
    profile: ProfileDep,
    zone: ZoneDep,
    day: date | None = None,
    jurisdiction_id: int | None = None,
    days: DaysQuery = None,
) -> SituationPublic:
    """The situation of a local day (default today) over your jurisdiction (or a narrower one): the epi
    curve by onset and by report day split quarantine/community, the funnel, delays against targets,
    open loops, bottlenecks, capacity, the map and the incident in force."""
    return situation(ctx, profile, ctx.clock.now(), day=day, jurisdiction_id=jurisdiction_id, days=days, zone=zone)


@router.get("/api/reports/daily")
def daily_report(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    day: date | None = None,
    jurisdiction_id: int | None = None,
    days: DaysQuery = None,
) -> DailyReportPublic:
    """The daily report (日报) of a local day: the situation's document and the report's sentences in the
    request's language (``?lang=zh-CN|en``), the same numbers as the HTML and PDF report."""
    found = situation(ctx, profile, ctx.clock.now(), day=day, jurisdiction_id=jurisdiction_id, days=days, zone=zone)
    return report.daily_report(found, profile, request_language(request))


def _frame(event: str, event_id: int) -> str:
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps({'latest_event_id': event_id})}\n\n"


def _latest(database: Database, request: Request, actor: Actor, within: str | None) -> int:
    with database.session() as session:
        return latest_event_id(Ctx(session=session, clock=get_clock(request), actor=actor), within)


async def _changes(
    request: Request, actor: Actor, within: str | None, after: int, max_events: int | None
) -> AsyncIterator[str]:
    """`changed` whenever the scope's latest event id passes the last one sent; heartbeats meanwhile."""
    database = get_database(request)
    sent, quiet = 0, 0.0
    yield f"retry: {RETRY_MS}\n\n"
    while not await request.is_disconnected():
        latest = await anyio.to_thread.run_sync(_latest, database, request, actor, within)
        if latest > after:
            after, sent, quiet = latest, sent + 1, 0.0
            yield _frame("changed", latest)
            if max_events is not None and sent >= max_events:
                return
        elif quiet >= HEARTBEAT_SECONDS:
            quiet = 0.0
            yield ": heartbeat\n\n"
        await anyio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS


@router.get("/api/situation/stream", response_class=StreamingResponse)
def situation_stream(
    ctx: UserCtx,
    request: Request,
    jurisdiction_id: int | None = None,
    after: Annotated[int | None, Query(ge=0, description="the last event id the page has read")] = None,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
    max_events: Annotated[int | None, Query(ge=1, description="end after this many changes")] = None,
) -> StreamingResponse:
    """Server-sent events: ``changed`` (with the latest event id) when new events were recorded in your
    jurisdiction since `after` (or the browser's Last-Event-ID; else since connecting)."""
    require(ctx.actor, Permission.READ_TRACING)
    within = subtree_path(ctx, jurisdiction_id)
    start = after if after is not None else last_event_id
    if start is None:
        start = latest_event_id(ctx, within)
    return StreamingResponse(
        _changes(request, ctx.actor, within, start, max_events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
