"""Fixtures of the tracing tests: a small outbreak district for the engine, a small traced world for the services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.tracing.factories import World, make_world, runtime_for_tests, world_scans, write_scans

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.sim import DistrictManifest, generate_district
from bihuan.tracing.backends import DuckDBBackend
from bihuan.tracing.service.runtime import TracingRuntime

OUTBREAK = {"people": 3_000, "seed": 11, "days": 7, "index_cases": 10, "attack": 1.5, "pings": True}


@pytest.fixture(scope="session")
def outbreak_district(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    """3,000 people over 7 days, pings on, 10 index cases at 1.5 x the usual attack."""
    return generate_district(tmp_path_factory.mktemp("tracing-district"), progress=False, **OUTBREAK)


@pytest.fixture()
def duckdb_backend() -> Iterator[DuckDBBackend]:
    backend = DuckDBBackend(threads=2)
    yield backend
    backend.close()


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> World:
    """A case-to-be, the people around them and the venues they met at (see tests.tracing.factories)."""
    return make_world(database, clock)


@pytest.fixture
def runtime(database: Database, clock: SimulatedClock, tmp_path: Path, world: World) -> TracingRuntime:
    """Tracing wired with the world's scans in its store: a confirmed case is traced at once."""
    runtime = runtime_for_tests(database, clock, tmp_path / "data")
    write_scans(runtime, world_scans(world))
    return runtime
