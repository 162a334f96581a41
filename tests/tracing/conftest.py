"""A small district with a brisk outbreak, generated once per session for the contact engine's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bihuan.sim import DistrictManifest, generate_district
from bihuan.tracing.backends import DuckDBBackend

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
