"""Apache Spark backend for the contact engine: the same SQL as DuckDB, run by Spark SQL through PySpark.

Local mode (``local[2]``) in tests and on one machine; a cluster when ``master`` names one. The
application's setting ``BIHUAN_SPARK_MASTER`` is what feeds ``master``. PySpark is imported only
when a backend is built, so the rest of Bihuan works without it (install the ``spark`` extra).

Results come back as Arrow tables shaped like DuckDB's: every column nullable and timestamps as
naive ``timestamp[us]`` (the session runs in UTC, and ``TIMESTAMP`` means ``TIMESTAMP_NTZ`` as in
DuckDB), so the two backends' rows compare equal.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"

# Settings for a small, quiet, offline session; a caller's ``config`` overrides any of them.
LOCAL_SETTINGS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.memory": "1g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}

_PARTITION_SEGMENT = re.compile(r"^[^=/*?\[]+=[^/]*$")
_GLOB = re.compile(r"[*?\[{]")


class SparkUnavailableError(RuntimeError):
    """PySpark or a Java runtime is missing, so a Spark backend cannot start."""


def spark_available() -> str | None:
    """None when a Spark backend can start here, else the reason it cannot."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'bihuan[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return None
    from shutil import which

    return None if which("java") else "no Java runtime (java on PATH or JAVA_HOME)"


def build_session(master: str = DEFAULT_MASTER, config: dict[str, str] | None = None) -> SparkSession:
    """Start (or join) the SparkSession for ``master`` with Bihuan's local settings."""
    reason = spark_available()
    if reason:
        raise SparkUnavailableError(reason)
    from pyspark.sql import SparkSession

    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no network interface for a local run
    builder = SparkSession.builder.master(master).appName("bihuan-tracing")
    for key, value in {**LOCAL_SETTINGS, **(config or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkBackend:
    """Spark SQL through PySpark: local mode by default, a cluster when ``master`` names one."""

    name = "spark"

    def __init__(
        self,
        master: str = DEFAULT_MASTER,
        *,
        session: SparkSession | None = None,
        config: dict[str, str] | None = None,
    ) -> None:
        if session is None:
            session, created = _joined_or_new(master, config)
        else:
            created = False
        self._session = session
        self._owns_session = created  # close() stops only a session this backend started
        self._views: list[str] = []
        self._kept: dict[str, Any] = {}  # materialised views: their cached frames, released on close

    @property
    def session(self) -> SparkSession:
        return self._session

    def register_parquet(self, view: str, paths: str | list[str], *, hive_partitioning: bool = False) -> None:
        listed = paths if isinstance(paths, list) else [paths]
        reader = self._session.read
        base = _partition_base(listed) if hive_partitioning else None
        if base is not None:
            reader = reader.option("basePath", base)
        elif not hive_partitioning:
            reader = reader.option("recursiveFileLookup", "true")  # no key=value columns, as DuckDB
        self._publish(view, reader.parquet(*listed))

    def register_arrow(self, view: str, table: pa.Table) -> None:
        self._publish(view, self._session.createDataFrame(table))

    def query(self, sql: str) -> pa.Table:
        return _like_duckdb(self._session.sql(sql).toArrow())

    def materialize(self, view: str, sql: str) -> None:
        frame = self._session.sql(sql).persist()
        frame.count()  # compute it now, once
        self._publish(view, frame)
        previous = self._kept.pop(view, None)
        if previous is not None:
            previous.unpersist()
        self._kept[view] = frame

    def close(self) -> None:
        for view in self._views:
            self._session.catalog.dropTempView(view)
        self._views.clear()
        for frame in self._kept.values():
            frame.unpersist()
        self._kept.clear()
        if self._owns_session:
            self._session.stop()

    def _publish(self, view: str, frame: Any) -> None:
        frame.createOrReplaceTempView(view)
        if view not in self._views:
            self._views.append(view)


def _joined_or_new(master: str, config: dict[str, str] | None) -> tuple[SparkSession, bool]:
    """The session already running in this process (settings untouched), or a new one."""
    if spark_available() is None:
        from pyspark.sql import SparkSession

        running = SparkSession.getActiveSession()
        if running is not None:
            return running, False
    return build_session(master, config), True


def _partition_base(paths: list[str]) -> str | None:
    """Spark's basePath: the directory above the first ``key=value`` or glob segment, shared by every path."""
    bases = set()
    for path in paths:
        parts = path.split("/")
        index = next((i for i, part in enumerate(parts) if _PARTITION_SEGMENT.match(part) or _GLOB.search(part)), None)
        if index is None:
            return None
        bases.add("/".join(parts[:index]) or "/")
    if len(bases) != 1:
        raise ValueError(f"hive-partitioned paths must share one base directory, got {sorted(bases)}")
    return bases.pop()


def _like_duckdb(table: pa.Table) -> pa.Table:
    """Drop Spark's NOT NULL marks and read zoned timestamps as naive UTC, as DuckDB returns them."""
    fields = [pa.field(f.name, _naive(f.type), nullable=True) for f in table.schema]
    return table.cast(pa.schema(fields))


def _naive(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(kind):
        return pa.timestamp("us")
    if pa.types.is_list(kind):
        return pa.list_(pa.field("element", _naive(kind.value_type), nullable=True))
    return kind


__all__ = [
    "DEFAULT_MASTER",
    "LOCAL_SETTINGS",
    "SparkBackend",
    "SparkUnavailableError",
    "build_session",
    "spark_available",
]
