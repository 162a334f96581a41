"""The projector of the loop's read model (闭环读模型): the engine's timelines kept in tables, from the log.

Every loop read calls ``refresh`` first: one indexed query when nothing changed; otherwise, under a lock
(two reads never write the same rows twice), it reads the events after the bookmark, finds whose loop they
touch (the person; for a contact's ``contact_identified``, also the case it was traced from, whose first
findings it may move) and replays only those people with the engine; the hourly counts change by difference (a replayed
person's old cells taken away, the new ones added). ``rebuild`` throws the rows away and projects everyone
again; so does a refresh after the profile's rules change. Only this module writes the read model; the
event log stays the truth.

PostgreSQL hands out event ids before the writing transaction commits, so an id missing below the bookmark
may still appear: it is kept as a gap, read again by the next refreshes, until every transaction that
was running when it was seen has ended.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import Base, core_table, id_chunks, serialise
from bihuan.core.events import Event
from bihuan.loop import engine
from bihuan.loop.derived import entered_at, found_where
from bihuan.loop.engine import LoopRules, Timeline
from bihuan.loop.models import LoopCount, LoopDelay, LoopProjectionState, LoopReached, LoopStanding
from bihuan.loop.reading import case_id_of, events_of, first_findings
from bihuan.people.models import Jurisdiction, Person
from bihuan.protocol import ProtocolProfile

PROJECTED = sorted(k.value for k in engine.READ_KINDS | engine.ENTRY_KINDS)
_PROJECTED = frozenset(PROJECTED)
_ENTRY = frozenset(k.value for k in engine.ENTRY_KINDS)
_LOCK = "bihuan.loop.projection"
_STATE = 1  # the single bookmark row
_BATCH = 2000  # people replayed per round trip
_RECENT = 10_000  # on a rebuild, ids below the top checked for a transaction still writing
ENTERED, CLOSED = "entered", "closed"  # the hourly counts' keys besides the stages


@dataclass(frozen=True, slots=True)
class Bookmark:
    """How far the rows have read the log, with which rules, and the latest time a projected event occurred."""

    last_event_id: int
    latest_at: datetime | None
    rules_key: str
    gaps: tuple[tuple[int, int, int], ...]  # (first id, last id, transaction horizon) not yet seen

    def covers(self, until: datetime) -> bool:
        """Whether the rows are the log as it stood at `until`: no projected event at or after it."""
        return self.latest_at is None or self.latest_at < until


def rules_key(rules: LoopRules) -> str:
    """A fingerprint of what the engine reads of the profile: rows built with other rules are rebuilt."""
    doc = {
        "targets": {str(stage): hours for stage, hours in sorted(rules.targets.items())},
        "moved": sorted(rules.moved_categories),
        "confirmed": rules.confirmed_category,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _bookmark(ctx: Ctx) -> Bookmark | None:
    state = LoopProjectionState
    row = ctx.session.execute(
        select(state.last_event_id, state.latest_at, state.rules_key, state.gaps).where(state.id == _STATE)
    ).first()
    if row is None:
        return None
    gaps = tuple((int(lo), int(hi), int(horizon)) for lo, hi, horizon in row.gaps or ())
    return Bookmark(int(row.last_event_id), row.latest_at, row.rules_key, gaps)


def _top(ctx: Ctx) -> int:
    return int(ctx.session.scalar(select(func.max(Event.id))) or 0)


def refresh(ctx: Ctx, profile: ProtocolProfile) -> Bookmark:
    """Bring the read model up to the log (cheap when nothing changed) and say how far it reaches."""
    rules = LoopRules.of(profile)
    key = rules_key(rules)
    mark = _bookmark(ctx)
    if mark is not None and mark.rules_key == key and not mark.gaps and mark.last_event_id >= _top(ctx):
        return mark
    serialise(ctx.session, _LOCK)
    mark = _bookmark(ctx)  # another read may have refreshed while this one waited for the lock
    if mark is None or mark.rules_key != key:
        return _rebuild(ctx, rules, key)
    top = max(_top(ctx), mark.last_event_id)
    if mark.last_event_id >= top and not mark.gaps:
        return mark
    return _catch_up(ctx, rules, mark, top)


def rebuild(ctx: Ctx, profile: ProtocolProfile) -> Bookmark:
    """Project everyone in the loop again from the whole log (after a repair, or to check the rows)."""
    serialise(ctx.session, _LOCK)
    rules = LoopRules.of(profile)
    return _rebuild(ctx, rules, rules_key(rules))


def _rebuild(ctx: Ctx, rules: LoopRules, key: str) -> Bookmark:
    top = _top(ctx)
    for model in (LoopDelay, LoopReached, LoopStanding, LoopCount):
        ctx.session.execute(delete(model))
    people = ctx.session.scalars(
        select(Event.person_id).distinct().where(Event.kind.in_(sorted(_ENTRY)), Event.person_id.is_not(None))
    )
    cells = _project(ctx, rules, [int(p) for p in people if p is not None], top, fresh=True)
    _insert(ctx, LoopCount, [_cell_row(cell, n) for cell, n in cells.items() if n])
    latest = ctx.session.scalar(select(func.max(Event.occurred_at)).where(Event.kind.in_(PROJECTED)))
    seen = ctx.session.scalars(select(Event.id).where(Event.id > top - _RECENT, Event.id <= top))
    gaps = _open_gaps(ctx, _missing(max(top - _RECENT, 0), top, set(seen)))
    if ctx.session.get_bind().dialect.name == "postgresql":  # the planner must know the tables are full now
        ctx.session.execute(text("ANALYZE loop_standings, loop_reached, loop_delays, loop_counts"))
    return _save(ctx, Bookmark(top, latest, key, gaps))


def _catch_up(ctx: Ctx, rules: LoopRules, mark: Bookmark, top: int) -> Bookmark:
    """Replay the people the events after the bookmark (and those filling its gaps) touch."""
    new = or_(
        and_(Event.id > mark.last_event_id, Event.id <= top),
        *(Event.id.between(lo, hi) for lo, hi, _ in mark.gaps),
    )
    rows = ctx.session.execute(select(Event.id, Event.person_id, Event.kind, Event.occurred_at).where(new)).all()
    seen = {int(r.id) for r in rows}
    projected = [r for r in rows if r.kind in _PROJECTED and r.person_id is not None]
    entering = {int(r.person_id) for r in projected if r.kind in _ENTRY}
    touched = {int(r.person_id) for r in rows if r.person_id is not None}  # any kind: a move changes the scope
    people = entering | _projected(ctx, touched) | _case_people(ctx, new)
    _add_counts(ctx, _project(ctx, rules, sorted(people), top, fresh=False))
    latest = max((r.occurred_at for r in projected), default=None)
    if mark.latest_at is not None:
        latest = mark.latest_at if latest is None else max(latest, mark.latest_at)
    still = [(a, b, horizon) for lo, hi, horizon in mark.gaps for a, b in _missing(lo - 1, hi, seen)]
    fresh = _open_gaps(ctx, _missing(mark.last_event_id, top, seen))
    return _save(ctx, Bookmark(top, latest, mark.rules_key, _settle(ctx, (*still, *fresh))))


def _projected(ctx: Ctx, people: Iterable[int]) -> set[int]:
    found: set[int] = set()
    for chunk in id_chunks(people):
        found.update(ctx.session.scalars(select(LoopStanding.person_id).where(LoopStanding.person_id.in_(chunk))))
    return found


def _case_people(ctx: Ctx, new: ColumnElement[bool]) -> set[int]:
    """The cases whose contacts were found by the new events (their first findings may move)."""
    case_of = Event.refs["case"].as_integer()
    cases = [
        int(c)
        for c in ctx.session.scalars(
            select(case_of).distinct().where(new, Event.kind == EventKind.CONTACT_IDENTIFIED.value)
        )
        if c is not None
    ]
    found: set[int] = set()
    for chunk in id_chunks(cases):
        found.update(ctx.session.scalars(select(LoopStanding.person_id).where(LoopStanding.case_id.in_(chunk))))
    return found


def _missing(after: int, top: int, seen: set[int]) -> list[tuple[int, int]]:
    """The runs of ids in (after, top] not among `seen`."""
    runs: list[tuple[int, int]] = []
    expected = after + 1
    for i in sorted(i for i in seen if after < i <= top):
        if i > expected:
            runs.append((expected, i - 1))
        expected = i + 1
    if expected <= top:
        runs.append((expected, top))
    return runs


def _horizons(ctx: Ctx) -> tuple[int, int] | None:
    """(oldest transaction still running, next transaction id) on PostgreSQL; None on SQLite, whose writers
    take turns, so an id missing there will never appear."""
    if ctx.session.get_bind().dialect.name != "postgresql":
        return None
    row = ctx.session.execute(
        text(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
            " pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
        )
    ).one()
    return int(row[0]), int(row[1])


def _open_gaps(ctx: Ctx, runs: Sequence[tuple[int, int]]) -> tuple[tuple[int, int, int], ...]:
    """Missing ids that a transaction already running may still commit (PostgreSQL hands ids out before)."""
    horizons = _horizons(ctx) if runs else None
    if horizons is None:
        return ()
    return _settle(ctx, tuple((lo, hi, horizons[1]) for lo, hi in runs))


def _settle(ctx: Ctx, gaps: tuple[tuple[int, int, int], ...]) -> tuple[tuple[int, int, int], ...]:
    """Drop the gaps whose writers have all finished: their ids were rolled back and never appear."""
    horizons = _horizons(ctx) if gaps else None
    return () if horizons is None else tuple(g for g in gaps if g[2] > horizons[0])


def _save(ctx: Ctx, mark: Bookmark) -> Bookmark:
    ctx.session.execute(delete(LoopProjectionState))
    ctx.session.execute(
        insert(LoopProjectionState).values(
            id=_STATE,
            last_event_id=mark.last_event_id,
            latest_at=mark.latest_at,
            rules_key=mark.rules_key,
            gaps=[list(g) for g in mark.gaps],
        )
    )
    return mark


# -- replaying people --------------------------------------------------------------------------------


_Cell = tuple[int, str, datetime]  # (jurisdiction or an ancestor, 0 for all; stage / entered / closed; UTC hour)


def _project(ctx: Ctx, rules: LoopRules, people: Sequence[int], top: int, *, fresh: bool) -> Counter[_Cell]:
    """Replace the rows of these people with their timelines replayed from all their events; returns the
    change in the hourly counts (`fresh`: the rows were emptied, nothing to take away)."""
    now = ctx.clock.now()  # the rows hold nothing that depends on it (overdue is decided at read time)
    above = _ancestors(ctx)
    cells: Counter[_Cell] = Counter()
    for chunk in id_chunks(people, _BATCH):
        if not fresh:
            for cell in _cells_of(ctx, chunk):
                for ancestor in above[cell[0]]:
                    cells[(ancestor, cell[1], cell[2])] -= 1
            for model in (LoopDelay, LoopReached, LoopStanding):
                ctx.session.execute(delete(model).where(model.person_id.in_(chunk)))
        events = events_of(ctx, chunk)
        homes = ctx.session.execute(select(Person.id, Person.jurisdiction_id).where(Person.id.in_(chunk)))
        places = {int(person): int(place) for person, place in homes}
        cases = {p: c for p, evs in events.items() if (c := case_id_of(evs)) is not None}
        findings = first_findings(ctx, cases.values())
        standings, reached, delays = [], [], []
        for person in chunk:
            case = cases.get(person)
            found = findings.get(case) if case is not None else None
            t = engine.timeline(events.get(person, []), rules, now, first_findings=found)
            place = places[person]
            standings.append(_standing_row(person, place, t, case, top))
            reached.extend(_reached_rows(person, place, t))
            delays.extend(_delay_rows(person, place, t))
        for model, rows in ((LoopStanding, standings), (LoopReached, reached), (LoopDelay, delays)):
            _insert(ctx, model, rows)
        for place, key, at in _cells(standings, reached):
            for ancestor in above[place]:
                cells[(ancestor, key, _hour(at))] += 1
    return cells


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _cells(
    standings: Iterable[dict[str, Any]], reached: Iterable[dict[str, Any]]
) -> Iterator[tuple[int, str, datetime]]:
    """(jurisdiction, key, time) of what the hourly counts count: stages first reached, entries, closures."""
    for r in reached:
        yield r["jurisdiction_id"], r["stage"], r["first_at"]
    for s in standings:
        if s["in_loop"] and s["entered_at"] is not None:
            yield s["jurisdiction_id"], ENTERED, s["entered_at"]
        if s["in_loop"] and s["closed"] and s["ended_at"] is not None:
            yield s["jurisdiction_id"], CLOSED, s["ended_at"]


def _cells_of(ctx: Ctx, chunk: Sequence[int]) -> list[_Cell]:
    """The cells the stored rows of these people count in (taken away before they are replayed)."""
    reached = ctx.session.execute(
        select(LoopReached.jurisdiction_id, LoopReached.stage, LoopReached.first_at).where(
            LoopReached.person_id.in_(chunk)
        )
    )
    columns = (LoopStanding.jurisdiction_id, LoopStanding.in_loop, LoopStanding.closed)
    standings = ctx.session.execute(
        select(*columns, LoopStanding.entered_at, LoopStanding.ended_at).where(LoopStanding.person_id.in_(chunk))
    )
    rows = [{"jurisdiction_id": p, "stage": s, "first_at": at} for p, s, at in reached]
    kept = [
        {"jurisdiction_id": p, "in_loop": i, "closed": c, "entered_at": e, "ended_at": x} for p, i, c, e, x in standings
    ]
    return [(place, key, _hour(at)) for place, key, at in _cells(kept, rows)]


def _ancestors(ctx: Ctx) -> dict[int, tuple[int, ...]]:
    """Each jurisdiction with every one above it, itself included, and 0 (everywhere)."""
    paths = {path: int(j) for path, j in ctx.session.execute(select(Jurisdiction.path, Jurisdiction.id))}
    found: dict[int, tuple[int, ...]] = {}
    for path, jurisdiction in paths.items():
        parts = path.rstrip("/").split("/")
        prefixes = ("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
        found[int(jurisdiction)] = (0, *(int(paths[p]) for p in prefixes if p in paths))
    return found


def _cell_row(cell: _Cell, people: int) -> dict[str, Any]:
    return {"jurisdiction_id": cell[0], "key": cell[1], "hour": cell[2], "people": people}


def _add_counts(ctx: Ctx, cells: Counter[_Cell]) -> None:
    """Add the change to the hourly counts (an upsert per changed cell), dropping the cells now empty."""
    rows = [_cell_row(cell, n) for cell, n in cells.items() if n]
    if not rows:
        return
    upsert = (postgresql.insert if ctx.session.get_bind().dialect.name == "postgresql" else sqlite.insert)(LoopCount)
    ctx.session.execute(
        upsert.on_conflict_do_update(
            index_elements=["jurisdiction_id", "key", "hour"],
            set_={"people": LoopCount.people + upsert.excluded.people},
        ),
        rows,
    )
    ctx.session.execute(delete(LoopCount).where(LoopCount.people <= 0))


def _insert(ctx: Ctx, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Bulk-insert rows: COPY on PostgreSQL (a rebuild writes about a million), executemany on SQLite."""
    if not rows:
        return
    table = core_table(model)
    if ctx.session.get_bind().dialect.name != "postgresql":
        ctx.session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    raw = ctx.session.connection().connection.driver_connection
    assert raw is not None
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row[c] for c in columns))


def _standing_row(person: int, place: int, t: Timeline, case: int | None, top: int) -> dict[str, Any]:
    where = found_where(t) if t.in_loop else None
    return {
        "person_id": person,
        "jurisdiction_id": place,
        "in_loop": t.in_loop,
        "is_case": t.is_case,
        "closed": t.closed,
        "end": _value(t.end),
        "ended_at": t.ended_at,
        "stuck_at": _value(t.stuck_at),
        "since": t.since,
        "waiting_on": _value(t.waiting_on),
        "link": _value(t.link),
        "target_hours": t.target_hours,
        "due_at": t.due_at,
        "entered_at": entered_at(t),
        "case_id": case,
        "found_where": _value(where),
        "last_event_id": top,
    }


def _value(choice: StrEnum | None) -> str | None:
    return None if choice is None else choice.value


def _reached_rows(person: int, place: int, t: Timeline) -> list[dict[str, Any]]:
    return [
        {"person_id": person, "jurisdiction_id": place, "stage": r.stage.value, "first_at": r.first_at}
        for r in t.reached
    ]


def _delay_rows(person: int, place: int, t: Timeline) -> list[dict[str, Any]]:
    return [
        {
            "person_id": person,
            "jurisdiction_id": place,
            "stage": d.stage.value,
            "started_at": d.started_at,
            "ended_at": d.ended_at,
            "hours": d.hours,
        }
        for d in t.delays
    ]
