"""The event log (事件): one append-only table; every stage transition and change is an event.

Events are written in the same transaction as the change they record; subscribers run only
after that transaction commits, each in a session of its own.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, event, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from bihuan.core.choices import EventKind
from bihuan.core.db import Base, BigId, JsonDoc, UTCDateTime, core_table

if TYPE_CHECKING:
    from bihuan.core.context import Ctx
    from bihuan.core.db import Database

log = logging.getLogger(__name__)
_PENDING = "bihuan.pending_events"


class Event(Base):
    """One thing that happened, to whom, by whom, when (occurred) and when it was written (recorded)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_person_occurred", "person_id", "occurred_at"),
        Index("ix_events_kind_occurred", "kind", "occurred_at"),
        Index("ix_events_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(48))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(BigId)
    refs: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What a subscriber receives: the event as plain data, detached from any session."""

    kind: EventKind
    occurred_at: datetime
    person_id: int | None = None
    jurisdiction_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    refs: dict[str, Any] = field(default_factory=dict)
    actor_id: int | None = None
    actor_name: str = "system"
    payload: dict[str, Any] = field(default_factory=dict)

    def as_row(self, recorded_at: datetime) -> dict[str, Any]:
        return {
            "occurred_at": self.occurred_at,
            "recorded_at": recorded_at,
            "kind": self.kind.value,
            "person_id": self.person_id,
            "jurisdiction_id": self.jurisdiction_id,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "refs": self.refs,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "payload": self.payload,
        }


Subscriber = Callable[[EventRecord, "Database"], None]
BatchSubscriber = Callable[[list[EventRecord], "Database"], None]
_subscribers: dict[EventKind, list[Subscriber]] = defaultdict(list)
_batch_subscribers: dict[EventKind, list[BatchSubscriber]] = defaultdict(list)


def subscribe(*kinds: EventKind) -> Callable[[Subscriber], Subscriber]:
    """Register a function to run after the commit of every event of these kinds."""

    def register(fn: Subscriber) -> Subscriber:
        for kind in kinds:
            if fn not in _subscribers[kind]:
                _subscribers[kind].append(fn)
        return fn

    return register


def subscribe_batch(*kinds: EventKind) -> Callable[[BatchSubscriber], BatchSubscriber]:
    """Register a function to run once after each commit, with all that commit's events of these kinds.

    For reactions that write one row per event (the transfer queue takes every contact a tracing
    run found): one session and one bulk insert instead of one per event.
    """

    def register(fn: BatchSubscriber) -> BatchSubscriber:
        for kind in kinds:
            if fn not in _batch_subscribers[kind]:
                _batch_subscribers[kind].append(fn)
        return fn

    return register


def unsubscribe(fn: Subscriber | BatchSubscriber) -> None:
    for registry in (_subscribers, _batch_subscribers):
        for handlers in registry.values():
            if fn in handlers:
                handlers.remove(fn)  # type: ignore[arg-type]


def _is_watched(kind: EventKind) -> bool:
    return kind in _subscribers or kind in _batch_subscribers


def record(ctx: Ctx, kind: EventKind, **facts: Any) -> EventRecord:
    """Append one event in the context's transaction."""
    return record_many(ctx, [make_event(ctx, kind, **facts)])[0]


def make_event(ctx: Ctx, kind: EventKind, **facts: Any) -> EventRecord:
    """An event stamped with the context's clock and actor (not yet written)."""
    return EventRecord(
        kind=kind,
        occurred_at=ctx.clock.now(),
        actor_id=ctx.actor.user_id,
        actor_name=ctx.actor.username,
        **facts,
    )


def record_many(ctx: Ctx, events: Iterable[EventRecord]) -> list[EventRecord]:
    """Append many events in one statement, in the context's transaction."""
    batch = list(events)
    if not batch:
        return batch
    recorded_at = datetime.now(UTC)
    ctx.session.execute(insert(core_table(Event)), [e.as_row(recorded_at) for e in batch])
    watched = [e for e in batch if _is_watched(e.kind)]
    if watched:
        ctx.session.info.setdefault(_PENDING, []).extend(watched)
    return batch


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    pending: list[EventRecord] = session.info.pop(_PENDING, [])
    database = session.info.get("database")
    if not pending or database is None:
        return
    for record_ in pending:
        for handler in list(_subscribers.get(record_.kind, ())):
            _run(handler, record_, database, record_.kind)
    for batch_handler, records in _group_by_batch_handler(pending).items():
        _run(batch_handler, records, database, records[0].kind)


def _group_by_batch_handler(pending: list[EventRecord]) -> dict[BatchSubscriber, list[EventRecord]]:
    grouped: dict[BatchSubscriber, list[EventRecord]] = {}
    for record_ in pending:
        for handler in _batch_subscribers.get(record_.kind, ()):
            grouped.setdefault(handler, []).append(record_)
    return grouped


def _run(handler: Callable[[Any, Database], None], arg: Any, database: Database, kind: EventKind) -> None:
    try:
        handler(arg, database)
    except Exception:
        log.exception("subscriber %s failed on %s", getattr(handler, "__name__", handler), kind)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
def _refuse_change(*_args: Any) -> None:
    raise RuntimeError("events are append-only: an event is never updated or deleted")
