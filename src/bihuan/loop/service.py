"""The closed loop's reads (量化闭环): timelines, open loops and stage delays, from the event log only.

Who is in the loop: a person with any of the engine's ``ENTRY_KINDS`` (a traced contact only in a
category the profile moves). Events are read in bulk, a few queries for any number of people.
Permission: ``READ_TRACING`` — held by commanders, analysts, investigators, transfer teams, site
managers and community workers, everyone who works the loop (the lab does not).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, func, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.events import Event, EventRecord
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.loop import engine
from bihuan.loop.choices import Link, Stage
from bihuan.loop.engine import BOUNDS, Delay, LoopRules, Timeline
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
from bihuan.people.service import in_scope, jurisdiction_path
from bihuan.protocol import LoopStage, ProtocolProfile

_READ = sorted(k.value for k in engine.READ_KINDS)
_ENTRY = sorted(k.value for k in engine.ENTRY_KINDS)


# -- reading the log ---------------------------------------------------------------------------------


def subtree_path(ctx: Ctx, jurisdiction_id: int | None) -> str | None:
    """The path of a narrower jurisdiction the actor sees (None: no narrowing); any other is refused."""
    if jurisdiction_id is None:
        return None
    path = jurisdiction_path(ctx, jurisdiction_id)
    if not ctx.actor.sees(path):
        raise FieldError("jurisdiction_id", f"jurisdiction {jurisdiction_id} does not exist or is outside yours")
    return path


def scoped_people(ctx: Ctx, stmt: Select[Any], within: str | None) -> Select[Any]:
    """An event query cut to people of the actor's scope (and of the `within` subtree)."""
    stmt = in_scope(ctx, stmt.join(Person, Person.id == Event.person_id), Person.jurisdiction_id)
    if within is not None:
        stmt = stmt.where(
            Person.jurisdiction_id.in_(select(Jurisdiction.id).where(Jurisdiction.path.startswith(within)))
        )
    return stmt


def in_loop_ids(ctx: Ctx, *, until: datetime | None = None, within: str | None = None) -> list[int]:
    """People of the actor's scope (and of the `within` subtree) with an entry event (before `until`)."""
    stmt = select(Event.person_id).distinct().where(Event.kind.in_(_ENTRY), Event.person_id.is_not(None))
    if until is not None:
        stmt = stmt.where(Event.occurred_at < until)
    return sorted(int(p) for p in ctx.session.scalars(scoped_people(ctx, stmt, within)))


def events_of(ctx: Ctx, person_ids: Iterable[int], until: datetime | None = None) -> dict[int, list[EventRecord]]:
    """Each person's loop events in time order, one query per thousand people."""
    found: dict[int, list[EventRecord]] = defaultdict(list)
    columns = (Event.person_id, Event.kind, Event.occurred_at, Event.subject_type, Event.subject_id)
    for chunk in id_chunks(person_ids):
        stmt = select(*columns, Event.refs, Event.payload, Event.jurisdiction_id).where(
            Event.person_id.in_(chunk), Event.kind.in_(_READ)
        )
        if until is not None:
            stmt = stmt.where(Event.occurred_at < until)
        for person, kind, at, subject_type, subject_id, refs, payload, place in ctx.session.execute(
            stmt.order_by(Event.person_id, Event.occurred_at, Event.id)
        ):
            found[int(person)].append(
                EventRecord(
                    kind=EventKind(kind),
                    occurred_at=at,
                    person_id=int(person),
                    jurisdiction_id=place,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    refs=refs or {},
                    payload=payload or {},
                )
            )
    return found


def first_findings(ctx: Ctx, case_ids: Iterable[int], until: datetime | None = None) -> dict[int, datetime]:
    """When each case's investigation found its first contact (the contacts' ``contact_identified``)."""
    case_of = Event.refs["case"].as_integer()
    found: dict[int, datetime] = {}
    for chunk in id_chunks(case_ids):
        stmt = select(case_of, func.min(Event.occurred_at)).where(
            Event.kind == EventKind.CONTACT_IDENTIFIED.value, case_of.in_(chunk)
        )
        if until is not None:
            stmt = stmt.where(Event.occurred_at < until)
        found.update({int(case): at for case, at in ctx.session.execute(stmt.group_by(case_of)) if at is not None})
    return found


def _case_id(events: Sequence[EventRecord]) -> int | None:
    return next((e.subject_id for e in events if e.kind is EventKind.CASE_CONFIRMED), None)


def timelines(
    ctx: Ctx, rules: LoopRules, person_ids: Sequence[int], now: datetime, until: datetime | None = None
) -> dict[int, Timeline]:
    """The engine's timeline of each person, read in bulk."""
    events = events_of(ctx, person_ids, until)
    cases = {p: c for p, evs in events.items() if (c := _case_id(evs)) is not None}
    findings = first_findings(ctx, cases.values(), until)
    return {
        person: engine.timeline(events.get(person, []), rules, now, first_findings=findings.get(cases.get(person, -1)))
        for person in person_ids
    }


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


_NEVER = datetime.max.replace(tzinfo=UTC)


def _order(item: tuple[int, Timeline]) -> tuple[bool, datetime, datetime, int]:
    person, t = item
    return (not t.overdue, t.due_at or _NEVER, t.since or _NEVER, person)


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
    the earliest due; with the scope's totals (entered = closed + open)."""
    require(ctx.actor, Permission.READ_TRACING)
    ids = in_loop_ids(ctx, within=subtree_path(ctx, jurisdiction_id))
    found = [(p, t) for p, t in timelines(ctx, LoopRules.of(profile), ids, now).items() if t.in_loop]
    open_ = [(p, t) for p, t in found if not t.closed]
    matching = [
        (p, t)
        for p, t in open_
        if (stage is None or t.stuck_at is stage)
        and (link is None or t.link is link)
        and (overdue is None or t.overdue is overdue)
    ]
    matching.sort(key=_order)
    shown = matching[page.offset : page.offset + page.page_size]
    people = _people(ctx, [p for p, _ in shown])
    return OpenLoopsPublic(
        data=[StandingPublic(**_standing(people[p], t)) for p, t in shown],
        count=len(matching),
        entered=len(found),
        closed=len(found) - len(open_),
        open=len(open_),
        overdue=sum(1 for _, t in open_ if t.overdue),
    )


def _percentile(hours: list[float], q: float) -> float | None:
    return None if not hours else round(float(np.percentile(np.asarray(hours), q)), 2)


def stage_delays(
    ctx: Ctx, profile: ProtocolProfile, since: datetime, until: datetime, jurisdiction_id: int | None = None
) -> StageDelaysPublic:
    """Per timed stage: the delays that ended in [since, until) — count, median, p90, share within the
    target — and those still running at `until` (or now, if earlier), as the log stood then."""
    require(ctx.actor, Permission.READ_TRACING)
    if since >= until:
        raise FieldError("since", "must be before until")
    at = min(until, ctx.clock.now())
    ids = in_loop_ids(ctx, until=until, within=subtree_path(ctx, jurisdiction_id))
    measured: dict[LoopStage, list[float]] = defaultdict(list)
    pending: dict[LoopStage, list[bool]] = defaultdict(list)
    for t in timelines(ctx, LoopRules.of(profile), ids, at, until).values():
        for d in t.delays:
            if d.hours is not None and d.ended_at is not None and since <= d.ended_at < until:
                measured[d.stage].append(d.hours)
            elif d.pending:
                pending[d.stage].append(d.overdue)
    stages = []
    for stage, bounds in BOUNDS.items():
        hours, target = measured[stage], profile.loop_targets[stage]
        stages.append(
            StageDelayPublic(
                stage=stage,
                link=bounds.link,
                target_hours=target,
                count=len(hours),
                median_hours=_percentile(hours, 50),
                p90_hours=_percentile(hours, 90),
                within_target=round(sum(h <= target for h in hours) / len(hours), 4) if hours else None,
                pending=len(pending[stage]),
                pending_overdue=sum(pending[stage]),
            )
        )
    return StageDelaysPublic(since=since, until=until, jurisdiction_id=jurisdiction_id, stages=stages)
