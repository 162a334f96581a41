"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests use a fresh database per test run (dropped afterwards). They are skipped when
no server is reachable, unless BIHUAN_REQUIRE_POSTGRES=1 (as in CI), which turns that into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import bihuan.models
import bihuan.subscribers  # noqa: F401  (the loop reacts to events in every test)
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Base, Database

POSTGRES_URL = os.environ.get("BIHUAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("BIHUAN_REQUIRE_POSTGRES") == "1"
DRILL_START = datetime(2021, 12, 10, 0, 0, tzinfo=UTC)  # 08:00 in Shaoxing, during the source outbreak


def _admin_conninfo() -> str:
    url = make_url(POSTGRES_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (per xdist worker), migrated to head."""
    try:
        admin = psycopg.connect(_admin_conninfo(), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (BIHUAN_REQUIRE_POSTGRES=1) but unreachable: {error}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    name = f"bihuan_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        database = Database(url)
        database.migrate()
        database.dispose()
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: a copied SQLite file, or a truncated PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "bihuan.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
        yield database
        database.dispose()
        return
    database = Database(request.getfixturevalue("postgres_database_url"))
    try:
        yield database
    finally:
        _truncate_all(database)
        database.dispose()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(DRILL_START)


@pytest.fixture
def app(database: Database, clock: SimulatedClock, tmp_path: Path):  # type: ignore[no-untyped-def]
    from bihuan.app import create_app
    from bihuan.config import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    return create_app(settings, database=database, clock=clock)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client
