"""Evidence for the contact engine, as Arrow: one row per (case, contact, reason), merged per pair.

Every way of finding a contact (household, venue, grid, via a close contact, vehicle...) yields an
*evidence table* of :data:`EVIDENCE_SCHEMA`; :func:`merge_evidence` folds them into one row per
(case, contact) with the strongest category, every reason (sorted), the exposure span and minutes,
all vectorised, so a million contacts cost no Python loop but the final objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from bihuan.protocol import ContactCategory

STRENGTH = (
    ContactCategory.CLOSE_CONTACT,
    ContactCategory.SECONDARY_CONTACT,
    ContactCategory.COMPANION,
    ContactCategory.GENERAL_CONTACT,
)
"""Categories from the strongest: a person found several ways takes the first that applies."""

MICROS_PER_MINUTE = 60_000_000

EVIDENCE_SCHEMA = pa.schema(
    [
        ("case_key", pa.int64()),
        ("contact_key", pa.int64()),
        ("rank", pa.int8()),  # index in STRENGTH
        ("reason", pa.string()),
        ("first", pa.timestamp("us")),
        ("last", pa.timestamp("us")),
        ("exposure_us", pa.int64()),  # co-presence in microseconds; 0 for household-only evidence
    ]
)

MERGED_SCHEMA = pa.schema(
    [
        ("case_key", pa.int64()),
        ("contact_key", pa.int64()),
        ("category", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("first_exposure", pa.timestamp("us")),
        ("last_exposure", pa.timestamp("us")),
        ("minutes", pa.float64()),
    ]
)


def rank(category: ContactCategory) -> int:
    """A category's place in :data:`STRENGTH` (0: strongest)."""
    return STRENGTH.index(category)


def evidence(
    case_key: pa.Array | pa.ChunkedArray,
    contact_key: pa.Array | pa.ChunkedArray,
    category: ContactCategory | pa.Array | pa.ChunkedArray,
    reason: pa.Array | pa.ChunkedArray,
    first: pa.Array | pa.ChunkedArray,
    last: pa.Array | pa.ChunkedArray,
    exposure_us: pa.Array | pa.ChunkedArray | None = None,
) -> pa.Table:
    """An evidence table from columns; ``category`` is one category for all rows or an array of ranks."""
    rows = len(case_key)
    ranks = pa.array([rank(category)] * rows, pa.int8()) if isinstance(category, ContactCategory) else category
    micros = pa.array([0] * rows, pa.int64()) if exposure_us is None else exposure_us
    columns = [case_key, contact_key, ranks, reason, first, last, micros]
    return pa.table(
        [pc.cast(column, field.type) for column, field in zip(columns, EVIDENCE_SCHEMA, strict=True)],
        schema=EVIDENCE_SCHEMA,
    )


def micros_between(start: pa.ChunkedArray, end: pa.ChunkedArray) -> pa.Array:
    """Microseconds from ``start`` to ``end``, element-wise."""
    us = pa.timestamp("us")
    return pc.subtract(pc.cast(end, us).cast(pa.int64()), pc.cast(start, us).cast(pa.int64()))


def prefixed(prefix: str, values: pa.ChunkedArray | pa.Array, suffix: str = "") -> pa.Array:
    """Reason strings: ``prefix`` + value (+ ``suffix``), element-wise."""
    text = pc.cast(values, pa.string())
    return pc.binary_join_element_wise(prefix, text, suffix, "")


def first_contact_of_close(tables: Sequence[pa.Table]) -> pa.Table:
    """Per (case, close contact): their first contact with the case, found any way (case_key, contact_key, first)."""
    return _local_sql(
        f"""WITH found AS ({_EVIDENCE}),
          close AS (SELECT DISTINCT case_key, contact_key FROM found WHERE rank = {rank(ContactCategory.CLOSE_CONTACT)})
        SELECT f.case_key, f.contact_key, MIN(f.first) AS first
        FROM found f SEMI JOIN close c ON c.case_key = f.case_key AND c.contact_key = f.contact_key
        GROUP BY f.case_key, f.contact_key ORDER BY f.case_key, f.contact_key""",
        tables,
    )


def secondary_windows(
    close_first: pa.Table, isolated_at: Mapping[int, datetime], data_end: datetime, schema: pa.Schema
) -> pa.Table:
    """Windows (次密接判定) of ``schema`` for each close contact of each case: from their first exposure to
    their isolation (``isolated_at``, else ``data_end``); none when they were isolated before it."""
    isolated = pa.table(
        {
            "contact_key": pa.array(list(isolated_at), pa.int64()),
            "isolated_at": pa.array(list(isolated_at.values()), pa.timestamp("us")),
        }
    )
    joined = close_first.join(isolated, "contact_key", join_type="left outer")
    ends = pc.fill_null(joined["isolated_at"], pa.scalar(data_end, pa.timestamp("us")))
    windows = pa.table([joined["case_key"], joined["contact_key"], joined["first"], ends], schema=schema)
    windows = windows.filter(pc.greater(windows["window_end"], windows["window_start"]))
    return windows.sort_by([("origin_key", "ascending"), ("case_key", "ascending")])


def merge_evidence(tables: Sequence[pa.Table]) -> pa.Table:
    """One row per (case, contact) of :data:`MERGED_SCHEMA`, ordered: strongest category, sorted reasons,
    earliest first and latest last exposure, minutes summed. A case is never its own contact, and a
    close contact's evidence via other close contacts (secondary) is left out, as the protocol has it."""
    close, secondary = rank(ContactCategory.CLOSE_CONTACT), rank(ContactCategory.SECONDARY_CONTACT)
    merged = _local_sql(
        f"""WITH found AS (SELECT * FROM ({_EVIDENCE}) WHERE case_key <> contact_key),
          close AS (SELECT DISTINCT case_key, contact_key FROM found WHERE rank = {close}),
          kept AS (
            SELECT f.* FROM found f ANTI JOIN close c ON c.case_key = f.case_key AND c.contact_key = f.contact_key
            WHERE f.rank = {secondary}
            UNION ALL SELECT * FROM found WHERE rank <> {secondary}
          )
        SELECT case_key, contact_key, MIN(rank) AS rank, list_sort(list_distinct(list(reason))) AS reasons,
               MIN(first) AS first_exposure, MAX(last) AS last_exposure,
               ROUND(CAST(SUM(exposure_us) AS DOUBLE) / {MICROS_PER_MINUTE}, 3) AS minutes
        FROM kept GROUP BY case_key, contact_key ORDER BY case_key, contact_key""",
        tables,
    )
    names = pa.array([str(category) for category in STRENGTH], pa.string())
    category = pc.take(names, merged["rank"])
    merged = merged.set_column(merged.schema.get_field_index("rank"), "category", category)
    return merged.cast(MERGED_SCHEMA)


_EVIDENCE = "SELECT * FROM evidence"


def _local_sql(sql: str, tables: Sequence[pa.Table]) -> pa.Table:
    """Run ``sql`` over the evidence tables (as the view ``evidence``) in a local, in-memory DuckDB:
    vectorised and parallel, whichever backend found the evidence."""
    evidence = pa.concat_tables([t.select(EVIDENCE_SCHEMA.names).cast(EVIDENCE_SCHEMA) for t in tables])
    connection = duckdb.connect()
    try:
        connection.register("evidence", evidence)
        return connection.sql(sql).to_arrow_table()
    finally:
        connection.close()


def count_bad_rows(tables: Sequence[pa.Table]) -> dict[str, int]:
    """Bad rows by kind among the rows the passes read, each row once: every copy of a bad row counts
    as its problem, every extra copy of a good row as a duplicate."""
    rows = pa.concat_tables(tables).group_by(["person_key", "venue_id", "time_in", "time_out", "problem"])
    distinct = rows.aggregate([("copies", "max")]).to_pylist()
    counts: dict[str, int] = {}
    for row in distinct:
        problem, copies = row["problem"], int(row["copies_max"])
        key, extra = ("duplicate", copies - 1) if problem is None else (str(problem), copies)
        if extra > 0:
            counts[key] = counts.get(key, 0) + extra
    return dict(sorted(counts.items()))
