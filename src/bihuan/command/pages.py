"""Pages of the command system (指挥体系).

The daily report (日报) section: the report of a local day over the user's jurisdiction (or a narrower
one), as an HTML page and as a PDF, in the page language; both are written by ``command.report`` from the
one situation document the dashboard and the API show, so their numbers are the same. Reads need
``READ_TRACING``, checked in the service.

Other command pages append their own routes below, each in a section of its own.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bihuan.command.report import DailyReportPublic, daily_report
from bihuan.command.report_pdf import report_pdf
from bihuan.command.situation import situation
from bihuan.core.context import Ctx
from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.protocol import ProtocolProfile
from bihuan.web.templating import render, request_language

router = APIRouter(include_in_schema=False)


# -- the daily report (日报) -----------------------------------------------------------------------------


def _report(
    ctx: Ctx, request: Request, profile: ProtocolProfile, zone: ZoneInfo, day: date | None, jurisdiction_id: int | None
) -> DailyReportPublic:
    found = situation(ctx, profile, ctx.clock.now(), day=day, jurisdiction_id=jurisdiction_id, zone=zone)
    return daily_report(found, profile, request_language(request))


def _query(report: DailyReportPublic) -> str:
    """The report's own day and jurisdiction, so its links (PDF, JSON) show the very same report."""
    s = report.situation
    params = {"day": s.day.isoformat(), "lang": report.language}
    if s.jurisdiction_id is not None:
        params["jurisdiction_id"] = str(s.jurisdiction_id)
    return urlencode(params)


@router.get("/reports/daily")
def daily_report_page(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    day: date | None = None,
    jurisdiction_id: int | None = None,
) -> Response:
    """The daily report of a local day (default today): headline, delays, bottlenecks, capacity, cadence."""
    report = _report(ctx, request, profile, zone, day, jurisdiction_id)
    return render(request, "command/daily_report.html", {"report": report, "query": _query(report)})


@router.get("/reports/daily.pdf")
def daily_report_pdf(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    day: date | None = None,
    jurisdiction_id: int | None = None,
) -> Response:
    """The same report as a PDF (A4), named after its day and jurisdiction."""
    report = _report(ctx, request, profile, zone, day, jurisdiction_id)
    s = report.situation
    name = f"daily-report-{s.day.isoformat()}" + (f"-{s.jurisdiction_id}" if s.jurisdiction_id is not None else "")
    return Response(
        report_pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"', "Vary": "Accept-Language, Cookie"},
    )


# -- other command pages (append below) -------------------------------------------------------------------
