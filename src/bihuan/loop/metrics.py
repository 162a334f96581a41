"""Loop metrics by day and jurisdiction (量化闭环指标): the funnel, and where new cases were found.

Both read the engine's timelines (``service.timelines``, a few queries for any number of people) as the
log stood at the end of the period, and count by the local day of the app's zone. Permission:
``READ_TRACING``, as every loop read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.core.permissions import Permission, require
from bihuan.loop.choices import FoundWhere, Stage
from bihuan.loop.engine import ENTRY_STAGES, LoopRules, Step, Timeline
from bihuan.loop.schemas import FoundDayPublic, FoundInQuarantinePublic, FunnelDayPublic, FunnelPublic
from bihuan.loop.service import in_loop_ids, scoped_people, subtree_path, timelines
from bihuan.protocol import ProtocolProfile

S = Stage
By = Literal["day", "week"]

# The funnel's stages in the loop's order: a positive sample taken, confirmed; a contact identified,
# moved and held; the recorded ends.
FUNNEL: tuple[Stage, ...] = (
    S.SAMPLED,
    S.CONFIRMED,
    S.IDENTIFIED,
    S.QUEUED,
    S.PLANNED,
    S.DISPATCHED,
    S.PICKED_UP,
    S.ARRIVED,
    S.ISOLATED,
    S.HOSPITAL,
    S.RELEASED,
    S.HOME_ENDED,
)
_DETECTING = frozenset({S.SAMPLED, S.POOL_POSITIVE, S.DIAGNOSED, S.CONFIRMED})
_LEAVES_SITE = frozenset({S.HOSPITAL, S.RELEASED, S.LEFT_QUEUE, S.MOVED_OUT, S.DIED})


# -- pure counting -----------------------------------------------------------------------------------


def _window(since: date, until: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start of `since`, end of `until`) in the zone; refused when the days run backwards."""
    if since > until:
        raise FieldError("since", "must not be after until")
    start = datetime.combine(since, time(), tzinfo=zone)
    return start, datetime.combine(until + timedelta(days=1), time(), tzinfo=zone)


def _bucket(at: datetime, zone: ZoneInfo, by: By) -> date:
    day = at.astimezone(zone).date()
    return day - timedelta(days=day.weekday()) if by == "week" else day


def _buckets(since: date, until: date, by: By) -> list[date]:
    step = 7 if by == "week" else 1
    first = since - timedelta(days=since.weekday()) if by == "week" else since
    return [first + timedelta(days=n) for n in range(0, (until - first).days + 1, step)]


def entered_at(t: Timeline) -> datetime | None:
    """When the person entered the loop: the first entry stage they reached."""
    return min((r.first_at for r in t.reached if r.stage in ENTRY_STAGES), default=None)


def _cumulative(per_bucket: Mapping[date, int], before: int, buckets: Iterable[date]) -> dict[date, int]:
    running, out = before, {}
    for bucket in buckets:
        running += per_bucket.get(bucket, 0)
        out[bucket] = running
    return out


def _detected_at(steps: Iterable[Step], confirmed: datetime) -> datetime:
    """The start of the episode that led to the confirmation: its first positive sample (or positive
    result), after the last time the person was cleared; the confirmation itself when nothing earlier."""
    start: datetime | None = None
    for step in steps:
        at = step.event.occurred_at
        if at > confirmed:
            break
        if S.CLEARED in step.stages:
            start = None
        elif start is None and _DETECTING & set(step.stages):
            start = at
    return start or confirmed


def found_where(t: Timeline) -> FoundWhere | None:
    """Where a case was when its positive was found (None: not a case): in an open central quarantine stay,
    under in-place control still in force, or in the community. Control that the positive itself brought
    (a pool's members controlled in place) does not count: only what held before the first positive sample."""
    confirmed = next((r.first_at for r in t.reached if r.stage is S.CONFIRMED), None)
    if confirmed is None:
        return None
    detected = _detected_at(t.steps, confirmed)
    at_site = controlled = False
    for step in t.steps:
        if step.event.occurred_at >= detected:
            break
        stages = set(step.stages)
        if S.ISOLATED in stages:
            at_site = S.HOSPITAL not in stages
        elif stages & _LEAVES_SITE:
            at_site = False
        if S.CONTROLLED in stages:
            controlled = True
        elif S.CLEARED in stages:
            controlled = False
    if at_site:
        return FoundWhere.CENTRAL_SITE
    return FoundWhere.CONTROLLED_IN_PLACE if controlled else FoundWhere.COMMUNITY


# -- use cases ---------------------------------------------------------------------------------------


def funnel(
    ctx: Ctx,
    profile: ProtocolProfile,
    since: date,
    until: date,
    zone: ZoneInfo,
    *,
    jurisdiction_id: int | None = None,
    by: By = "day",
) -> FunnelPublic:
    """Per local day (or week) from `since` to `until`, both included: how many people first reached each
    stage of the loop, entered it and closed it, with the running totals since the log began, for the
    people of the actor's jurisdiction (and of `jurisdiction_id`'s subtree)."""
    require(ctx.actor, Permission.READ_TRACING)
    start, end = _window(since, until, zone)
    ids = in_loop_ids(ctx, until=end, within=subtree_path(ctx, jurisdiction_id))
    found = [
        t for t in timelines(ctx, LoopRules.of(profile), ids, min(end, ctx.clock.now()), end).values() if t.in_loop
    ]
    buckets = _buckets(since, until, by)

    def count(times: Iterable[datetime | None]) -> tuple[Counter[date], int]:
        kept = [at for at in times if at is not None]
        return Counter(_bucket(at, zone, by) for at in kept if at >= start), sum(1 for at in kept if at < start)

    reached: dict[Stage, tuple[Counter[date], dict[date, int]]] = {}
    for stage in FUNNEL:
        per, before = count(next((r.first_at for r in t.reached if r.stage is stage), None) for t in found)
        reached[stage] = (per, _cumulative(per, before, buckets))
    entered, entered_before = count(entered_at(t) for t in found)
    closed, closed_before = count(t.ended_at if t.closed else None for t in found)
    entered_total = _cumulative(entered, entered_before, buckets)
    closed_total = _cumulative(closed, closed_before, buckets)
    days = [
        FunnelDayPublic(
            day=b,
            reached={s: reached[s][0].get(b, 0) for s in FUNNEL},
            reached_cumulative={s: reached[s][1][b] for s in FUNNEL},
            entered=entered.get(b, 0),
            closed=closed.get(b, 0),
            entered_cumulative=entered_total[b],
            closed_cumulative=closed_total[b],
            open=entered_total[b] - closed_total[b],
        )
        for b in buckets
    ]
    closed_count = sum(1 for t in found if t.closed)
    return FunnelPublic(
        since=since,
        until=until,
        by=by,
        jurisdiction_id=jurisdiction_id,
        stages=list(FUNNEL),
        days=days,
        reached={s: sum(reached[s][0].values()) for s in FUNNEL},
        entered=len(found),
        closed=closed_count,
        open=len(found) - closed_count,
    )


def _confirmed_ids(ctx: Ctx, start: datetime, end: datetime, within: str | None) -> list[int]:
    stmt = (
        select(Event.person_id)
        .distinct()
        .where(Event.kind == EventKind.CASE_CONFIRMED.value, Event.occurred_at >= start, Event.occurred_at < end)
    )
    return sorted(int(p) for p in ctx.session.scalars(scoped_people(ctx, stmt, within)))


def found_in_quarantine(
    ctx: Ctx,
    profile: ProtocolProfile,
    since: date,
    until: date,
    zone: ZoneInfo,
    *,
    jurisdiction_id: int | None = None,
) -> FoundInQuarantinePublic:
    """The cases first confirmed from `since` to `until` (local days, both included), per day, by where
    they were when found: already in quarantine (a central site, in-place control) or in the community."""
    require(ctx.actor, Permission.READ_TRACING)
    start, end = _window(since, until, zone)
    ids = _confirmed_ids(ctx, start, end, subtree_path(ctx, jurisdiction_id))
    rules = LoopRules.of(profile)
    per_day: dict[date, Counter[FoundWhere]] = {day: Counter() for day in _buckets(since, until, "day")}
    for t in timelines(ctx, rules, ids, min(end, ctx.clock.now()), end).values():
        confirmed = next((r.first_at for r in t.reached if r.stage is S.CONFIRMED), None)
        where = found_where(t)
        if confirmed is not None and where is not None and start <= confirmed < end:
            per_day[_bucket(confirmed, zone, "day")][where] += 1
    days = [_found_day(day, found) for day, found in per_day.items()]
    total: Counter[FoundWhere] = sum((d for d in per_day.values()), Counter())
    confirmed_count = sum(total.values())
    in_quarantine = confirmed_count - total[FoundWhere.COMMUNITY]
    return FoundInQuarantinePublic(
        since=since,
        until=until,
        jurisdiction_id=jurisdiction_id,
        confirmed=confirmed_count,
        in_quarantine=in_quarantine,
        share_in_quarantine=round(in_quarantine / confirmed_count, 4) if confirmed_count else None,
        found={w: total[w] for w in FoundWhere},
        days=days,
    )


def _found_day(day: date, found: Counter[FoundWhere]) -> FoundDayPublic:
    confirmed = sum(found.values())
    return FoundDayPublic(
        day=day,
        confirmed=confirmed,
        in_quarantine=confirmed - found[FoundWhere.COMMUNITY],
        found={w: found[w] for w in FoundWhere},
    )
