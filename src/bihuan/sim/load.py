"""Load a generated district into the platform through its services, as a data office would.

Reference data goes through people.bulk; persons go through the same CSV import that users
use, so the demo exercises the real validation path. Loading twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from bihuan.core.clock import Clock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.people import bulk, importer

Step = Callable[[str], None]
_PERSON_COLUMNS = {
    "resident_id": "resident_id",
    "passport_no": "passport_no",
    "nationality": "nationality",
    "name": "name",
    "sex": "sex",
    "birth_date": "birth_date",
    "phone": "phone",
    "building_code": "jurisdiction_code",
    "household_code": "household_code",
    "address_code": "address_code",
}


@dataclass(frozen=True)
class LoadSummary:
    jurisdictions: int
    addresses: int
    venues: int
    persons_created: int
    persons_unchanged: int
    persons_rejected: int
    import_report_id: int


def persons_csv(path: Path) -> bytes:
    """The district's persons as the register's import CSV."""
    table = pq.read_table(path, columns=[c for c in _PERSON_COLUMNS if c in pq.read_schema(path).names])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = table.column_names
    writer.writerow(_PERSON_COLUMNS[n] for n in names)
    for batch in table.to_batches(max_chunksize=50_000):
        columns = [batch.column(n).to_pylist() for n in names]
        writer.writerows([("" if v is None else v) for v in row] for row in zip(*columns, strict=True))
    return buffer.getvalue().encode("utf-8")


def load_district(database: Database, clock: Clock, directory: Path, *, step: Step | None = None) -> LoadSummary:
    """Load jurisdictions, addresses, venues and persons of a generated district (idempotent)."""
    say = step or (lambda _message: None)
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        say("jurisdictions")
        jurisdictions = bulk.load_jurisdictions(ctx, pq.read_table(directory / "jurisdictions.parquet").to_pylist())
        say("addresses")
        addresses = bulk.load_addresses(ctx, pq.read_table(directory / "addresses.parquet").to_pylist())
        say("venues")
        venues = bulk.load_venues(ctx, pq.read_table(directory / "venues.parquet").to_pylist())
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        say("persons")
        report = importer.import_persons(ctx, "district-persons.csv", persons_csv(directory / "persons.parquet"))
        return LoadSummary(
            jurisdictions=jurisdictions,
            addresses=addresses,
            venues=venues,
            persons_created=report.rows_created,
            persons_unchanged=report.rows_unchanged,
            persons_rejected=report.rows_rejected,
            import_report_id=report.id,
        )
