"""Hand a generated district's venue scans to the platform's scan store, as a health-code feed would.

The generator keys its logs by its own person keys and venue ids, in local wall-clock time; the
platform keys them by register ids in UTC. People are matched by resident ID (or passport), venues
by venue code. ``shift_days`` moves the whole log in time, so that a demo's "today" can follow the
simulated fortnight.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from sqlalchemy import select

from bihuan.core.db import Database
from bihuan.people.models import Person, Venue
from bihuan.tracing.sources import ScanStore


def _person_ids(database: Database, directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """Sorted generator person keys and the register ids they were loaded as."""
    table = pq.read_table(directory / "persons.parquet", columns=["person_key", "resident_id", "passport_no"])
    with database.session() as session:
        by_resident = {
            k: v
            for k, v in session.execute(select(Person.resident_id, Person.id).where(Person.resident_id.is_not(None)))
        }
        by_passport = {
            k: v
            for k, v in session.execute(select(Person.passport_no, Person.id).where(Person.passport_no.is_not(None)))
        }
    keys, ids = [], []
    for key, resident, passport in zip(*(table.column(n).to_pylist() for n in table.column_names), strict=True):
        found = by_resident.get(resident) if resident else by_passport.get(passport)
        if found is not None:
            keys.append(key)
            ids.append(found)
    order = np.argsort(np.array(keys, dtype=np.int64))
    return np.array(keys, dtype=np.int64)[order], np.array(ids, dtype=np.int64)[order]


def _venue_ids(database: Database, directory: Path) -> tuple[np.ndarray, np.ndarray]:
    table = pq.read_table(directory / "venues.parquet", columns=["venue_id", "venue_code"])
    with database.session() as session:
        by_code = {code: venue_id for code, venue_id in session.execute(select(Venue.code, Venue.id))}
    pairs = [
        (v, by_code[c])
        for v, c in zip(*(table.column(n).to_pylist() for n in table.column_names), strict=True)
        if c in by_code
    ]
    pairs.sort()
    return np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64)


def _translate(values: pa.ChunkedArray, keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Register ids for generator keys (-1 where a key was not loaded)."""
    raw = values.to_numpy()
    at = np.clip(np.searchsorted(keys, raw), 0, max(len(keys) - 1, 0))
    hit = (keys[at] == raw) if len(keys) else np.zeros(len(raw), dtype=bool)
    return np.where(hit, ids[at] if len(ids) else -1, -1)


def _to_utc(column: pa.ChunkedArray, offset: timedelta) -> pa.Array:
    """Local wall-clock timestamps (a fixed offset from UTC) shifted into naive UTC."""
    return pc.subtract(column, pa.scalar(offset, pa.duration("us")))


def load_contact_logs(
    database: Database, directory: Path, store: ScanStore, *, timezone: str, shift_days: int = 0
) -> int:
    """Write the district's venue scans into the store; returns the rows written."""
    people, person_ids = _person_ids(database, directory)
    venues, venue_ids = _venue_ids(database, directory)
    first_day = datetime.fromisoformat(json.loads((directory / "manifest.json").read_text())["start_date"])
    offset = ZoneInfo(timezone).utcoffset(first_day) or timedelta(0)
    shift = offset - timedelta(days=shift_days)
    written = 0
    for batch in ds.dataset(directory / "scans", format="parquet", partitioning="hive").to_batches(
        columns=["person_key", "venue_id", "time_in", "time_out"], batch_size=1_000_000
    ):
        person = _translate(pa.chunked_array([batch.column(0)]), people, person_ids)
        venue = _translate(pa.chunked_array([batch.column(1)]), venues, venue_ids)
        table = pa.table(
            {
                "person_key": pa.array(person, pa.int64()),
                "venue_id": pa.array(venue, pa.int64()).cast(pa.int32()),
                "time_in": _to_utc(pa.chunked_array([batch.column(2)]), shift),
                "time_out": _to_utc(pa.chunked_array([batch.column(3)]), shift),
            }
        ).filter(pc.and_(pc.greater_equal(pa.array(person), 0), pc.greater_equal(pa.array(venue), 0)))
        store.write_scans(table)
        written += table.num_rows
    return written
