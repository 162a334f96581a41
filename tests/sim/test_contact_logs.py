"""The district's venue scans reach the platform's scan store keyed by register ids, in UTC, shifted in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.people.models import Person, Venue
from bihuan.sim import DistrictManifest
from bihuan.sim.contact_logs import load_contact_logs
from bihuan.sim.load import load_district
from bihuan.tracing.sources import ScanStore

SHANGHAI = timedelta(hours=8)  # the generator's wall clock is Shanghai's (no daylight saving)


@pytest.fixture
def store(tmp_path: Path) -> ScanStore:
    return ScanStore(tmp_path / "tracing")


def _first_scan(db: duckdb.DuckDBPyConnection) -> tuple[str, str, datetime, datetime]:
    """The generator's first scan of a resident, with their resident ID and the venue code."""
    row = db.execute(
        "SELECT p.resident_id, v.venue_code, s.time_in, s.time_out FROM scans s "
        "JOIN persons p USING (person_key) JOIN venues v USING (venue_id) "
        "WHERE p.resident_id IS NOT NULL ORDER BY s.time_in, s.person_key, s.venue_id LIMIT 1"
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def test_every_scan_is_handed_over_once_with_register_ids(
    database: Database, clock: SimulatedClock, district: DistrictManifest, store: ScanStore
) -> None:
    load_district(database, clock, district.out_dir)
    written = load_contact_logs(database, district.out_dir, store, timezone="Asia/Shanghai", shift_days=3)
    files = sorted(store.scans.rglob("*.parquet"))
    again = load_contact_logs(database, district.out_dir, store, timezone="Asia/Shanghai", shift_days=3)
    assert written == again == district.counts["scans"]
    assert sorted(store.scans.rglob("*.parquet")) == files, "the same log again writes no new file"


def test_a_scan_keeps_its_person_venue_and_times_in_utc_moved_by_the_shift(
    database: Database,
    clock: SimulatedClock,
    district: DistrictManifest,
    db: duckdb.DuckDBPyConnection,
    store: ScanStore,
) -> None:
    load_district(database, clock, district.out_dir)
    load_contact_logs(database, district.out_dir, store, timezone="Asia/Shanghai", shift_days=3)
    resident_id, venue_code, time_in, time_out = _first_scan(db)
    with database.session() as session:
        person_id = session.scalar(select(Person.id).where(Person.resident_id == resident_id))
        venue_id = session.scalar(select(Venue.id).where(Venue.code == venue_code))
    assert person_id is not None
    expected_in = (time_in + timedelta(days=3) - SHANGHAI).replace(tzinfo=UTC)
    expected_out = (time_out + timedelta(days=3) - SHANGHAI).replace(tzinfo=UTC)
    stored = store.visits_of(person_id, expected_in - timedelta(minutes=1), expected_out)
    assert (venue_id, expected_in, expected_out) in stored
