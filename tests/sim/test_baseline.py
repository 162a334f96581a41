"""A committed baseline of summary outputs (like Starsim's baseline.yaml).

When this fails, the model's output changed: if that was meant, bump GENERATOR_VERSION, say so in
the CHANGELOG, and rewrite the baseline with ``BIHUAN_UPDATE_BASELINE=1 pytest tests/sim``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb

from bihuan.sim import GENERATOR_VERSION, DistrictManifest

BASELINE = Path(__file__).with_name("baseline.json")


def summary(district: DistrictManifest, db: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Counts from the manifest plus integer sums that move whenever a column's content moves."""
    data = district.to_json()
    keep = ("generator_version", "seed", "people", "days", "start_date", "counts", "cases", "cases_by_setting")
    extra = ("foreigners", "mean_household_size", "scans_per_person_day")
    sums = db.execute(
        """SELECT
             (SELECT sum(date_diff('day', DATE '1970-01-01', birth_date)) FROM persons),
             (SELECT sum(length(name)) + sum(CAST(right(phone, 4) AS BIGINT)) FROM persons),
             (SELECT sum(venue_id) FROM scans),
             (SELECT sum(epoch(time_out - time_in))::BIGINT FROM scans),
             (SELECT sum(infectee_key) + sum(epoch(infected_at))::BIGINT FROM infections)"""
    ).fetchone()
    assert sums is not None
    names = ("birth_days", "names_and_phones", "scan_venues", "scan_seconds", "infections")
    return {key: data[key] for key in (*keep, *extra)} | {"sums": dict(zip(names, map(int, sums), strict=True))}


def test_summary_matches_the_committed_baseline(district: DistrictManifest, db: duckdb.DuckDBPyConnection) -> None:
    current = summary(district, db)
    if os.environ.get("BIHUAN_UPDATE_BASELINE") == "1":
        BASELINE.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(BASELINE.read_text("utf-8"))
    assert current == expected, "model output changed: bump GENERATOR_VERSION and update baseline.json"
    assert expected["generator_version"] == GENERATOR_VERSION
