"""The closed loop's reads (量化闭环): timelines, open loops and stage delays.

Who is in the loop: a person with any of the engine's ``ENTRY_KINDS`` (a traced contact only in a
category the profile moves). The lists and counts are SQL over the read model (``loop.projection``
brings it up to the log first); one person's timeline, and a window that ends before the log's latest
event (as the log stood then), are replayed from the events. Permission: ``READ_TRACING`` — held by
commanders, analysts, investigators, transfer teams, site managers and community workers, everyone who
works the loop (the lab does not).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, case, func, or_, select

from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.loop import projection
from bihuan.loop.choices import Link, Stage
from bihuan.loop.engine import BOUNDS, Delay, LoopRules, Timeline
from bihuan.loop.models import LoopDelay, LoopStanding
from bihuan.loop.reading import events_of, first_findings, in_loop_ids, scoped, scoped_people, subtree_path, timelines
from bihuan.loop.schemas import (
    DelayPublic,
    OpenLoopsPublic,
    PersonRef,
    ReachedPublic,
    StageDelayPublic,
    StageDelaysPublic,
    StandingPublic,
    StepPublic,
    TimelinePublic,
)
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import LoopStage, ProtocolProfile

__all__ = [
    "events_of",
    "first_findings",
    "in_loop_ids",
    "open_loops",
    "scoped",
    "scoped_people",
    "stage_delays",
    "subtree_path",
    "timeline",
    "timelines",
]


# -- reading ------------------------------------------------------------------------------------------


def _people(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, PersonRef]:
    found: dict[int, PersonRef] = {}
    for chunk in id_chunks(person_ids):
        stmt = (
            select(Person.id, Person.name, Person.resident_id, Person.jurisdiction_id, Jurisdiction.name)
            .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
            .where(Person.id.in_(chunk))
        )
        for person, name, number, place, place_name in ctx.session.execute(stmt):
            found[int(person)] = PersonRef(
                person_id=int(person),
                person_name=name,
                resident_id_masked=mask_resident_id(number) if number else None,
                jurisdiction_id=int(place),
                jurisdiction_name=place_name,
            )
    return found


# -- public shapes -------------------------------------------------------------------------------------


def _standing(person: PersonRef, t: Timeline) -> dict[str, Any]:
    return {
        **person.model_dump(),
        "in_loop": t.in_loop,
        "is_case": t.is_case,
        "closed": t.closed,
        "end": t.end,
        "ended_at": t.ended_at,
        "stuck_at": t.stuck_at,
        "since": t.since,
        "waiting_on": t.waiting_on,
        "link": t.link,
        "target_hours": t.target_hours,
        "due_at": t.due_at,
        "overdue": t.overdue,
    }


def _delay(d: Delay) -> DelayPublic:
    return DelayPublic(
        stage=d.stage,
        link=d.link,
        started_at=d.started_at,
        ended_at=d.ended_at,
        hours=d.hours,
        target_hours=d.target_hours,
        met=d.met,
        pending=d.pending,
        overdue=d.overdue,
    )


def _timeline_public(person: PersonRef, t: Timeline) -> TimelinePublic:
    return TimelinePublic(
        **_standing(person, t),
        reached=[ReachedPublic(stage=r.stage, first_at=r.first_at, last_at=r.last_at) for r in t.reached],
        delays=[_delay(d) for d in t.delays],
        steps=[
            StepPublic(
                kind=s.event.kind.value,
                occurred_at=s.event.occurred_at,
                stages=list(s.stages),
                subject_type=s.event.subject_type,
                subject_id=s.event.subject_id,
                refs=dict(s.event.refs),
            )
            for s in t.steps
        ],
    )


# -- use cases ---------------------------------------------------------------------------------------


def timeline(ctx: Ctx, profile: ProtocolProfile, person_id: int, now: datetime) -> TimelinePublic:
    """One person's timeline; a person outside the actor's jurisdiction is answered as missing (404)."""
    require(ctx.actor, Permission.READ_TRACING)
    visible = in_scope(ctx, select(Person.id).where(Person.id == person_id), Person.jurisdiction_id)
    if ctx.session.scalar(visible) is None:
        raise NotFound(f"person {person_id} not found")
    person = _people(ctx, [person_id])[person_id]
    return _timeline_public(person, timelines(ctx, LoopRules.of(profile), [person_id], now)[person_id])


def _overdue(now: datetime) -> ColumnElement[bool]:
    """An open loop past the target of the stage it waits on (the engine's ``now > due_at``)."""
    return and_(LoopStanding.closed.is_(False), LoopStanding.due_at.is_not(None), LoopStanding.due_at < now)


def _counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _standing_public(person: PersonRef, s: LoopStanding, now: datetime) -> StandingPublic:
    return StandingPublic(
        **person.model_dump(),
        in_loop=s.in_loop,
        is_case=s.is_case,
        closed=s.closed,
        end=s.end,
        ended_at=s.ended_at,
        stuck_at=s.stuck_at,
        since=s.since,
        waiting_on=s.waiting_on,
        link=s.link,
        target_hours=s.target_hours,
        due_at=s.due_at,
        overdue=not s.closed and s.due_at is not None and now > s.due_at,
    )


def open_loops(
    ctx: Ctx,
    profile: ProtocolProfile,
    now: datetime,
    *,
    page: Page,
    stage: Stage | None = None,
    link: Link | None = None,
    overdue: bool | None = None,
    jurisdiction_id: int | None = None,
) -> OpenLoopsPublic:
    """Everyone in the loop whose loop is open (where it stands, since when, overdue), overdue first, then
    the earliest due; with the scope's totals (entered = closed + open).

    Overdue is exactly "due before now", so "overdue first, then the earliest due" is the order of `due_at`
    (loops with no target last, then by since): the open-loops index serves the page."""
    require(ctx.actor, Permission.READ_TRACING)
    within = subtree_path(ctx, jurisdiction_id)
    projection.refresh(ctx, profile)
    late = _overdue(now)
    wanted: list[ColumnElement[bool]] = [LoopStanding.closed.is_(False)]
    if stage is not None:
        wanted.append(LoopStanding.stuck_at == stage.value)
    if link is not None:
        wanted.append(LoopStanding.link == link.value)
    if overdue is not None:
        wanted.append(late if overdue else ~late)
    matching = and_(*wanted)
    totals = select(func.count(), _counted(LoopStanding.closed.is_(True)), _counted(late), _counted(matching)).where(
        LoopStanding.in_loop.is_(True)
    )
    entered, closed, overdue_count, count = (
        int(v) for v in ctx.session.execute(scoped(ctx, totals, within, LoopStanding.jurisdiction_id)).one()
    )
    page_rows = (
        select(LoopStanding)
        .where(LoopStanding.in_loop.is_(True), matching)
        .order_by(
            LoopStanding.due_at.asc().nulls_last(),
            LoopStanding.since.asc().nulls_last(),
            LoopStanding.person_id,
        )
        .offset(page.offset)
        .limit(page.page_size)
    )
    shown = list(ctx.session.scalars(scoped(ctx, page_rows, within, LoopStanding.jurisdiction_id)))
    people = _people(ctx, [s.person_id for s in shown])
    return OpenLoopsPublic(
        data=[_standing_public(people[s.person_id], s, now) for s in shown],
        count=count,
        entered=entered,
        closed=closed,
        open=entered - closed,
        overdue=overdue_count,
    )


def _percentile(hours: list[float], q: float) -> float | None:
    return None if not hours else round(float(np.percentile(np.asarray(hours), q)), 2)


def _overdue_after(target: float) -> timedelta:
    """How long a pending delay runs before it is overdue: the engine's hours are rounded to 0.01 h and
    compared with the target, so the first overdue value is the next hundredth above it, less half of one."""
    first_over = (math.floor(target * 100 + 1e-9) + 1) / 100
    return timedelta(hours=first_over - 0.005)


def stage_delays(
    ctx: Ctx, profile: ProtocolProfile, since: datetime, until: datetime, jurisdiction_id: int | None = None
) -> StageDelaysPublic:
    """Per timed stage: the delays that ended in [since, until) — count, median, p90, share within the
    target — and those still running at `until` (or now, if earlier), as the log stood then."""
    require(ctx.actor, Permission.READ_TRACING)
    if since >= until:
        raise FieldError("since", "must be before until")
    at = min(until, ctx.clock.now())
    within = subtree_path(ctx, jurisdiction_id)
    if projection.refresh(ctx, profile).covers(until):
        measured, pending = _delays_from_rows(ctx, profile, since, until, at, within)
    else:
        measured, pending = _delays_from_log(ctx, profile, since, until, at, within)
    stages = []
    for stage, bounds in BOUNDS.items():
        hours, target = measured[stage], profile.loop_targets[stage]
        waiting, late = pending.get(stage, (0, 0))
        stages.append(
            StageDelayPublic(
                stage=stage,
                link=bounds.link,
                target_hours=target,
                count=len(hours),
                median_hours=_percentile(hours, 50),
                p90_hours=_percentile(hours, 90),
                within_target=round(sum(h <= target for h in hours) / len(hours), 4) if hours else None,
                pending=waiting,
                pending_overdue=late,
            )
        )
    return StageDelaysPublic(since=since, until=until, jurisdiction_id=jurisdiction_id, stages=stages)


_Measured = dict[LoopStage, list[float]]
_Pending = dict[LoopStage, tuple[int, int]]  # (running, of which overdue)


def _delays_from_rows(
    ctx: Ctx, profile: ProtocolProfile, since: datetime, until: datetime, at: datetime, within: str | None
) -> tuple[_Measured, _Pending]:
    """The read model's delays: the hours of those that ended in the window, and the running ones counted."""
    column = LoopDelay.jurisdiction_id
    ended = scoped(ctx, select(LoopDelay.stage, LoopDelay.hours), within, column).where(
        LoopDelay.ended_at >= since, LoopDelay.ended_at < until, LoopDelay.hours.is_not(None)
    )
    measured: _Measured = defaultdict(list)
    for stage, hours in ctx.session.execute(ended):
        if hours is not None:
            measured[LoopStage(stage)].append(float(hours))
    late = or_(
        *(
            and_(LoopDelay.stage == s.value, LoopDelay.started_at <= at - _overdue_after(hours))
            for s, hours in profile.loop_targets.items()
        )
    )
    running = (
        scoped(ctx, select(LoopDelay.stage, func.count(), _counted(late)), within, column)
        .where(LoopDelay.ended_at.is_(None))
        .group_by(LoopDelay.stage)
    )
    pending = {LoopStage(stage): (int(n), int(o)) for stage, n, o in ctx.session.execute(running)}
    return measured, pending


def _delays_from_log(
    ctx: Ctx, profile: ProtocolProfile, since: datetime, until: datetime, at: datetime, within: str | None
) -> tuple[_Measured, _Pending]:
    """The delays replayed from the log as it stood at `until` (a past window)."""
    ids = in_loop_ids(ctx, until=until, within=within)
    measured: _Measured = defaultdict(list)
    pending: dict[LoopStage, list[bool]] = defaultdict(list)
    for t in timelines(ctx, LoopRules.of(profile), ids, at, until).values():
        for d in t.delays:
            if d.hours is not None and d.ended_at is not None and since <= d.ended_at < until:
                measured[d.stage].append(d.hours)
            elif d.pending:
                pending[d.stage].append(d.overdue)
    return measured, {stage: (len(flags), sum(flags)) for stage, flags in pending.items()}
