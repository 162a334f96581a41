"""Shared small districts: generated once per session, read by many tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bihuan.sim import DistrictManifest, generate_district

SMALL = {"people": 4_000, "seed": 7, "days": 7, "index_cases": 15, "attack": 1.5, "pings": True}


@pytest.fixture(scope="session")
def district(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    """A 4,000-person district over 7 days, with pings and a brisk outbreak."""
    return generate_district(tmp_path_factory.mktemp("district"), progress=False, **SMALL)


@pytest.fixture()
def db(district: DistrictManifest) -> duckdb.DuckDBPyConnection:
    """DuckDB views over the district's files: persons, households, addresses, venues, scans, pings, infections."""
    con = duckdb.connect()
    root = district.out_dir
    for name in ("jurisdictions", "addresses", "households", "persons", "venues"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{root / name}.parquet')")
    for name in ("scans", "pings"):
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{root / name}/*/*.parquet', hive_partitioning = true)"
        )
    con.execute(f"CREATE VIEW infections AS SELECT * FROM read_parquet('{district.infections}')")
    return con


def content_digest(root: Path) -> dict[str, str]:
    """A SHA-256 of the data (not the file bytes) of every Parquet file under ``root``."""
    digests = {}
    for path in sorted(root.rglob("*.parquet")):
        table = pq.read_table(path, partitioning=None)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table.combine_chunks())
        digests[str(path.relative_to(root))] = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    return digests
