"""The bulk path of lab results (检测结果入库): a city round's results stored in a few set-based statements.

Checked rows are loaded into a temporary staging table (PostgreSQL: COPY; SQLite: executemany),
then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`` stores the new results, joined
to their tubes by barcode in SQL; a result whose tube is not known yet is stored held (tube_id
null). Only what needs following up (positives, single tubes) comes back to Python. The API's
JSON batches, uploaded files and the benchmark all go through :func:`store_results`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from bihuan.core.db import UTCDateTime, id_chunks
from bihuan.screening.choices import VALID_RESULTS, TestResult, TubeKind
from bihuan.screening.models import LabResult, Tube

STAGE = "lab_stage"
_STAGE_COLUMNS = ("row_no", "lab", "tube_barcode", "run_id", "result", "ct_values", "received_at", "tested_at")
_CHUNK = 5000


@dataclass(slots=True)
class LabRow:
    """One checked result, ready to store: times are timezone-aware UTC."""

    number: int  # the row of the file (header = row 1) or of the batch (first item = row 1)
    lab: str
    tube_barcode: str
    run_id: str
    result: TestResult
    ct_values: dict[str, float]
    received_at: datetime | None
    tested_at: datetime


@dataclass(frozen=True, slots=True)
class ResultRef:
    """A stored result matched to its tube, that follow-up has to act on."""

    lab_result_id: int
    tube_id: int
    result: str
    tube_kind: str


@dataclass
class StoreOutcome:
    """What storing a batch did: new results, held ones, rows already stored, and what to follow up."""

    created: int = 0
    held: int = 0
    positive: int = 0
    unchanged: list[int] = field(default_factory=list)
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (row, the result already stored)
    to_follow: list[ResultRef] = field(default_factory=list)


def store_results(
    session: Session, rows: Sequence[LabRow], *, recorded_at: datetime, upload_id: int | None
) -> StoreOutcome:
    """Store new results idempotently on (lab, tube_barcode, run_id); matched to tubes by barcode."""
    outcome = StoreOutcome()
    if not rows:
        return outcome
    postgres = session.get_bind().dialect.name == "postgresql"
    _create_stage(session, postgres)
    try:
        (_copy_stage if postgres else _fill_stage)(session, rows)
        _existing(session, rows, outcome)
        singles = set(
            session.scalars(
                text(
                    f"SELECT DISTINCT t.id FROM {STAGE} s JOIN tubes t ON t.barcode = s.tube_barcode WHERE t.kind = :k"
                ),
                {"k": TubeKind.SINGLE.value},
            )
        )
        stored = session.execute(
            text(_INSERT.format(ct="s.ct_values::jsonb" if postgres else "s.ct_values", stage=STAGE)).bindparams(
                bindparam("recorded_at", type_=UTCDateTime())
            ),
            {"recorded_at": recorded_at, "upload_id": upload_id},
        ).all()
    finally:
        session.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
    mark_resulted(session, [tube for _, tube, result in stored if tube is not None and result in VALID_RESULTS])
    positive = TestResult.POSITIVE.value
    for id_, tube_id, result in stored:
        outcome.created += 1
        outcome.positive += result == positive
        if tube_id is None:
            outcome.held += 1
        elif tube_id in singles:
            outcome.to_follow.append(ResultRef(id_, tube_id, result, TubeKind.SINGLE.value))
        elif result == positive:
            outcome.to_follow.append(ResultRef(id_, tube_id, result, TubeKind.POOLED.value))
    return outcome


def mark_resulted(session: Session, tube_ids: Sequence[int]) -> None:
    """Keep ``Tube.resulted_at`` (the first valid result's test time) for these tubes, where still unset."""
    first = (
        select(func.min(LabResult.tested_at))
        .where(LabResult.tube_id == Tube.id, LabResult.result.in_(VALID_RESULTS))
        .scalar_subquery()
    )
    for chunk in id_chunks(sorted(set(tube_ids))):
        session.execute(
            update(Tube).where(Tube.id.in_(chunk), Tube.resulted_at.is_(None)).values(resulted_at=first),
            execution_options={"synchronize_session": False},
        )


_INSERT = """
INSERT INTO lab_results
    (lab, tube_barcode, run_id, result, ct_values, received_at, tested_at, recorded_at, tube_id, upload_id)
SELECT s.lab, s.tube_barcode, s.run_id, s.result, {ct}, s.received_at, s.tested_at, :recorded_at, t.id, :upload_id
FROM {stage} s LEFT JOIN tubes t ON t.barcode = s.tube_barcode
WHERE true
ON CONFLICT (lab, tube_barcode, run_id) DO NOTHING
RETURNING id, tube_id, result
"""


def _create_stage(session: Session, postgres: bool) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
    if postgres:
        session.execute(
            text(
                f"CREATE TEMPORARY TABLE {STAGE} (row_no integer, lab varchar(64), tube_barcode varchar(40), "
                "run_id varchar(64), result varchar(8), ct_values text, received_at timestamptz, "
                "tested_at timestamptz) ON COMMIT DROP"
            )
        )
    else:
        session.execute(
            text(
                f"CREATE TEMPORARY TABLE {STAGE} (row_no INTEGER, lab TEXT, tube_barcode TEXT, run_id TEXT, "
                "result TEXT, ct_values TEXT, received_at TEXT, tested_at TEXT)"
            )
        )


def _copy_stage(session: Session, rows: Sequence[LabRow]) -> None:
    """PostgreSQL: COPY the rows into the staging table (psycopg 3), then let the planner see its size."""
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {STAGE} ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (
                        r.number,
                        r.lab,
                        r.tube_barcode,
                        r.run_id,
                        r.result.value,
                        _ct_json(r.ct_values),
                        r.received_at,
                        r.tested_at,
                    )
                )
        cursor.execute(f"ANALYZE {STAGE}")


def _ct_json(ct_values: dict[str, float]) -> str:
    return json.dumps(ct_values) if ct_values else "{}"


class _SqliteTimes(dict[datetime, str]):
    """Times as SQLAlchemy's SQLite DateTime writes them (UTC, naive, with microseconds), each formatted once."""

    def __missing__(self, moment: datetime) -> str:
        value = moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        self[moment] = value
        return value


def _fill_stage(session: Session, rows: Sequence[LabRow]) -> None:
    """SQLite: executemany into the staging table, times written as SQLAlchemy writes them."""
    connection = session.connection()
    times = _SqliteTimes()
    statement = f"INSERT INTO {STAGE} ({', '.join(_STAGE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    for start in range(0, len(rows), _CHUNK):
        connection.exec_driver_sql(
            statement,
            [
                (
                    r.number,
                    r.lab,
                    r.tube_barcode,
                    r.run_id,
                    r.result.value,
                    _ct_json(r.ct_values),
                    None if r.received_at is None else times[r.received_at],
                    times[r.tested_at],
                )
                for r in rows[start : start + _CHUNK]
            ],
        )


def _existing(session: Session, rows: Sequence[LabRow], outcome: StoreOutcome) -> None:
    """Rows already stored: unchanged when the result is the same, a conflict when it differs."""
    stored = session.execute(
        text(
            f"SELECT s.row_no, s.result, r.result FROM {STAGE} s JOIN lab_results r "
            "ON r.lab = s.lab AND r.tube_barcode = s.tube_barcode AND r.run_id = s.run_id"
        )
    ).all()
    for row_no, new, old in stored:
        if new == old:
            outcome.unchanged.append(row_no)
        else:
            outcome.conflicts.append((row_no, old))
