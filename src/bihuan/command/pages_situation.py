"""Pages of the situation (态势): the command dashboard and one person's loop timeline.

The dashboard is rendered on the server with every number in the HTML (headline figures, the funnel,
delays against targets, bottlenecks, capacity gauges, a table under the epi curve), so it works and is
read without JavaScript; situation.js then draws the charts and the map and keeps the numbers live
from the server-sent events of /api/situation/stream. Reads need ``READ_TRACING``, checked in the
services, and show the user's jurisdiction (or a narrower one they pick).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from urllib.parse import urlencode

from babel.support import Translations
from fastapi import APIRouter, Request
from fastapi.responses import Response

from bihuan.command import _situation_labels as labels
from bihuan.command.capacity_schemas import GaugePublic
from bihuan.command.situation import situation
from bihuan.command.situation_schemas import MapSitePublic, SituationPublic
from bihuan.core.context import Ctx
from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.core.errors import FieldError
from bihuan.loop import service as loop
from bihuan.loop.schemas import StandingPublic
from bihuan.people.choices import JurisdictionLevel
from bihuan.people.schemas import MAX_PAGE_SIZE, Page
from bihuan.people.service import list_jurisdictions
from bihuan.protocol import ProtocolProfile
from bihuan.web.formatting import format_number, format_percent
from bihuan.web.templating import render, request_language, request_translations, url_with_params

router = APIRouter(include_in_schema=False)
PICKER_LEVELS = (JurisdictionLevel.PROVINCE, JurisdictionLevel.CITY, JurisdictionLevel.COUNTY, JurisdictionLevel.STREET)
T = TypeVar("T")
OVERDUE_SHOWN = 10  # open loops listed under the bottlenecks, longest overdue first


# -- the dashboard -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """The dashboard's choices from its query string: a local day, a narrower jurisdiction, the curve's days."""

    day: date | None
    jurisdiction_id: int | None
    days: int | None

    @classmethod
    def parse(cls, day: str, jurisdiction_id: str, days: str) -> Query:
        """Blank means the default; anything else must parse, or the field is named with the reason."""
        return cls(
            day=_parsed("day", day, date.fromisoformat, "a date like 2021-12-10"),
            jurisdiction_id=_parsed("jurisdiction_id", jurisdiction_id, int, "a jurisdiction's id"),
            days=_parsed("days", days, int, "a whole number of days"),
        )


def _parsed(field: str, text: str, parse: Callable[[str], T], expected: str) -> T | None:
    text = text.strip()
    if not text:
        return None
    try:
        return parse(text)
    except ValueError:
        raise FieldError(field, f"must be {expected}, not {text!r}") from None


@dataclass(frozen=True)
class PickerRow:
    id: int
    name: str
    indent: int


def _picker(ctx: Ctx, english: bool) -> list[PickerRow]:
    """Jurisdictions the user may narrow the dashboard to, down to the street, in tree order."""
    found = []
    for level in PICKER_LEVELS:
        found.extend(list_jurisdictions(ctx, Page(page=1, page_size=MAX_PAGE_SIZE), level=level)[0])
    found.sort(key=lambda j: j.path)
    top = min((j.path.count("/") for j in found), default=0)
    picked = [PickerRow(j.id, (j.name_en or j.name) if english else j.name, j.path.count("/") - top) for j in found]
    return picked if len(picked) > 1 else []


def _overdue_people(ctx: Ctx, profile: ProtocolProfile, data: SituationPublic) -> list[StandingPublic]:
    """The longest overdue open loops now, each linked to its timeline."""
    page = Page(page=1, page_size=OVERDUE_SHOWN)
    return loop.open_loops(ctx, profile, data.as_of, page=page, overdue=True, jurisdiction_id=data.jurisdiction_id).data


def _stream_url(data: SituationPublic) -> str:
    """The events that should refresh the dashboard: those after the last one it shows, in its scope."""
    params: dict[str, int] = {"after": data.latest_event_id}
    if data.jurisdiction_id is not None:
        params["jurisdiction_id"] = data.jurisdiction_id
    return f"/api/situation/stream?{urlencode(params)}"


@dataclass(frozen=True)
class GaugeView:
    """A capacity gauge as the page draws it: its words, how full (0–100+) and its status."""

    key: str
    label: str
    status: str
    percent: int
    detail: str


def _gauge(gauge: GaugePublic, t: Translations, language: str) -> GaugeView:
    numbers = {
        "used": format_number(gauge.used, language),
        "total": format_number(gauge.total, language),
        "share": format_percent(gauge.ratio, language),
        "strained": format_percent(gauge.strained_at, language),
        "alert": format_percent(gauge.alert_at, language),
    }
    return GaugeView(
        key=gauge.resource.value,
        label=labels.resource_labels(t).get(gauge.resource, gauge.resource.value),
        status=gauge.status.value,
        percent=round(gauge.ratio * 100),
        detail=t.gettext("%(used)s of %(total)s in use (%(share)s); strained from %(strained)s, alert from %(alert)s")
        % numbers,
    )


def _site_label(site: MapSitePublic, t: Translations) -> str:
    return t.gettext("%(name)s: %(free)s free of %(total)s") % {
        "name": site.name,
        "free": site.free,
        "total": site.total,
    }


def _chart(data: SituationPublic, t: Translations, stage_names: dict[str, str]) -> dict[str, Any]:
    """What situation.js draws, its labels in the page language."""
    days = data.epi_curve.days
    found = labels.found_labels(t)
    return {
        "labels": {
            "quarantine": t.gettext("Found in quarantine"),
            "community": t.gettext("Found in the community"),
            "onset": t.gettext("Onset date"),
            "report": t.gettext("Report date"),
            "cases": t.gettext("Cases"),
        },
        "epi": {
            "days": [d.day.isoformat()[5:] for d in days],
            "onset": {
                "quarantine": [d.by_onset.quarantine for d in days],
                "community": [d.by_onset.community for d in days],
            },
            "report": {
                "quarantine": [d.by_report.quarantine for d in days],
                "community": [d.by_report.community for d in days],
            },
        },
        "funnel": [
            {"label": stage_names.get(row.stage, row.stage), "value": row.cumulative}
            for row in data.funnel.stages
            if row.cumulative
        ],
        "map": {
            "cases": [
                {
                    "lat": c.lat,
                    "lon": c.lon,
                    "found": "community" if c.found == "community" else "quarantine",
                    "label": f"{c.jurisdiction_name} · {c.reported_on.isoformat()} · {found.get(c.found, c.found)}",
                }
                for c in data.map.cases
            ],
            "sites": [
                {"lat": s.lat, "lon": s.lon, "status": s.status, "label": _site_label(s, t)} for s in data.map.sites
            ],
        },
    }


@router.get("/situation")
def dashboard(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    day: str = "",
    jurisdiction_id: str = "",
    days: str = "",
    fragment: str = "",
) -> Response:
    """The command dashboard (态势) of a local day over the user's jurisdiction or a narrower one."""
    query = Query.parse(day, jurisdiction_id, days)
    now = ctx.clock.now()
    data = situation(
        ctx, profile, now, day=query.day, jurisdiction_id=query.jurisdiction_id, days=query.days, zone=zone
    )
    live = data.as_of >= now  # today's; a past day's numbers are kept as they were
    t = request_translations(request)
    language = request_language(request)
    stage_names = labels.stage_labels(t)
    context = {
        "s": data,
        "english": language == "en",
        "days_shown": len(data.epi_curve.days),
        "stage_labels": stage_names,
        "delay_labels": labels.delay_labels(t),
        "link_labels": labels.link_labels(profile, language == "en"),
        "status_labels": labels.gauge_status_labels(t),
        "gauges": [_gauge(g, t, language) for g in data.capacity.gauges],
        "overdue_people": _overdue_people(ctx, profile, data) if live else None,
        "chart": _chart(data, t, stage_names),
        "fragment_url": url_with_params(request, fragment="live"),
        "stream_url": _stream_url(data) if live else "",
    }
    if fragment == "live":
        return render(request, "command/_situation_live.html", context)
    return render(request, "command/situation.html", {**context, "jurisdictions": _picker(ctx, language == "en")})


# -- one person's loop ---------------------------------------------------------------------------------


@router.get("/situation/people/{person_id}")
def person_timeline(ctx: UserCtx, request: Request, profile: ProfileDep, person_id: int) -> Response:
    """A person's loop (个人闭环): stages reached, timed stages against the targets, each event."""
    t = request_translations(request)
    context = {
        "timeline": loop.timeline(ctx, profile, person_id, ctx.clock.now()),
        "stage_labels": labels.stage_labels(t),
        "delay_labels": labels.delay_labels(t),
        "link_labels": labels.link_labels(profile, request_language(request) == "en"),
    }
    return render(request, "command/loop_timeline.html", context)
