"""The platform's contact data (轨迹数据): venue-scan logs, location pings and trip records as Parquet.

Heavy logs never go into the database: they live under ``<data_dir>/tracing/`` as day-partitioned
Parquet (``scans/day=YYYY-MM-DD/part-<digest>.parquet``), keyed by the register's person and venue
ids, with naive UTC times. A batch is written under the digest of its content, so sending the same
batch again rewrites the same file and changes nothing. Before each engine run the register is
snapshotted (persons with their household, venues with their kind) beside the logs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select

from bihuan.core.context import Ctx
from bihuan.people.models import Household, Person, Venue
from bihuan.tracing.engine import ContactSources

SCAN_SCHEMA = pa.schema(
    [
        ("person_key", pa.int64()),
        ("venue_id", pa.int32()),
        ("time_in", pa.timestamp("us")),
        ("time_out", pa.timestamp("us")),
    ]
)
TRIP_SCHEMA = pa.schema(
    [
        ("trip_id", pa.string()),  # service number and departure date: MU5101-2021-12-03
        ("vehicle_kind", pa.string()),  # a VehicleKind value
        ("departs_at", pa.timestamp("us")),  # naive UTC, like the scans
        ("arrives_at", pa.timestamp("us")),
        ("person_key", pa.int64()),
        ("row", pa.int32()),  # plane, train seat car, coach and bus rows
        ("car", pa.string()),  # train car
        ("compartment", pa.string()),  # sleeper compartment
        ("cabin", pa.string()),  # ship cabin (null: deck seat)
        ("crew", pa.bool_()),
    ]
)
"""Transport records (乘车乘机记录): one row per traveller per trip, with the seat as the vehicle has it."""
PING_SCHEMA = pa.schema(
    [("person_key", pa.int64()), ("ts", pa.timestamp("us")), ("lat", pa.float64()), ("lon", pa.float64())]
)


@dataclass(frozen=True, slots=True)
class ScanStore:
    """Where one deployment keeps its scan logs, pings and trips (a directory under the data dir)."""

    root: Path

    @classmethod
    def under(cls, data_dir: Path) -> ScanStore:
        return cls(Path(data_dir) / "tracing")

    @property
    def scans(self) -> Path:
        return self.root / "scans"

    @property
    def pings(self) -> Path:
        return self.root / "pings"

    @property
    def trips(self) -> Path:
        return self.root / "trips"

    def has(self, log: Path) -> bool:
        """Whether a log directory holds at least one Parquet file."""
        return log.is_dir() and any(log.glob("*/*.parquet"))

    def write_scans(self, table: pa.Table) -> list[Path]:
        """Store a batch of venue scans (one file per day of entry); the same batch again is a no-op."""
        return self._write_by_day(self.scans, table.select(SCAN_SCHEMA.names).cast(SCAN_SCHEMA), "time_in")

    def write_pings(self, table: pa.Table) -> list[Path]:
        """Store a batch of location pings (one file per day); the same batch again is a no-op."""
        return self._write_by_day(self.pings, table.select(PING_SCHEMA.names).cast(PING_SCHEMA), "ts")

    def write_trips(self, table: pa.Table) -> list[Path]:
        """Store a batch of trip records (one file per day of departure); the same batch again is a no-op."""
        return self._write_by_day(self.trips, table.select(TRIP_SCHEMA.names).cast(TRIP_SCHEMA), "departs_at")

    def _write_by_day(self, log: Path, table: pa.Table, time_column: str) -> list[Path]:
        written: list[Path] = []
        if table.num_rows == 0:
            return written
        days = pc.strftime(table[time_column], format="%Y-%m-%d")
        for day in sorted(set(days.to_pylist()) - {None}):
            part = table.filter(pc.equal(days, day))
            folder = log / f"day={day}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{_digest(part)}.parquet"
            if not path.exists():
                pq.write_table(part, path.with_suffix(".tmp"), compression="zstd")
                path.with_suffix(".tmp").replace(path)
            written.append(path)
        return written

    def visits_of(self, person_key: int, start: datetime, end: datetime) -> list[tuple[int, datetime, datetime]]:
        """One person's well-formed scans overlapping [start, end) (aware UTC), as (venue, in, out), in order."""
        if not self.has(self.scans):
            return []
        naive = [moment.astimezone(UTC).replace(tzinfo=None) for moment in (start, end)]
        with duckdb.connect() as connection:
            rows = connection.execute(
                "SELECT DISTINCT venue_id, time_in, time_out FROM read_parquet(?, hive_partitioning = false) "
                "WHERE person_key = ? AND time_out > time_in AND time_out > ? AND time_in < ? ORDER BY time_in",
                [str(self.scans / "*" / "*.parquet"), person_key, *naive],
            ).fetchall()
        return [(int(v), t_in.replace(tzinfo=UTC), t_out.replace(tzinfo=UTC)) for v, t_in, t_out in rows]

    def snapshot_register(self, ctx: Ctx) -> tuple[Path, Path]:
        """Write persons (person_key, household_code) and venues (venue_id, kind) for the engine to join."""
        self.root.mkdir(parents=True, exist_ok=True)
        persons = self.root / "persons.parquet"
        venues = self.root / "venues.parquet"
        rows = ctx.session.execute(
            select(Person.id, Household.code).outerjoin(Household, Household.id == Person.household_id)
        ).all()
        pq.write_table(
            pa.table(
                {
                    "person_key": pa.array([r[0] for r in rows], pa.int64()),
                    "household_code": pa.array([r[1] for r in rows], pa.string()),
                }
            ),
            persons,
        )
        venue_rows = ctx.session.execute(select(Venue.id, Venue.kind)).all()
        pq.write_table(
            pa.table(
                {
                    "venue_id": pa.array([r[0] for r in venue_rows], pa.int32()),
                    "kind": pa.array([r[1] for r in venue_rows], pa.string()),
                }
            ),
            venues,
        )
        return persons, venues

    def sources(self, ctx: Ctx, period: tuple[datetime, datetime] | None = None) -> ContactSources:
        """The engine's sources over this store, with a fresh register snapshot."""
        persons, venues = self.snapshot_register(ctx)
        self.scans.mkdir(parents=True, exist_ok=True)
        if not self.has(self.scans):
            empty = self.scans / "day=1970-01-01"
            empty.mkdir(parents=True, exist_ok=True)
            pq.write_table(SCAN_SCHEMA.empty_table(), empty / "part-empty.parquet")
        pings = self.pings if self.has(self.pings) else None
        trips = self.trips if self.has(self.trips) else None
        return ContactSources(persons, venues, self.scans, pings, period=period, trips=trips)


def _digest(table: pa.Table) -> str:
    """A short digest of a table's content, so that the same batch always lands in the same file."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:20]
