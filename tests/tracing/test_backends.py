"""One SQL definition, two backends: DuckDB and Spark return the same rows and column types."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.tracing.spark_fixtures import sorted_rows, spark_backend, spark_session  # noqa: F401 (fixtures)

from bihuan.tracing.backends import DuckDBBackend, QueryBackend
from bihuan.tracing.backends_spark import SparkBackend

pytestmark = pytest.mark.spark

T = datetime

PERSONS = pa.table(
    {
        "person_key": pa.array([1, 2, 3, 4, 5], pa.int64()),
        "household_code": pa.array(["H1", "H1", "H2", None, "H3"], pa.string()),
    }
)
VENUES = pa.table(
    {
        "venue_id": pa.array([10, 11, 12], pa.int32()),
        "kind": pa.array(["restaurant", "market", None], pa.string()),
    }
)
SCANS_BY_DAY = {
    "2021-12-01": [
        (1, 10, T(2021, 12, 1, 8, 0), T(2021, 12, 1, 9, 0)),
        (2, 10, T(2021, 12, 1, 8, 30), T(2021, 12, 1, 8, 50)),
        (3, 10, T(2021, 12, 1, 8, 55), T(2021, 12, 1, 9, 30)),
        (4, 11, T(2021, 12, 1, 12, 0), None),  # exit never scanned
    ],
    "2021-12-02": [
        (1, 11, T(2021, 12, 2, 10, 0), T(2021, 12, 2, 10, 40)),
        (5, 11, T(2021, 12, 2, 10, 20), T(2021, 12, 2, 11, 0)),
        (5, 99, T(2021, 12, 2, 18, 0), T(2021, 12, 2, 18, 30)),  # unknown venue
        (2, 12, T(2021, 12, 2, 23, 50), T(2021, 12, 3, 0, 20)),
    ],
}
SCAN_SCHEMA = pa.schema(
    [
        ("person_key", pa.int64()),
        ("venue_id", pa.int32()),
        ("time_in", pa.timestamp("us")),
        ("time_out", pa.timestamp("us")),
    ]
)
WINDOWS = pa.table(
    {
        "case_key": pa.array([1], pa.int64()),
        "window_start": pa.array([T(2021, 11, 29)], pa.timestamp("us")),
        "window_end": pa.array([T(2021, 12, 2, 10, 30)], pa.timestamp("us")),
    }
)

QUERIES = {
    "co_presence_join_with_interval_overlap": """
        SELECT a.person_key AS case_key, b.person_key AS contact_key, a.venue_id,
               GREATEST(a.time_in, b.time_in) AS first_together,
               LEAST(a.time_out, b.time_out) AS last_together
        FROM scans a JOIN scans b
          ON a.venue_id = b.venue_id AND a.person_key <> b.person_key
         AND LEAST(a.time_out, b.time_out) >= GREATEST(a.time_in, b.time_in) + INTERVAL 15 MINUTE
        WHERE a.person_key = 1
    """,
    "group_by_kind_with_left_join_and_nulls": """
        SELECT COALESCE(v.kind, 'unknown') AS kind, COUNT(*) AS visits,
               COUNT(s.time_out) AS with_exit, CAST(SUM(s.venue_id) AS BIGINT) AS id_sum,
               COUNT(DISTINCT s.person_key) AS people, MIN(s.time_in) AS first_in
        FROM scans s LEFT JOIN venues v ON v.venue_id = s.venue_id
        GROUP BY COALESCE(v.kind, 'unknown')
    """,
    "window_row_number_first_scan_per_person": """
        SELECT person_key, venue_id, time_in,
               CAST(ROW_NUMBER() OVER (PARTITION BY person_key ORDER BY time_in) AS BIGINT) AS visit_no,
               LAG(venue_id) OVER (PARTITION BY person_key ORDER BY time_in) AS previous_venue
        FROM scans
    """,
    "case_on_nulls_and_timestamps": """
        SELECT s.person_key,
               CASE WHEN s.time_out IS NULL THEN 'open'
                    WHEN s.time_out < s.time_in THEN 'reversed'
                    WHEN v.venue_id IS NULL THEN 'unknown venue'
                    ELSE 'ok' END AS problem,
               CAST(s.time_in AS DATE) AS scan_date,
               DATE_TRUNC('hour', s.time_in) AS scan_hour,
               COALESCE(s.time_out, TIMESTAMP '2021-12-03 00:00:00') AS closed_out,
               p.household_code
        FROM scans s
        LEFT JOIN venues v ON v.venue_id = s.venue_id
        LEFT JOIN persons p ON p.person_key = s.person_key
    """,
    "arrow_window_joined_to_parquet_and_households": """
        SELECT w.case_key, h.person_key AS contact_key, 'household' AS reason
        FROM windows w
        JOIN persons c ON c.person_key = w.case_key
        JOIN persons h ON h.household_code = c.household_code AND h.person_key <> c.person_key
        UNION ALL
        SELECT w.case_key, s.person_key, 'venue' AS reason
        FROM windows w
        JOIN scans own ON own.person_key = w.case_key
         AND own.time_in >= w.window_start AND own.time_in < w.window_end
        JOIN scans s ON s.venue_id = own.venue_id AND s.person_key <> own.person_key
         AND s.time_in < own.time_out AND s.time_out > own.time_in
        WHERE EXISTS (SELECT 1 FROM venues v WHERE v.venue_id = s.venue_id)
    """,
    "hive_partition_column_is_a_date": """
        SELECT day, COUNT(*) AS scans FROM scans WHERE day >= DATE '2021-12-02' GROUP BY day
    """,
}


@pytest.fixture(scope="module")
def district_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """persons.parquet, venues.parquet and scans/day=YYYY-MM-DD/part-00000.parquet."""
    root = tmp_path_factory.mktemp("backends")
    pq.write_table(PERSONS, root / "persons.parquet")
    pq.write_table(VENUES, root / "venues.parquet")
    for day, rows in SCANS_BY_DAY.items():
        folder = root / "scans" / f"day={day}"
        folder.mkdir(parents=True)
        columns = [list(column) for column in zip(*rows, strict=True)]
        pq.write_table(pa.table(columns, schema=SCAN_SCHEMA), folder / "part-00000.parquet")
    return root


def _load(backend: QueryBackend, root: Path) -> QueryBackend:
    backend.register_parquet("persons", str(root / "persons.parquet"))
    backend.register_parquet("venues", [str(root / "venues.parquet")])
    backend.register_parquet("scans", str(root / "scans" / "*" / "*.parquet"), hive_partitioning=True)
    backend.register_arrow("windows", WINDOWS)
    return backend


@pytest.fixture()
def both(district_files: Path, spark_backend: SparkBackend) -> Iterator[tuple[QueryBackend, QueryBackend]]:  # noqa: F811
    duck = DuckDBBackend(threads=2)
    yield _load(duck, district_files), _load(spark_backend, district_files)
    duck.close()


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_same_sql_gives_same_rows_and_types_on_duckdb_and_spark(
    both: tuple[QueryBackend, QueryBackend], name: str
) -> None:
    duck, spark = both
    expected, got = duck.query(QUERIES[name]), spark.query(QUERIES[name])
    assert got.schema == expected.schema
    assert sorted_rows(got) == sorted_rows(expected)
    assert expected.num_rows > 0


def test_parquet_timestamps_and_partitions_keep_duckdb_types(both: tuple[QueryBackend, QueryBackend]) -> None:
    _, spark = both
    schema = spark.query("SELECT * FROM scans").schema
    assert schema.field("time_in").type == pa.timestamp("us")
    assert schema.field("venue_id").type == pa.int32()
    assert schema.field("day").type == pa.date32()
    assert sorted_rows(spark.query("SELECT DISTINCT day FROM scans")) == [(date(2021, 12, 1),), (date(2021, 12, 2),)]


def test_without_hive_partitioning_no_partition_column_appears(
    district_files: Path,
    spark_backend: SparkBackend,  # noqa: F811
) -> None:
    duck = DuckDBBackend()
    try:
        for backend in (duck, spark_backend):
            backend.register_parquet("flat_scans", str(district_files / "scans" / "*" / "*.parquet"))
            table = backend.query("SELECT * FROM flat_scans")
            assert table.column_names == ["person_key", "venue_id", "time_in", "time_out"]
            assert table.num_rows == 8
    finally:
        duck.close()


def test_closing_a_backend_on_a_shared_session_drops_its_views_and_keeps_the_session(
    spark_session: object,  # noqa: F811
) -> None:
    backend = SparkBackend()  # joins the running session rather than starting a second one
    assert backend.session is spark_session
    backend.register_arrow("short_lived", WINDOWS)
    backend.close()
    assert not spark_session.catalog.tableExists("short_lived")  # type: ignore[attr-defined]
    assert spark_session.sql("SELECT 1 AS one").toArrow().num_rows == 1  # type: ignore[attr-defined]


def test_importing_the_spark_backend_does_not_import_pyspark() -> None:
    code = "import sys, bihuan.tracing.backends_spark; assert 'pyspark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
