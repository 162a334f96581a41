"""The database layer: SQLite's pragmas, foreign keys on both backends, timezone-aware UTC times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bihuan.core.db import Database, UTCDateTime

SHAOXING = timezone(timedelta(hours=8))


@pytest.fixture
def moments(database: Database):  # type: ignore[no-untyped-def]
    """A scratch table with one UTCDateTime column, dropped afterwards."""
    table = Table("scratch_moments", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    table.create(database.engine)
    try:
        yield table
    finally:
        table.drop(database.engine)


def test_sqlite_connections_run_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    database.dispose()


def test_a_dangling_foreign_key_is_refused(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        session.execute(text("INSERT INTO households (code, jurisdiction_id, address_id) VALUES ('H-1', 999999, NULL)"))
    with database.session() as session:
        assert session.execute(text("SELECT count(*) FROM households")).scalar() == 0


def test_an_aware_time_comes_back_as_the_same_instant_in_utc(database: Database, moments: Table) -> None:
    local = datetime(2021, 12, 15, 8, 30, 15, 123456, tzinfo=SHAOXING)
    with database.engine.begin() as connection:
        connection.execute(insert(moments).values(id=1, at=local))
    with database.engine.connect() as connection:
        stored = connection.execute(select(moments.c.at)).scalar_one()
    assert stored == local
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2021, 12, 15, 0, 30, 15, 123456, tzinfo=UTC)


def test_a_naive_time_is_refused(database: Database, moments: Table) -> None:
    with pytest.raises(StatementError, match="naive datetime refused"), database.engine.begin() as connection:
        connection.execute(insert(moments).values(id=1, at=datetime(2021, 12, 15, 8, 30)))


def test_times_sort_as_instants_whatever_zone_they_were_given_in(database: Database, moments: Table) -> None:
    early_utc = datetime(2021, 12, 15, 1, 0, tzinfo=UTC)
    later_local = datetime(2021, 12, 15, 8, 30, tzinfo=SHAOXING)  # 00:30 UTC: earlier than early_utc
    with database.engine.begin() as connection:
        connection.execute(insert(moments), [{"id": 1, "at": early_utc}, {"id": 2, "at": later_local}])
    with database.engine.connect() as connection:
        order = connection.execute(select(moments.c.id).order_by(moments.c.at)).scalars().all()
    assert order == [2, 1]
