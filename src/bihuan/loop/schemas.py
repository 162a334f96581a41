"""API shapes of the closed loop (量化闭环): a person's timeline, the open loops, the stage delays, the
funnel and where new cases were found."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from bihuan.loop.choices import FoundWhere, Link, Stage
from bihuan.protocol import LoopStage


class ReachedPublic(BaseModel):
    stage: Stage
    first_at: datetime
    last_at: datetime


class StepPublic(BaseModel):
    """One event of the person's loop and the stages it reached."""

    kind: str
    occurred_at: datetime
    stages: list[Stage]
    subject_type: str | None
    subject_id: int | None
    refs: dict[str, Any]


class DelayPublic(BaseModel):
    """A timed stage of the person against the profile's target; `pending` while its clock runs."""

    stage: LoopStage
    link: Link
    started_at: datetime
    ended_at: datetime | None
    hours: float | None
    target_hours: float
    met: bool | None
    pending: bool
    overdue: bool


class PersonRef(BaseModel):
    person_id: int
    person_name: str
    resident_id_masked: str | None
    jurisdiction_id: int
    jurisdiction_name: str


class StandingPublic(PersonRef):
    """Closed (with its recorded end) or open (where it stands, since when, what it waits on, overdue)."""

    in_loop: bool
    is_case: bool
    closed: bool
    end: Stage | None
    ended_at: datetime | None
    stuck_at: Stage | None
    since: datetime | None
    waiting_on: LoopStage | None
    link: Link | None
    target_hours: float | None
    due_at: datetime | None
    overdue: bool


class TimelinePublic(StandingPublic):
    reached: list[ReachedPublic]
    delays: list[DelayPublic]
    steps: list[StepPublic]


class OpenLoopsPublic(BaseModel):
    """Open loops (one page of them, longest overdue first); `entered` = `closed` + `open` in the scope."""

    data: list[StandingPublic]
    count: int  # open loops matching the filters
    entered: int  # everyone in the loop in the scope
    closed: int
    open: int
    overdue: int


class StageDelayPublic(BaseModel):
    """One timed stage over a period: delays measured (ended) in it, and those still running at its end."""

    stage: LoopStage
    link: Link
    target_hours: float
    count: int
    median_hours: float | None
    p90_hours: float | None
    within_target: float | None  # share of the measured delays within the target (0–1)
    pending: int
    pending_overdue: int


class StageDelaysPublic(BaseModel):
    since: datetime
    until: datetime
    jurisdiction_id: int | None
    stages: list[StageDelayPublic]


class FunnelDayPublic(BaseModel):
    """One local day (or week, from its Monday) of the funnel: people who first reached each stage in it,
    and the totals at its end since the log began; `open` = `entered_cumulative` − `closed_cumulative`."""

    day: date
    reached: dict[Stage, int]
    reached_cumulative: dict[Stage, int]
    entered: int
    closed: int
    entered_cumulative: int
    closed_cumulative: int
    open: int


class FunnelPublic(BaseModel):
    """The funnel (漏斗) per day from `since` to `until` (both included); the totals are those of the
    period's end and agree with the open loops (entered = closed + open)."""

    since: date
    until: date
    by: str
    jurisdiction_id: int | None
    stages: list[Stage]
    days: list[FunnelDayPublic]
    reached: dict[Stage, int]  # in the period
    entered: int  # since the log began, at the period's end
    closed: int
    open: int


class FoundDayPublic(BaseModel):
    """Cases confirmed on one local day by where they were found."""

    day: date
    confirmed: int
    in_quarantine: int
    found: dict[FoundWhere, int]


class FoundInQuarantinePublic(BaseModel):
    """Of the cases confirmed from `since` to `until` (both included), how many were already under control
    (a central quarantine stay, or in-place control) when found, and how many in the community."""

    since: date
    until: date
    jurisdiction_id: int | None
    confirmed: int
    in_quarantine: int
    share_in_quarantine: float | None  # 0–1; None without cases
    found: dict[FoundWhere, int]
    days: list[FoundDayPublic]
