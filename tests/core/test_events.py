"""The event log: written with the change, announced after commit, never rewritten."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from tests.factories import context

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event, EventRecord, record, subscribe, unsubscribe
from bihuan.people import service
from bihuan.people.choices import JurisdictionLevel
from bihuan.people.models import Jurisdiction
from bihuan.people.schemas import JurisdictionCreate


class Boom(Exception):
    pass


def _province(code: str = "33") -> JurisdictionCreate:
    return JurisdictionCreate(code=code, name="浙江省", level=JurisdictionLevel.PROVINCE)


def _count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def heard(database: Database) -> Iterator[list[tuple[EventRecord, Database, int]]]:
    """What a subscriber to jurisdiction_created hears, with how many jurisdictions were committed then."""
    calls: list[tuple[EventRecord, Database, int]] = []

    def listener(event: EventRecord, db: Database) -> None:
        calls.append((event, db, _count(db, Jurisdiction)))

    subscribe(EventKind.JURISDICTION_CREATED)(listener)
    try:
        yield calls
    finally:
        unsubscribe(listener)


def test_a_change_and_its_event_are_committed_together(database: Database, clock: SimulatedClock) -> None:
    with context(database, clock) as ctx:
        node = service.create_jurisdiction(ctx, _province())
    with database.session() as session:
        events = session.scalars(select(Event)).all()
    assert [(e.kind, e.subject_id, e.payload["code"]) for e in events] == [
        (EventKind.JURISDICTION_CREATED.value, node.id, "33")
    ]


def test_a_rollback_leaves_neither_the_change_nor_its_event(database: Database, clock: SimulatedClock) -> None:
    with pytest.raises(Boom), context(database, clock) as ctx:
        service.create_jurisdiction(ctx, _province())
        raise Boom
    assert _count(database, Jurisdiction) == 0
    assert _count(database, Event) == 0


def test_subscribers_hear_an_event_only_after_its_commit_as_plain_data(
    database: Database, clock: SimulatedClock, heard: list[tuple[EventRecord, Database, int]]
) -> None:
    with context(database, clock) as ctx:
        service.create_jurisdiction(ctx, _province())
        assert heard == []  # not yet: the transaction is still open
    assert len(heard) == 1
    event, db, committed_jurisdictions = heard[0]
    assert isinstance(event, EventRecord)
    assert event.kind is EventKind.JURISDICTION_CREATED
    assert event.payload == {"code": "33", "name": "浙江省", "level": "province"}
    assert db is database
    assert committed_jurisdictions == 1  # the change was visible to a new session when the subscriber ran


def test_subscribers_never_hear_a_rolled_back_event(
    database: Database, clock: SimulatedClock, heard: list[tuple[EventRecord, Database, int]]
) -> None:
    with pytest.raises(Boom), context(database, clock) as ctx:
        service.create_jurisdiction(ctx, _province())
        raise Boom
    with context(database, clock) as ctx:
        service.create_jurisdiction(ctx, _province("34"))
    assert [e.payload["code"] for e, _, _ in heard] == ["34"]


def test_a_failing_subscriber_does_not_undo_the_committed_change(database: Database, clock: SimulatedClock) -> None:
    def broken(_event: EventRecord, _db: Database) -> None:
        raise RuntimeError("subscriber bug")

    subscribe(EventKind.JURISDICTION_CREATED)(broken)
    try:
        with context(database, clock) as ctx:
            service.create_jurisdiction(ctx, _province())
    finally:
        unsubscribe(broken)
    assert _count(database, Jurisdiction) == 1
    assert _count(database, Event) == 1


def test_occurred_at_follows_the_simulated_clock_and_recorded_at_the_wall_clock(
    database: Database, clock: SimulatedClock
) -> None:
    clock.advance(timedelta(days=3, hours=2))
    before = datetime.now(UTC)
    with context(database, clock) as ctx:
        record(ctx, EventKind.USER_LOGGED_IN, payload={"username": "drill"})
    after = datetime.now(UTC)
    with database.session() as session:
        event = session.scalars(select(Event)).one()
    assert event.occurred_at == clock.now()
    assert event.occurred_at.tzinfo is not None
    assert before - timedelta(seconds=1) <= event.recorded_at <= after + timedelta(seconds=1)


def _one_event(database: Database, clock: SimulatedClock) -> int:
    with context(database, clock) as ctx:
        record(ctx, EventKind.USER_LOGGED_IN, payload={"username": "drill"})
    with database.session() as session:
        return session.scalars(select(Event.id)).one()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE events SET actor_name = 'forger' WHERE id = :id", "DELETE FROM events WHERE id = :id"],
    ids=["update", "delete"],
)
def test_the_database_itself_refuses_to_rewrite_an_event(
    database: Database, clock: SimulatedClock, statement: str
) -> None:
    event_id = _one_event(database, clock)
    with pytest.raises(DBAPIError, match="append-only"), database.session() as session:
        session.execute(text(statement), {"id": event_id})
    with database.session() as session:
        assert session.scalars(select(Event.actor_name)).all() == ["system"]


def test_the_orm_refuses_to_rewrite_an_event(database: Database, clock: SimulatedClock) -> None:
    _one_event(database, clock)
    with pytest.raises(RuntimeError, match="append-only"), database.session() as session:
        event = session.scalars(select(Event)).one()
        event.actor_name = "forger"
        session.flush()
    with pytest.raises(RuntimeError, match="append-only"), database.session() as session:
        session.delete(session.scalars(select(Event)).one())
        session.flush()
    assert _count(database, Event) == 1
