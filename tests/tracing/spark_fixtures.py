"""One local SparkSession per test run, shared by every Spark test (a JVM start costs ~10 s).

Spark tests skip when PySpark or Java is missing, unless BIHUAN_REQUIRE_SPARK=1 (as in CI), which
turns that into a failure. Import the fixtures into a test module: ``from tests.tracing.spark_fixtures
import spark_session, spark_backend  # noqa: F401``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from bihuan.tracing.backends_spark import SparkBackend, build_session, spark_available

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

REQUIRE_SPARK = os.environ.get("BIHUAN_REQUIRE_SPARK") == "1"


@pytest.fixture(scope="session")
def spark_session() -> Iterator[SparkSession]:
    """A local[2] session for the whole run; skipped (or failed under BIHUAN_REQUIRE_SPARK=1) without Spark."""
    reason = spark_available()
    if reason:
        if REQUIRE_SPARK:
            pytest.fail(f"BIHUAN_REQUIRE_SPARK=1 but Spark cannot start: {reason}")
        pytest.skip(reason)
    session = build_session("local[2]")
    yield session
    session.stop()


@pytest.fixture()
def spark_backend(spark_session: SparkSession) -> Iterator[SparkBackend]:
    """A backend on the shared session; closing it drops its views but leaves the session running."""
    backend = SparkBackend(session=spark_session)
    yield backend
    backend.close()


def sorted_rows(table: pa.Table) -> list[tuple[object, ...]]:
    """A table's rows as tuples, in a total order that tolerates NULLs (backends return rows unordered)."""
    rows = [tuple(row.values()) for row in table.to_pylist()]
    return sorted(rows, key=lambda row: tuple((value is None, repr(type(value)), value) for value in row))
