"""The situation (态势) of one local day over a jurisdiction: the one function the dashboard, the daily
report (日报) and /api/situation all read, so that they show the same numbers.

It assembles the loop's public reads — where new cases were found (``metrics.found_in_quarantine``),
the funnel (``metrics.funnel``), the stage delays (``service.stage_delays``), the open loops
(``service.open_loops``) — with the cases' onset days (the investigation's, else the case's), the
capacity gauges, the sites and the incident in force. Days are local days of the deployment's zone.
Permission: ``READ_TRACING``, as every loop read; people are those of the user's jurisdiction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from bihuan.command.capacity import capacity_gauges
from bihuan.command.choices import TaskForceLink
from bihuan.command.models import Incident
from bihuan.command.service._common import incidents_public
from bihuan.command.situation_schemas import (
    BottleneckPublic,
    DelayRowPublic,
    DelaysPublic,
    EpiCurvePublic,
    EpiDayPublic,
    FoundSplit,
    FunnelStagePublic,
    FunnelSummaryPublic,
    HeadlinePublic,
    IncidentSummaryPublic,
    LoopsPublic,
    MapCasePublic,
    MapPlacesPublic,
    MapPublic,
    MapSitePublic,
    SituationPublic,
)
from bihuan.config import get_settings
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.core.permissions import Permission, can, require
from bihuan.isolation.service.sites import list_sites
from bihuan.loop import metrics, reading, service
from bihuan.loop.choices import FoundWhere, Link, Stage
from bihuan.loop.schemas import FoundInQuarantinePublic, FunnelPublic, StageDelaysPublic
from bihuan.people.models import Address, Household, Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile
from bihuan.screening.models import Case
from bihuan.tracing.models import Investigation

DEFAULT_DAYS = 14  # the epi curve's window when none is asked for (a display choice, not protocol)
MAX_DAYS = 92  # the longest window one read draws


@dataclass(frozen=True, slots=True)
class Window:
    """The local day read, the curve's first day, and the instants they span in the zone."""

    day: date
    since: date
    start: datetime  # start of `since`
    day_start: datetime  # start of `day`
    end: datetime  # end of `day` (exclusive)
    as_of: datetime  # now for today, else the end of `day`
    today: bool


@dataclass(frozen=True, slots=True)
class _FoundCase:
    """A case on the curve and the map, on its local report day."""

    person_id: int
    reported_on: date
    found: FoundWhere


def situation(
    ctx: Ctx,
    profile: ProtocolProfile,
    now: datetime,
    *,
    day: date | None = None,
    jurisdiction_id: int | None = None,
    days: int | None = None,
    zone: ZoneInfo | None = None,
) -> SituationPublic:
    """The situation of local `day` (default today) over the actor's jurisdiction, or the narrower
    `jurisdiction_id` they see, with an epi curve of `days` days ending on `day`."""
    require(ctx.actor, Permission.READ_TRACING)
    zone = zone or ZoneInfo(get_settings().timezone)
    w = window(now, zone, day, days)
    within = reading.subtree_path(ctx, jurisdiction_id)
    found_cases = metrics.found_cases(ctx, profile, w.start, w.end, within)  # read once: the counts and the cases
    found = metrics.found_in_quarantine_of(found_cases, w.since, w.day, zone, jurisdiction_id)
    funnel = metrics.funnel(ctx, profile, w.day, w.day, zone, jurisdiction_id=jurisdiction_id)
    delays = service.stage_delays(ctx, profile, w.day_start, w.end, jurisdiction_id)
    cases = [_FoundCase(c.person_id, c.confirmed_at.astimezone(zone).date(), c.found) for c in found_cases]
    curve = _epi_curve(w, found, cases, _onsets(ctx, [c.person_id for c in cases]))
    loops = _loops(ctx, profile, w, funnel, jurisdiction_id)
    name, name_en = _names(ctx, jurisdiction_id)
    incident = _incident(ctx, w.as_of, within if within is not None else ctx.actor.jurisdiction_path)
    return SituationPublic(
        as_of=w.as_of,
        day=w.day,
        timezone=zone.key,
        since=w.since,
        until=w.day,
        jurisdiction_id=jurisdiction_id,
        jurisdiction_name=name,
        jurisdiction_name_en=name_en,
        report_every_hours=incident.report_every_hours if incident else profile.command.peacetime_report_hours,
        latest_event_id=latest_event_id(ctx, within, until=w.as_of),
        headline=_headline(curve, funnel, loops),
        epi_curve=curve,
        funnel=_funnel(funnel),
        delays=_delays(profile, delays),
        loops=loops,
        bottlenecks=_bottlenecks(profile, delays),
        capacity=capacity_gauges(ctx, profile, now, jurisdiction_id=jurisdiction_id),
        map=MapPublic(
            cases=(located := _located(ctx, cases)),
            sites=_sites(ctx),
            cases_without_location=len(cases) - len(located),
        ),
        incident=incident,
    )


def window(now: datetime, zone: ZoneInfo, day: date | None, days: int | None) -> Window:
    """The local days read: `day` (today by default, never after it) and the `days` ending on it."""
    today = now.astimezone(zone).date()
    day = day or today
    if day > today:
        raise FieldError("day", f"is after today ({today.isoformat()})")
    length = DEFAULT_DAYS if days is None else days
    if not 1 <= length <= MAX_DAYS:
        raise FieldError("days", f"must be from 1 to {MAX_DAYS}")
    since = day - timedelta(days=length - 1)
    end = _midnight(day + timedelta(days=1), zone)
    return Window(day, since, _midnight(since, zone), _midnight(day, zone), end, min(now, end), day == today)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def latest_event_id(ctx: Ctx, within: str | None, *, until: datetime | None = None) -> int:
    """The last event recorded in the actor's jurisdiction (and `within` subtree), or with no jurisdiction
    (sites, vehicles): what the live stream compares to tell the page that something changed."""
    stmt = select(func.max(Event.id))
    path = within if within is not None else ctx.actor.jurisdiction_path
    if path:
        subtree = select(Jurisdiction.id).where(Jurisdiction.path.startswith(path))
        stmt = stmt.where(or_(Event.jurisdiction_id.is_(None), Event.jurisdiction_id.in_(subtree)))
    if until is not None:
        stmt = stmt.where(Event.occurred_at <= until)
    return int(ctx.session.scalar(stmt) or 0)


# -- cases -------------------------------------------------------------------------------------------


def _onsets(ctx: Ctx, person_ids: Sequence[int]) -> dict[int, date]:
    """Each case's symptom onset: what the investigation established, else what the case was reported
    with; a case with neither (asymptomatic, or not yet known) has none."""
    if not person_ids:
        return {}
    stmt = (
        select(Case.person_id, Investigation.onset_date, Case.onset_date)
        .outerjoin(Investigation, Investigation.case_id == Case.id)
        .where(Case.person_id.in_(person_ids))
    )
    return {
        int(person): onset
        for person, investigated, reported in ctx.session.execute(stmt)
        if (onset := investigated or reported) is not None
    }


def _split(counts: Counter[bool]) -> FoundSplit:
    return FoundSplit(quarantine=counts[True], community=counts[False])


def _epi_curve(
    w: Window, found: FoundInQuarantinePublic, cases: Iterable[_FoundCase], onsets: dict[int, date]
) -> EpiCurvePublic:
    """Cases by report day (the loop's found-in-quarantine counts) and by onset day, each split into
    found in quarantine and found in the community."""
    by_onset: dict[date, Counter[bool]] = {d.day: Counter() for d in found.days}
    no_onset: dict[date, Counter[bool]] = {d.day: Counter() for d in found.days}
    before: Counter[bool] = Counter()
    for case in cases:
        quarantined = case.found is not FoundWhere.COMMUNITY
        onset = onsets.get(case.person_id)
        if onset is None:
            no_onset[case.reported_on][quarantined] += 1
        elif onset < w.since:
            before[quarantined] += 1
        elif onset in by_onset:
            by_onset[onset][quarantined] += 1
    days = [
        EpiDayPublic(
            day=d.day,
            by_onset=_split(by_onset[d.day]),
            by_report=FoundSplit(quarantine=d.in_quarantine, community=d.found[FoundWhere.COMMUNITY]),
            no_onset=_split(no_onset[d.day]),
        )
        for d in found.days
    ]
    return EpiCurvePublic(
        since=found.since,
        until=found.until,
        days=days,
        reported=FoundSplit(quarantine=found.in_quarantine, community=found.found[FoundWhere.COMMUNITY]),
        onset_before=_split(before),
        no_onset=_split(sum(no_onset.values(), Counter())),
    )


# -- the loop ----------------------------------------------------------------------------------------


def _funnel(funnel: FunnelPublic) -> FunnelSummaryPublic:
    [day] = funnel.days
    return FunnelSummaryPublic(
        stages=[
            FunnelStagePublic(stage=s, today=day.reached[s], cumulative=day.reached_cumulative[s])
            for s in funnel.stages
        ],
        entered_today=day.entered,
        closed_today=day.closed,
        entered=funnel.entered,
        closed=funnel.closed,
        open=funnel.open,
    )


def _loops(
    ctx: Ctx, profile: ProtocolProfile, w: Window, funnel: FunnelPublic, jurisdiction_id: int | None
) -> LoopsPublic:
    """The loops at the end of the day (the funnel's totals); how many are overdue only today, from the
    open loops now (a past day's standing is not kept)."""
    overdue = None
    if w.today:
        overdue = service.open_loops(
            ctx, profile, w.as_of, page=Page(page=1, page_size=1), jurisdiction_id=jurisdiction_id
        ).overdue
    return LoopsPublic(entered=funnel.entered, closed=funnel.closed, open=funnel.open, overdue=overdue)


def _task_force(profile: ProtocolProfile, link: Link) -> tuple[str, str]:
    """The name (Chinese, English) of the task force (专班) that answers for a link, from the profile."""
    template = profile.command.template_for(TaskForceLink(link.value))
    return (template.name, template.name_en or template.name) if template else (link.value, link.value)


def _delays(profile: ProtocolProfile, delays: StageDelaysPublic) -> DelaysPublic:
    rows = []
    for row in delays.stages:
        name, name_en = _task_force(profile, row.link)
        rows.append(DelayRowPublic(**row.model_dump(), task_force=name, task_force_en=name_en))
    return DelaysPublic(since=delays.since, until=delays.until, stages=rows)


def _bottlenecks(profile: ProtocolProfile, delays: StageDelaysPublic) -> list[BottleneckPublic]:
    """The timed stages with loops overdue on them, the most overdue first."""
    rows = sorted(
        (row for row in delays.stages if row.pending_overdue),
        key=lambda row: (-row.pending_overdue, -row.pending, list(delays.stages).index(row)),
    )
    out = []
    for row in rows:
        name, name_en = _task_force(profile, row.link)
        out.append(
            BottleneckPublic(
                stage=row.stage,
                link=row.link,
                overdue=row.pending_overdue,
                pending=row.pending,
                task_force=name,
                task_force_en=name_en,
            )
        )
    return out


def _headline(curve: EpiCurvePublic, funnel: FunnelPublic, loops: LoopsPublic) -> HeadlinePublic:
    today = curve.days[-1].by_report
    [day] = funnel.days
    return HeadlinePublic(
        new_cases=today,
        new_cases_total=today.quarantine + today.community,
        cumulative_cases=day.reached_cumulative[Stage.CONFIRMED],
        contacts_identified_today=day.reached[Stage.IDENTIFIED],
        contacts_identified=day.reached_cumulative[Stage.IDENTIFIED],
        isolated_today=day.reached[Stage.ISOLATED],
        isolated=day.reached_cumulative[Stage.ISOLATED],
        open_loops=loops.open,
        overdue_loops=loops.overdue,
    )


# -- the map, names and the incident -----------------------------------------------------------------


def _located(ctx: Ctx, cases: Sequence[_FoundCase]) -> list[MapCasePublic]:
    """Cases where they live: their address, else their household's, else their jurisdiction's centre."""
    if not cases:
        return []
    own, home = aliased(Address), aliased(Address)
    stmt = (
        select(Person.id, own.lat, own.lon, home.lat, home.lon, Jurisdiction.lat, Jurisdiction.lon, Jurisdiction.name)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .outerjoin(own, own.id == Person.address_id)
        .outerjoin(Household, Household.id == Person.household_id)
        .outerjoin(home, home.id == Household.address_id)
        .where(Person.id.in_([c.person_id for c in cases]))
    )
    rows = {int(r[0]): r for r in ctx.session.execute(stmt)}
    located = []
    for case in cases:
        row = rows.get(case.person_id)
        if row is None:
            continue
        places = (("address", row[1], row[2]), ("household", row[3], row[4]), ("jurisdiction", row[5], row[6]))
        where = next(((by, lat, lon) for by, lat, lon in places if lat is not None and lon is not None), None)
        if where is not None:
            located.append(
                MapCasePublic(
                    person_id=case.person_id,
                    lat=where[1],
                    lon=where[2],
                    located_by=where[0],
                    found=case.found,
                    reported_on=case.reported_on,
                    jurisdiction_name=row[7],
                )
            )
    return located


def _sites(ctx: Ctx) -> list[MapSitePublic]:
    """The sites and their places now, for users who may read them (``READ_TRANSFER``)."""
    if not can(ctx.actor, Permission.READ_TRANSFER):
        return []
    return [
        MapSitePublic(
            site_id=site.id,
            name=site.name,
            category=site.kind.value,
            status=site.status.value,
            lat=site.lat,
            lon=site.lon,
            total=sum(p.places for p in site.places),
            used=sum(p.occupied for p in site.places),
            free=sum(p.free for p in site.places),
            places=[
                MapPlacesPublic(category=p.category.value, total=p.places, used=p.occupied, free=p.free)
                for p in site.places
            ],
        )
        for site in list_sites(ctx)
    ]


def _names(ctx: Ctx, jurisdiction_id: int | None) -> tuple[str, str]:
    """The jurisdiction read (the one asked for, else the actor's): its Chinese and English names."""
    wanted = jurisdiction_id if jurisdiction_id is not None else ctx.actor.jurisdiction_id
    if wanted is None:
        return "", ""
    row = ctx.session.execute(select(Jurisdiction.name, Jurisdiction.name_en).where(Jurisdiction.id == wanted)).first()
    return (row.name, row.name_en or row.name) if row else ("", "")


def _incident(ctx: Ctx, at: datetime, path: str) -> IncidentSummaryPublic | None:
    """The incident in force at `at` over the jurisdiction: the nearest one at it or above it, else the
    latest activated inside it."""
    stmt = (
        select(Incident, Jurisdiction.path)
        .join(Jurisdiction, Jurisdiction.id == Incident.jurisdiction_id)
        .where(Incident.activated_at <= at, or_(Incident.deactivated_at.is_(None), Incident.deactivated_at > at))
    )
    candidates = [(incident, str(p)) for incident, p in ctx.session.execute(stmt)]
    above = [(i, p) for i, p in candidates if path.startswith(p)]
    inside = [(i, p) for i, p in candidates if p.startswith(path) and not path.startswith(p)]
    if above:
        chosen = max(above, key=lambda item: len(item[1]))[0]
    elif inside:
        chosen = max(inside, key=lambda item: (item[0].activated_at, item[0].id))[0]
    else:
        return None
    [public] = incidents_public(ctx, [chosen])
    return IncidentSummaryPublic(
        id=public.id,
        name=public.name,
        jurisdiction_id=public.jurisdiction_id,
        jurisdiction_name=public.jurisdiction_name,
        level=public.level,
        activated_at=public.activated_at,
        report_every_hours=public.report_every_hours,
        open_tasks=public.open_tasks,
    )
