"""API shapes of the situation (态势): one document that the dashboard, the daily report (日报) and
/api/situation all show, so their numbers are the same numbers.

Everything in it is assembled by ``command.situation.situation`` from the loop's public reads (the
funnel, where cases were found, stage delays, open loops), the capacity gauges and the sites.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from bihuan.command.capacity_schemas import CapacityPublic
from bihuan.loop.choices import FoundWhere, Link, Stage
from bihuan.loop.schemas import StageDelayPublic
from bihuan.protocol import LoopStage


class FoundSplit(BaseModel):
    """Cases split by where they were found: already in quarantine (a central site or in-place control,
    在管控中发现) or in the community (社会面)."""

    quarantine: int = 0
    community: int = 0


class EpiDayPublic(BaseModel):
    """One local day of the epi curve (流行曲线): cases by onset day and by report (confirmation) day.

    `by_onset` counts cases whose investigation records a symptom onset on this day (a case with no onset
    — asymptomatic, or not yet known — is counted in `no_onset` on its report day instead)."""

    day: date
    by_onset: FoundSplit
    by_report: FoundSplit
    no_onset: FoundSplit  # reported this day without an onset date (asymptomatic or unknown)


class EpiCurvePublic(BaseModel):
    """The curve over the window; onsets before `since` of cases reported in it are in `onset_before`."""

    since: date
    until: date
    days: list[EpiDayPublic]
    reported: FoundSplit  # cases reported (confirmed) in the window
    onset_before: FoundSplit  # of those, onset before the window (not drawn on a day)
    no_onset: FoundSplit  # of those, without an onset date


class FunnelStagePublic(BaseModel):
    """People who first reached a stage of the loop: on the day, and in total up to the day's end."""

    stage: Stage
    today: int
    cumulative: int


class FunnelSummaryPublic(BaseModel):
    """The funnel (漏斗) of `day` (from ``loop.metrics.funnel``): per stage, and who entered/closed."""

    stages: list[FunnelStagePublic]
    entered_today: int
    closed_today: int
    entered: int  # since the log began, at the end of `day`
    closed: int
    open: int


class DelayRowPublic(StageDelayPublic):
    """A timed stage on `day` (from ``loop.service.stage_delays``) with the task force that answers for it."""

    task_force: str  # name of the link's task force in the profile (中文)
    task_force_en: str


class DelaysPublic(BaseModel):
    since: datetime  # start of `day` (local)
    until: datetime  # end of `day`, or now when `day` is today
    stages: list[DelayRowPublic]


class LoopsPublic(BaseModel):
    """Loops at the end of `day` (the funnel's totals, which agree with ``loop.service.open_loops``):
    entered = closed + open; `overdue` from the open loops now, so only for today (None for a past day)."""

    entered: int
    closed: int
    open: int
    overdue: int | None


class BottleneckPublic(BaseModel):
    """A timed stage with overdue open loops (its delays' `pending_overdue`), most first, with its link
    and the task force (专班) that answers for it."""

    stage: LoopStage
    link: Link
    overdue: int  # loops whose clock on this stage runs past its target at the end of `day` (or now)
    pending: int  # loops whose clock on this stage runs
    task_force: str
    task_force_en: str


class MapCasePublic(BaseModel):
    """A case of the window on the map: where they live (address, else household, else jurisdiction)."""

    person_id: int
    lat: float
    lon: float
    located_by: str  # "address" | "household" | "jurisdiction"
    found: FoundWhere
    reported_on: date
    jurisdiction_name: str


class MapPlacesPublic(BaseModel):
    category: str  # the people it takes (close contact, secondary contact...)
    total: int
    used: int
    free: int


class MapSitePublic(BaseModel):
    """A site (central quarantine site or designated hospital) with its places, now; only for users who
    may read sites' places (``READ_TRANSFER``), else the map has no sites."""

    site_id: int
    name: str
    category: str  # the site's kind: central_quarantine, designated_hospital...
    status: str
    lat: float
    lon: float
    total: int
    used: int
    free: int
    places: list[MapPlacesPublic]


class MapPublic(BaseModel):
    cases: list[MapCasePublic]
    sites: list[MapSitePublic]
    cases_without_location: int


class IncidentSummaryPublic(BaseModel):
    """The active incident command over the jurisdiction (or above it), and its reporting cadence."""

    id: int
    name: str
    jurisdiction_id: int
    jurisdiction_name: str
    level: str
    activated_at: datetime
    report_every_hours: float  # the reporting cadence now in force (平时 daily; 战时 every few hours)
    open_tasks: int


class HeadlinePublic(BaseModel):
    """The numbers a report opens with."""

    new_cases: FoundSplit  # reported on `day`
    new_cases_total: int
    cumulative_cases: int
    contacts_identified_today: int  # first traced as a contact on `day` (funnel stage "identified")
    contacts_identified: int  # since the log began, to the end of `day`
    isolated_today: int  # first isolated at a site on `day` (funnel stage "isolated")
    isolated: int  # since the log began, to the end of `day`
    open_loops: int
    overdue_loops: int | None  # None for a past day (the open loops are of now)


class SituationPublic(BaseModel):
    """The situation of one local `day` over a jurisdiction (the user's, or a narrower one they see)."""

    as_of: datetime  # when it was read (now, or the end of a past `day`)
    day: date  # the local day of the report (today by default)
    timezone: str  # the deployment's zone, whose local days these are
    since: date  # the epi curve's window: `days` local days ending on `day`
    until: date
    jurisdiction_id: int | None  # the narrower jurisdiction asked for; None: the user's own
    jurisdiction_name: str  # "" for a user who sees every jurisdiction
    jurisdiction_name_en: str
    report_every_hours: float  # the incident's reporting cadence, else the profile's peacetime one
    latest_event_id: int  # the last event in scope at `as_of` (the stream's "changed" compares to it)
    headline: HeadlinePublic
    epi_curve: EpiCurvePublic
    funnel: FunnelSummaryPublic
    delays: DelaysPublic
    loops: LoopsPublic
    bottlenecks: list[BottleneckPublic]
    capacity: CapacityPublic  # gauges of now (resources hold no history)
    map: MapPublic
    incident: IncidentSummaryPublic | None
