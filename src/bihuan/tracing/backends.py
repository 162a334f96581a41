"""Query backends for the contact engine: one SQL definition, run by DuckDB (embedded) or Apache Spark.

The engine's queries are written once, in the SQL that both DuckDB and Spark SQL accept; a backend
only knows how to expose Parquet files and Arrow tables as named views and how to run a query.
"""

from __future__ import annotations

from typing import Protocol

import duckdb
import pyarrow as pa

DUCKDB_SHIMS = ("CREATE OR REPLACE MACRO unix_micros(ts) AS epoch_us(ts)",)
"""Spark SQL built-ins the engine's SQL uses, defined in DuckDB under the same names."""


class QueryBackend(Protocol):
    """Where the contact engine's SQL runs."""

    name: str

    def register_parquet(self, view: str, paths: str | list[str], *, hive_partitioning: bool = False) -> None:
        """Expose Parquet files (a path, a glob or a list) as a view."""
        ...

    def register_arrow(self, view: str, table: pa.Table) -> None:
        """Expose an in-memory Arrow table as a view."""
        ...

    def query(self, sql: str) -> pa.Table:
        """Run one SELECT and return its rows."""
        ...

    def materialize(self, view: str, sql: str) -> None:
        """Run one SELECT once and keep its rows as a view, for the queries that read them next."""
        ...

    def close(self) -> None: ...


class DuckDBBackend:
    """DuckDB in this process: the default, embedded backend."""

    name = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self._connection = duckdb.connect()
        if threads:
            self._connection.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self._connection.execute("SET memory_limit = ?", [memory_limit])
        self._connection.execute("SET enable_progress_bar = false")
        for statement in DUCKDB_SHIMS:
            self._connection.execute(statement)

    def register_parquet(self, view: str, paths: str | list[str], *, hive_partitioning: bool = False) -> None:
        listed = paths if isinstance(paths, list) else [paths]
        source = ", ".join("'" + p.replace("'", "''") + "'" for p in listed)
        hive = "true" if hive_partitioning else "false"
        self._connection.execute(
            f'CREATE OR REPLACE VIEW "{view}" AS SELECT * FROM read_parquet([{source}], hive_partitioning = {hive})'
        )

    def register_arrow(self, view: str, table: pa.Table) -> None:
        self._connection.register(view, table)

    def query(self, sql: str) -> pa.Table:
        return self._connection.sql(sql).to_arrow_table()

    def materialize(self, view: str, sql: str) -> None:
        self._connection.execute(f'CREATE OR REPLACE TEMP TABLE "{view}" AS {sql}')

    def close(self) -> None:
        self._connection.close()
