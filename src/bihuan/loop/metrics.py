"""Loop metrics by day and jurisdiction (量化闭环指标): the funnel, and where new cases were found.

Both count by the local day of the app's zone. When the period ends after the log's latest loop event they
read the read model (``loop.projection``): the funnel adds up the hourly counts of the subtree, where new
cases were found is one row per case; for an earlier end they replay the engine's timelines as the log
stood then. Permission: ``READ_TRACING``, as every loop read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, case, func, literal, literal_column, select, true

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.core.permissions import Permission, require
from bihuan.loop import projection
from bihuan.loop.choices import FoundWhere, Stage
from bihuan.loop.derived import entered_at, found_where
from bihuan.loop.engine import LoopRules
from bihuan.loop.models import LoopCount, LoopReached, LoopStanding
from bihuan.loop.projection import CLOSED, ENTERED
from bihuan.loop.reading import in_loop_ids, scoped, scoped_people, subtree_path, timelines
from bihuan.loop.schemas import FoundDayPublic, FoundInQuarantinePublic, FunnelDayPublic, FunnelPublic
from bihuan.people.models import Jurisdiction
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


def _cumulative(per_bucket: Mapping[date, int], before: int, buckets: Iterable[date]) -> dict[date, int]:
    running, out = before, {}
    for bucket in buckets:
        running += per_bucket.get(bucket, 0)
        out[bucket] = running
    return out


# -- counting from the read model, or from the log as it stood ---------------------------------------------


@dataclass(frozen=True, slots=True)
class _Counts:
    """The funnel's counts: per bucket in the window, and how many before it."""

    reached: dict[Stage, tuple[Counter[date], int]]
    entered: tuple[Counter[date], int]
    closed: tuple[Counter[date], int]
    entered_count: int
    closed_count: int


def _bucket_of(column: Any, buckets: list[date], zone: ZoneInfo) -> ColumnElement[int]:
    """The index of the bucket a time falls in (for times from the window's start): its local day or week."""
    edges = [datetime.combine(b, time(), tzinfo=zone) for b in buckets[1:]]
    if not edges:
        return literal(0)
    return case(*((column < edge, i) for i, edge in enumerate(edges)), else_=len(edges))


def _per_bucket(
    ctx: Ctx,
    stmt: Select[Any],
    column: Any,
    start: datetime,
    buckets: list[date],
    zone: ZoneInfo,
    weight: Any = None,
) -> dict[Any, tuple[Counter[date], int]]:
    """Rows of (key, time) counted (or their `weight` added up) per bucket from `start`, and before it."""
    bucket = case((column < start, -1), else_=_bucket_of(column, buckets, zone)).label("bucket")
    inner = stmt.add_columns(bucket, (literal_column("1") if weight is None else weight).label("n"))
    sub = inner.where(column.is_not(None)).subquery()
    counts: dict[Any, tuple[Counter[date], int]] = {}
    for key, at, n in ctx.session.execute(
        select(sub.c.key, sub.c.bucket, func.sum(sub.c.n)).group_by(sub.c.key, sub.c.bucket)
    ):
        per, before = counts.get(key, (Counter(), 0))
        if at < 0:
            before += int(n)
        else:
            per[buckets[int(at)]] += int(n)
        counts[key] = (per, before)
    return counts


def _on_the_hour(start: datetime, buckets: list[date], zone: ZoneInfo) -> bool:
    """Whether every bucket starts on a UTC hour (any zone a whole number of hours from UTC)."""
    edges = [start, *(datetime.combine(b, time(), tzinfo=zone) for b in buckets[1:])]
    return all(e.astimezone(UTC).replace(minute=0, second=0, microsecond=0) == e for e in edges)


def _root(ctx: Ctx, within: str | None) -> int:
    """The jurisdiction whose subtree is read (the hourly counts' key; 0 for a user who sees everywhere)."""
    if within is not None:
        return int(ctx.session.scalar(select(Jurisdiction.id).where(Jurisdiction.path == within)) or -1)
    if ctx.actor.jurisdiction_path:
        return int(ctx.actor.jurisdiction_id or -1)
    return 0


def _counts_from_rows(ctx: Ctx, start: datetime, buckets: list[date], zone: ZoneInfo, within: str | None) -> _Counts:
    """The funnel from the read model: the hourly counts of the subtree (a row per person and stage when the
    zone's days do not start on a UTC hour), and its totals from the standings."""
    keys = [s.value for s in FUNNEL]
    if _on_the_hour(start, buckets, zone):
        cells = select(LoopCount.key.label("key")).where(
            LoopCount.jurisdiction_id == _root(ctx, within), LoopCount.key.in_([*keys, ENTERED, CLOSED])
        )
        per_key = _per_bucket(ctx, cells, LoopCount.hour, start, buckets, zone, LoopCount.people)
    else:
        per_key = _per_bucket_rows(ctx, start, buckets, zone, within)
    totals = scoped(
        ctx,
        select(func.count(), func.coalesce(func.sum(case((LoopStanding.closed.is_(True), 1), else_=0)), 0)).where(
            LoopStanding.in_loop.is_(True)
        ),
        within,
        LoopStanding.jurisdiction_id,
    )
    entered_count, closed_count = (int(v) for v in ctx.session.execute(totals).one())
    nothing: tuple[Counter[date], int] = (Counter(), 0)
    return _Counts(
        reached={s: per_key.get(s.value, nothing) for s in FUNNEL},
        entered=per_key.get(ENTERED, nothing),
        closed=per_key.get(CLOSED, nothing),
        entered_count=entered_count,
        closed_count=closed_count,
    )


def _per_bucket_rows(
    ctx: Ctx, start: datetime, buckets: list[date], zone: ZoneInfo, within: str | None
) -> dict[Any, tuple[Counter[date], int]]:
    """Stages reached, entries and closures per bucket, from a row per person and stage."""
    column = LoopReached.jurisdiction_id
    reached = select(LoopReached.stage.label("key")).where(LoopReached.stage.in_([s.value for s in FUNNEL]))
    per_key = _per_bucket(ctx, scoped(ctx, reached, within, column), LoopReached.first_at, start, buckets, zone)
    for key, at, only_closed in ((ENTERED, LoopStanding.entered_at, False), (CLOSED, LoopStanding.ended_at, True)):
        people: Select[Any] = select(literal_column(f"'{key}'").label("key")).select_from(LoopStanding)
        people = people.where(LoopStanding.in_loop.is_(True), LoopStanding.closed.is_(True) if only_closed else true())
        per_key.update(
            _per_bucket(ctx, scoped(ctx, people, within, LoopStanding.jurisdiction_id), at, start, buckets, zone)
        )
    return per_key


def _counts_from_log(
    ctx: Ctx, profile: ProtocolProfile, start: datetime, end: datetime, zone: ZoneInfo, by: By, within: str | None
) -> _Counts:
    ids = in_loop_ids(ctx, until=end, within=within)
    found = [
        t for t in timelines(ctx, LoopRules.of(profile), ids, min(end, ctx.clock.now()), end).values() if t.in_loop
    ]

    def count(times: Iterable[datetime | None]) -> tuple[Counter[date], int]:
        kept = [at for at in times if at is not None]
        return Counter(_bucket(at, zone, by) for at in kept if at >= start), sum(1 for at in kept if at < start)

    return _Counts(
        reached={
            stage: count(next((r.first_at for r in t.reached if r.stage is stage), None) for t in found)
            for stage in FUNNEL
        },
        entered=count(entered_at(t) for t in found),
        closed=count(t.ended_at if t.closed else None for t in found),
        entered_count=len(found),
        closed_count=sum(1 for t in found if t.closed),
    )


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
    within = subtree_path(ctx, jurisdiction_id)
    buckets = _buckets(since, until, by)
    if projection.refresh(ctx, profile).covers(end):
        counts = _counts_from_rows(ctx, start, buckets, zone, within)
    else:
        counts = _counts_from_log(ctx, profile, start, end, zone, by, within)
    reached = {s: (per, _cumulative(per, before, buckets)) for s, (per, before) in counts.reached.items()}
    entered, closed = counts.entered[0], counts.closed[0]
    entered_total = _cumulative(entered, counts.entered[1], buckets)
    closed_total = _cumulative(closed, counts.closed[1], buckets)
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
    return FunnelPublic(
        since=since,
        until=until,
        by=by,
        jurisdiction_id=jurisdiction_id,
        stages=list(FUNNEL),
        days=days,
        reached={s: sum(reached[s][0].values()) for s in FUNNEL},
        entered=counts.entered_count,
        closed=counts.closed_count,
        open=counts.entered_count - counts.closed_count,
    )


def _confirmed_ids(ctx: Ctx, start: datetime, end: datetime, within: str | None) -> list[int]:
    stmt = (
        select(Event.person_id)
        .distinct()
        .where(Event.kind == EventKind.CASE_CONFIRMED.value, Event.occurred_at >= start, Event.occurred_at < end)
    )
    return sorted(int(p) for p in ctx.session.scalars(scoped_people(ctx, stmt, within)))


class FoundCase(NamedTuple):
    """A case first confirmed in a window, and where it was found."""

    person_id: int
    confirmed_at: datetime
    found: FoundWhere


def found_cases(
    ctx: Ctx, profile: ProtocolProfile, start: datetime, end: datetime, within: str | None
) -> list[FoundCase]:
    """The cases first confirmed in [start, end) and where each was found: from the read model when it
    covers `end`, else replayed from the log as it stood at `end` (a past window)."""
    if projection.refresh(ctx, profile).covers(end):
        return _found_from_rows(ctx, start, end, within)
    return _found_from_log(ctx, profile, start, end, within)


def _found_from_rows(ctx: Ctx, start: datetime, end: datetime, within: str | None) -> list[FoundCase]:
    stmt = (
        select(LoopReached.person_id, LoopReached.first_at, LoopStanding.found_where)
        .join(LoopStanding, LoopStanding.person_id == LoopReached.person_id)
        .where(LoopReached.stage == S.CONFIRMED.value, LoopReached.first_at >= start, LoopReached.first_at < end)
    )
    rows = ctx.session.execute(
        scoped(ctx, stmt, within, LoopReached.jurisdiction_id).where(LoopStanding.found_where.is_not(None))
    )
    return [FoundCase(int(p), at, FoundWhere(where)) for p, at, where in rows if where is not None]


def _found_from_log(
    ctx: Ctx, profile: ProtocolProfile, start: datetime, end: datetime, within: str | None
) -> list[FoundCase]:
    ids = _confirmed_ids(ctx, start, end, within)
    found = []
    for person, t in timelines(ctx, LoopRules.of(profile), ids, min(end, ctx.clock.now()), end).items():
        confirmed = next((r.first_at for r in t.reached if r.stage is S.CONFIRMED), None)
        where = found_where(t)
        if confirmed is not None and where is not None and start <= confirmed < end:
            found.append(FoundCase(person, confirmed, where))
    return found


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
    cases = found_cases(ctx, profile, start, end, subtree_path(ctx, jurisdiction_id))
    return found_in_quarantine_of(cases, since, until, zone, jurisdiction_id)


def found_in_quarantine_of(
    cases: Iterable[FoundCase], since: date, until: date, zone: ZoneInfo, jurisdiction_id: int | None
) -> FoundInQuarantinePublic:
    """The per-day counts of `found_in_quarantine` from cases already read (``found_cases`` of its window)."""
    per_day: dict[date, Counter[FoundWhere]] = {day: Counter() for day in _buckets(since, until, "day")}
    for _, confirmed, where in cases:
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
