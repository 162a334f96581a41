"""Reading the loop from the event log (the truth): who entered it, their events in bulk, their timelines.

Used by the projector (``loop.projection``) to build the read model, by the single-person timeline, and
by the reads of a past window (as the log stood then), which the read model cannot answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.errors import FieldError
from bihuan.core.events import Event, EventRecord
from bihuan.loop import engine
from bihuan.loop.engine import LoopRules, Timeline
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.service import in_scope, jurisdiction_path

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")
_READ = sorted(k.value for k in engine.READ_KINDS)
_ENTRY = sorted(k.value for k in engine.ENTRY_KINDS)


def subtree_path(ctx: Ctx, jurisdiction_id: int | None) -> str | None:
    """The path of a narrower jurisdiction the actor sees (None: no narrowing); any other is refused."""
    if jurisdiction_id is None:
        return None
    path = jurisdiction_path(ctx, jurisdiction_id)
    if not ctx.actor.sees(path):
        raise FieldError("jurisdiction_id", f"jurisdiction {jurisdiction_id} does not exist or is outside yours")
    return path


def scoped(ctx: Ctx, stmt: _Query, within: str | None, column: Any = Person.jurisdiction_id) -> _Query:
    """A query cut to the rows whose jurisdiction `column` (by default the joined ``Person``'s) lies in the
    actor's scope (and in the `within` subtree)."""
    stmt = in_scope(ctx, stmt, column)
    if within is not None:
        stmt = stmt.where(column.in_(select(Jurisdiction.id).where(Jurisdiction.path.startswith(within))))
    return stmt


def scoped_people(ctx: Ctx, stmt: Select[Any], within: str | None) -> Select[Any]:
    """An event query cut to people of the actor's scope (and of the `within` subtree)."""
    return scoped(ctx, stmt.join(Person, Person.id == Event.person_id), within)


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


def case_id_of(events: Sequence[EventRecord]) -> int | None:
    """The person's case (the subject of their first ``case_confirmed``), if they were confirmed."""
    return next((e.subject_id for e in events if e.kind is EventKind.CASE_CONFIRMED), None)


def timelines(
    ctx: Ctx, rules: LoopRules, person_ids: Sequence[int], now: datetime, until: datetime | None = None
) -> dict[int, Timeline]:
    """The engine's timeline of each person, read in bulk."""
    events = events_of(ctx, person_ids, until)
    cases = {p: c for p, evs in events.items() if (c := case_id_of(evs)) is not None}
    findings = first_findings(ctx, cases.values(), until)
    return {
        person: engine.timeline(events.get(person, []), rules, now, first_findings=findings.get(cases.get(person, -1)))
        for person in person_ids
    }
