"""The loop's read model kept from the log: a new event replays only the people it touches, a rebuild gives
the same rows, two reads at once write each person once, and a contact's finding moves its case's clock."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from tests.factories import context
from tests.isolation.factories import deliver, world_with_floor
from tests.tracing.factories import confirm_case
from tests.transfer.factories import PROFILE, TransferWorld, identify_contacts, make_household, make_transfer_world

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import record
from bihuan.loop import metrics, projection, service
from bihuan.loop.choices import Stage
from bihuan.loop.engine import LoopRules
from bihuan.loop.models import LoopCount, LoopDelay, LoopReached, LoopStanding
from bihuan.people.schemas import Page
from bihuan.protocol import LoopStage, TransferCategory

CLOSE = TransferCategory.CLOSE_CONTACT
PAGE = Page(page=1, page_size=50)


def _contacts(database: Database, clock: SimulatedClock, n: int) -> tuple[TransferWorld, list[int]]:
    world = make_transfer_world(database, clock)
    people = [p for _ in range(n) for p in make_household(database, clock, world.district.building_a, 1)]
    identify_contacts(database, clock, people, CLOSE)
    return world, people


def _read(database: Database, clock: SimulatedClock) -> None:
    """A loop read, which brings the read model up to the log first."""
    with context(database, clock) as ctx:
        service.open_loops(ctx, PROFILE, clock.now(), page=PAGE)


def _standings(database: Database) -> dict[int, dict[str, Any]]:
    with database.session() as session:
        return {
            s.person_id: {c.key: getattr(s, c.key) for c in LoopStanding.__table__.columns}
            for s in session.scalars(select(LoopStanding))
        }


def _rows(database: Database) -> tuple[Any, ...]:
    """Every row of the read model, without the bookmarks and row ids that a rebuild renumbers."""
    standings = {p: {k: v for k, v in row.items() if k != "last_event_id"} for p, row in _standings(database).items()}
    with database.session() as session:
        reached = {
            tuple(r) for r in session.execute(select(LoopReached.person_id, LoopReached.stage, LoopReached.first_at))
        }
        delays = {
            tuple(r)
            for r in session.execute(
                select(LoopDelay.person_id, LoopDelay.stage, LoopDelay.started_at, LoopDelay.ended_at, LoopDelay.hours)
            )
        }
        counts = {
            tuple(r)
            for r in session.execute(select(LoopCount.jurisdiction_id, LoopCount.key, LoopCount.hour, LoopCount.people))
        }
    return standings, reached, delays, counts


def test_a_new_event_replays_only_its_person_and_the_row_agrees_with_the_engine(
    database: Database, clock: SimulatedClock
) -> None:
    world, [moving, staying] = _contacts(database, clock, 2)
    _read(database, clock)
    before = _standings(database)
    clock.advance(timedelta(hours=2))
    with context(database, clock) as ctx:
        record(ctx, EventKind.MOVED_OUT, person_id=moving, jurisdiction_id=world.district.building_a)

    _read(database, clock)

    after = _standings(database)
    assert after[staying] == before[staying]
    assert after[moving]["last_event_id"] > before[moving]["last_event_id"]
    with context(database, clock) as ctx:
        t = service.timelines(ctx, LoopRules.of(PROFILE), [moving], clock.now())[moving]
    row = after[moving]
    assert (
        (row["closed"], row["end"], row["ended_at"])
        == (t.closed, t.end, t.ended_at)
        == (True, "moved_out", clock.now())
    )


def test_a_rebuild_gives_the_rows_the_refreshes_built(database: Database, clock: SimulatedClock) -> None:
    world, people = _contacts(database, clock, 3)
    _read(database, clock)
    clock.advance(timedelta(hours=1))
    with context(database, clock) as ctx:
        record(ctx, EventKind.MOVED_OUT, person_id=people[0], jurisdiction_id=world.district.building_a)
    _read(database, clock)
    refreshed = _rows(database)

    with context(database, clock) as ctx:
        projection.rebuild(ctx, PROFILE)

    assert _rows(database) == refreshed
    assert set(refreshed[0]) == set(people)
    assert (0, "closed", clock.now().replace(minute=0, second=0, microsecond=0), 1) in refreshed[3]


def test_two_reads_at_once_leave_one_row_per_person(database: Database, clock: SimulatedClock) -> None:
    _, people = _contacts(database, clock, 4)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            start.wait()
            with context(database, clock) as ctx:
                projection.refresh(ctx, PROFILE)
        except BaseException as error:
            failures.append(error)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()

    assert failures == []
    with database.session() as session:
        rows = session.execute(select(LoopStanding.person_id, func.count()).group_by(LoopStanding.person_id)).all()
    assert sorted(rows) == [(p, 1) for p in sorted(people)]


def test_a_contacts_first_finding_stops_its_cases_first_findings_clock(
    database: Database, clock: SimulatedClock
) -> None:
    world = make_transfer_world(database, clock)
    [patient] = make_household(database, clock, world.district.building_a, 1)
    case_id = confirm_case(database, clock, patient, world.district.building_a)
    confirmed_at = clock.now()
    _read(database, clock)
    findings = LoopStage.FIRST_TRACING_FINDINGS.value
    with database.session() as session:
        running = session.execute(
            select(LoopDelay.started_at, LoopDelay.ended_at).where(
                LoopDelay.person_id == patient, LoopDelay.stage == findings
            )
        ).one()
    assert tuple(running) == (confirmed_at, None)

    clock.advance(timedelta(hours=3))
    contacts = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, contacts, CLOSE, case_id=case_id)
    _read(database, clock)

    with database.session() as session:
        ended = session.execute(
            select(LoopDelay.ended_at, LoopDelay.hours).where(
                LoopDelay.person_id == patient, LoopDelay.stage == findings
            )
        ).one()
        found = session.scalar(
            select(LoopReached.first_at).where(
                LoopReached.person_id == patient, LoopReached.stage == Stage.FIRST_FINDINGS.value
            )
        )
    assert tuple(ended) == (clock.now(), 3.0)
    assert found == clock.now()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Kolkata"])  # a whole and a half hour from UTC
def test_the_funnel_from_the_read_model_agrees_with_the_one_replayed_from_the_log(
    database: Database, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch, zone: str
) -> None:
    world, _ = world_with_floor(database, clock)
    people = [p for _ in range(3) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people[:2], CLOSE)
    clock.advance(timedelta(hours=20))
    identify_contacts(database, clock, people[2:], CLOSE)
    with context(database, clock) as ctx:
        record(ctx, EventKind.MOVED_OUT, person_id=people[0], jurisdiction_id=world.district.building_a)
    days = (date(2021, 12, 9), date(2021, 12, 12))

    with context(database, clock) as ctx:
        from_rows = metrics.funnel(ctx, PROFILE, *days, ZoneInfo(zone))
    monkeypatch.setattr(projection.Bookmark, "covers", lambda _self, _until: False)
    with context(database, clock) as ctx:
        from_log = metrics.funnel(ctx, PROFILE, *days, ZoneInfo(zone))

    assert from_rows == from_log
    assert (from_rows.entered, from_rows.closed) == (3, 1)
