"""Benchmark: a city round's lab results ingested, every positive pool's members under control.

Builds a round of N people in 10-in-1 pools (N/10 tubes, N samples; inserted set-based for setup,
not timed), then times the ingest of the round's pool results from a lab export (0.1 % positive)
through the same service function the upload page and the API use
(``screening.service.results.ingest_lab_file``): parse, check, store, match to tubes, and put
every member of each positive pool under in-place control with events and re-test tasks.

The baseline is the naive way: one ORM object per row (``session.add(LabResult(...))``) with
per-row lookups of the tube and of an earlier result, and ORM follow-up. It is timed on a
subset (default 5,000 rows) and scaled linearly to the round; the output says so.

    python benchmarks/lab_ingest.py                       # SQLite, a temporary file
    python benchmarks/lab_ingest.py --postgres            # a scratch PostgreSQL database, dropped after
    python benchmarks/lab_ingest.py --database-url postgresql://postgres@127.0.0.1:5432/bench --people 200000

Target (issue 3): under 10 s for the 1,000,000-person round on PostgreSQL on a 2-core machine.
"""

from __future__ import annotations

import os

from _environment import use_the_project_environment

use_the_project_environment()

import argparse  # noqa: E402
import csv  # noqa: E402
import io  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import Connection, make_url  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

import bihuan.models  # noqa: E402, F401  (every table)
from bihuan.core.choices import EventKind  # noqa: E402
from bihuan.core.clock import SimulatedClock  # noqa: E402
from bihuan.core.context import Ctx  # noqa: E402
from bihuan.core.db import Database  # noqa: E402
from bihuan.core.events import Event, record  # noqa: E402
from bihuan.screening.models import LabResult, Retest, Sample, Tube  # noqa: E402
from bihuan.screening.service.results import COLUMNS, ingest_lab_file  # noqa: E402

ZONE = "Asia/Shanghai"
ROUND_DAY = datetime(2021, 12, 10, 0, 0, tzinfo=UTC)  # 08:00 in Shaoxing
LAB = "绍兴市疾控中心实验室"
DISTRICTS = (("330602", "越城区"), ("330603", "柯桥区"), ("330604", "上虞区"), ("330624", "新昌县"))
PEOPLE_PER_ADDRESS = 100


# -- a scratch database --------------------------------------------------------------------------


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    import psycopg

    admin_info = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"bihuan_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_info, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_info, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- setup: a round of N people in pools, built set-based in SQL ---------------------------------


def _time_literal(database: Database, moment: datetime) -> str:
    if database.dialect == "sqlite":
        return moment.astimezone(UTC).strftime("'%Y-%m-%d %H:%M:%S.%f'")
    return f"'{moment.isoformat()}'::timestamptz"


def _series(database: Database, count: int) -> str:
    """A row source of i = 0 .. count-1 in either database."""
    if database.dialect == "postgresql":
        return f"(SELECT generate_series(0, {count - 1}) AS i) AS seq"
    recursive = f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {count - 1})"
    return f"({recursive} SELECT i FROM n) AS seq"


def _skip_foreign_key_triggers(connection: Connection) -> None:
    """Setup only: rows built consistent by construction need no per-row foreign-key checks (superuser)."""
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
    except DBAPIError:
        pass  # not a superuser: the setup is slower, nothing else changes


def build_round(database: Database, people: int, pool_size: int) -> int:
    """Jurisdictions, addresses, persons, pooled tubes and samples; returns the number of tubes."""
    tubes = -(-people // pool_size)
    addresses = -(-people // PEOPLE_PER_ADDRESS)
    now = _time_literal(database, ROUND_DAY)
    sqlite = database.dialect == "sqlite"
    mod = "%"
    concat = "||"
    pad = "printf('%07d', i)" if sqlite else "lpad(i::text, 7, '0')"
    with database.engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            if not sqlite:
                _skip_foreign_key_triggers(connection)
            connection.execute(
                text(
                    "INSERT INTO jurisdictions (id, code, name, name_en, level, parent_id, path) VALUES "
                    "(1, '33', '浙江省', 'Zhejiang', 'province', NULL, '33/'), "
                    "(2, '3306', '绍兴市', 'Shaoxing', 'city', 1, '33/3306/')"
                )
            )
            for offset, (code, name) in enumerate(DISTRICTS, start=3):
                connection.execute(
                    text(
                        "INSERT INTO jurisdictions (id, code, name, name_en, level, parent_id, path) "
                        "VALUES (:id, :code, :name, :code, 'county', 2, :path)"
                    ),
                    {"id": offset, "code": code, "name": name, "path": f"33/3306/{code}/"},
                )
            places = len(DISTRICTS)
            connection.execute(
                text(
                    "INSERT INTO addresses (id, code, jurisdiction_id, text) "
                    f"SELECT i + 1, 'A' {concat} {pad}, 3 + (i {mod} {places}), "
                    f"'幸福小区' {concat} (i + 1) {concat} '幢' "
                    f"FROM {_series(database, addresses)}"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO persons (id, nationality, name, sex, birth_date, jurisdiction_id, address_id, "
                    "created_at, updated_at) "
                    f"SELECT i + 1, 'CHN', '居民' {concat} (i + 1), CASE WHEN i {mod} 2 = 0 THEN 'F' ELSE 'M' END, "
                    f"'1980-01-01', 3 + ((i / {PEOPLE_PER_ADDRESS}) {mod} {places}), i / {PEOPLE_PER_ADDRESS} + 1, "
                    f"{now}, {now} FROM {_series(database, people)}"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO tubes (id, barcode, kind, capacity, opened_at, closed_at) "
                    f"SELECT i + 1, 'P' {concat} {pad}, 'pooled', {pool_size}, {now}, {now} "
                    f"FROM {_series(database, tubes)}"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO samples (id, person_id, tube_id, kind, sampled_at, duplicate) "
                    f"SELECT i + 1, i + 1, i / {pool_size} + 1, 'screening', {now}, false "
                    f"FROM {_series(database, people)}"
                )
            )
        if database.dialect == "postgresql":
            for table in ("jurisdictions", "addresses", "persons", "tubes", "samples"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
            connection.commit()
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return tubes


def lab_export(tubes: int, positive_every: int, run_id: str = "RUN-1", first: int = 0) -> bytes:
    """The lab's CSV for tubes first .. tubes-1: plates of 96 tested 20 seconds apart, local times."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    start = datetime(2021, 12, 10, 8, 30)  # local, naive as lab instruments write it
    for i in range(first, tubes):
        tested = (start + timedelta(seconds=20 * (i // 96))).strftime("%Y-%m-%d %H:%M:%S")
        if i % positive_every == 0:
            writer.writerow((f"P{i:07d}", "阳性", "26.31", "24.87", "", LAB, run_id, "2021-12-10 08:00", tested))
        else:
            writer.writerow((f"P{i:07d}", "阴性", "", "", "", LAB, run_id, "2021-12-10 08:00", tested))
    return out.getvalue().encode()


# -- timed runs ----------------------------------------------------------------------------------


def timed_ingest(database: Database, clock: SimulatedClock, content: bytes) -> tuple[float, int]:
    started = time.perf_counter()
    with database.session() as session:
        report = ingest_lab_file(Ctx(session, clock), "round.csv", content, timezone=ZONE)
        created = report.rows_created
    return time.perf_counter() - started, created


def naive_ingest(database: Database, clock: SimulatedClock, content: bytes) -> float:
    """The baseline: per row, look up the tube and an earlier result, then session.add(LabResult(...))."""
    zone = ZoneInfo(ZONE)
    started = time.perf_counter()
    with database.session() as session:
        ctx = Ctx(session, clock)
        for row in csv.DictReader(io.StringIO(content.decode())):
            tube = session.scalars(select(Tube).where(Tube.barcode == row["tube_barcode"])).first()
            earlier = session.scalars(
                select(LabResult).where(
                    LabResult.lab == row["lab"],
                    LabResult.tube_barcode == row["tube_barcode"],
                    LabResult.run_id == row["run_id"],
                )
            ).first()
            if earlier is not None:
                continue
            result = "positive" if row["result"] == "阳性" else "negative"
            ct = {g: float(row[c]) for c, g in (("ct_orf1ab", "orf1ab"), ("ct_n", "n")) if row[c]}
            session.add(
                LabResult(
                    lab=row["lab"],
                    tube_barcode=row["tube_barcode"],
                    run_id=row["run_id"],
                    result=result,
                    ct_values=ct,
                    received_at=datetime.fromisoformat(row["received_at"]).replace(tzinfo=zone),
                    tested_at=datetime.fromisoformat(row["tested_at"]).replace(tzinfo=zone),
                    recorded_at=clock.now(),
                    tube_id=tube.id if tube else None,
                )
            )
            session.flush()
            if tube is not None and result == "positive":
                for sample in session.scalars(select(Sample).where(Sample.tube_id == tube.id)).all():
                    done = select(Retest.id).where(
                        Retest.person_id == sample.person_id, Retest.source_tube_id == tube.id
                    )
                    if session.scalar(done) is not None:
                        continue
                    session.add(
                        Retest(
                            person_id=sample.person_id,
                            source_tube_id=tube.id,
                            jurisdiction_id=3,
                            status="open",
                            created_at=clock.now(),
                        )
                    )
                    for kind in (EventKind.POOL_POSITIVE, EventKind.CONTROLLED_IN_PLACE, EventKind.RETEST_SCHEDULED):
                        record(ctx, kind, person_id=sample.person_id, subject_type="tube", subject_id=tube.id)
    return time.perf_counter() - started


def count(database: Database, stmt: Any) -> int:
    with database.session() as session:
        return int(session.scalar(stmt) or 0)


def run(url: str, people: int, pool_size: int, positive_rate: float, naive_rows: int) -> None:
    database = Database(url)
    backend = database.dialect
    print(f"Lab results ingest benchmark — {backend}, {people:,} people in {pool_size}-in-1 pools")
    started = time.perf_counter()
    database.migrate()
    tubes = build_round(database, people, pool_size)
    setup = time.perf_counter() - started
    print(f"setup (not timed below): {people:,} persons, {tubes:,} tubes, {people:,} samples in {setup:.1f} s")

    positive_every = max(1, round(1 / positive_rate))
    content = lab_export(tubes, positive_every)
    clock = SimulatedClock(ROUND_DAY + timedelta(days=1))
    bulk, created = timed_ingest(database, clock, content)
    again, created_again = timed_ingest(database, clock, content)
    positives = -(-tubes // positive_every)
    retests = count(database, select(func.count(Retest.id)))
    controlled = count(database, select(func.count(Event.id)).where(Event.kind == EventKind.CONTROLLED_IN_PLACE))
    assert created == tubes and created_again == 0, (created, created_again)
    assert retests == controlled == positives * pool_size, (retests, controlled)

    subset = min(naive_rows, tubes)
    naive = naive_ingest(database, clock, lab_export(subset, positive_every, run_id="RUN-NAIVE"))
    naive_scaled = naive * tubes / subset
    scale = 10_000_000 / people
    projected = bulk * scale

    rows = [
        ("bulk ingest: parse, check, store, follow up", f"{tubes:,}", bulk),
        ("the same file again (nothing stored)", f"{tubes:,}", again),
        (f"naive ORM baseline, measured on {subset:,} rows", f"{subset:,}", naive),
        (f"naive ORM baseline, scaled linearly ×{tubes / subset:g}", f"{tubes:,}", naive_scaled),
    ]
    print()
    print(f"{'step':<50} {'rows':>10} {'seconds':>9} {'rows/s':>10}")
    for name, n, seconds in rows:
        per_second = int(n.replace(",", "")) / seconds if seconds else 0
        print(f"{name:<50} {n:>10} {seconds:>9.2f} {per_second:>10,.0f}")
    print()
    print(f"positive pools: {positives:,} → {controlled:,} members controlled in place, {retests:,} re-test tasks")
    print(f"ratio naive / bulk: {naive_scaled / bulk:.1f}× (naive measured on {subset:,} rows, scaled linearly)")
    print(
        f"projected 10,000,000-person round ({round(tubes * scale):,} pool results, linear in rows): {projected:.1f} s"
        f" (naive: {naive_scaled * scale / 60:.0f} min)"
    )
    if backend == "postgresql" and people == 1_000_000:
        verdict = "met" if bulk < 10 else "NOT met"
        print(f"target: under 10 s for the 1,000,000-person round on PostgreSQL — {verdict} ({bulk:.2f} s)")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--database-url", default="", help="an EMPTY database to use (default: a temporary SQLite file)"
    )
    parser.add_argument("--postgres", action="store_true", help="create and drop a scratch PostgreSQL database")
    parser.add_argument(
        "--postgres-admin-url",
        default=os.environ.get("BIHUAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="server to create the scratch database on (with --postgres)",
    )
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--positive-rate", type=float, default=0.001, help="share of positive pools")
    parser.add_argument("--naive-rows", type=int, default=5000, help="rows the naive baseline is measured on")
    args = parser.parse_args()
    if args.postgres:
        with scratch_postgres(args.postgres_admin_url) as url:
            run(url, args.people, args.pool_size, args.positive_rate, args.naive_rows)
    elif args.database_url:
        run(args.database_url, args.people, args.pool_size, args.positive_rate, args.naive_rows)
    else:
        with tempfile.TemporaryDirectory(prefix="bihuan-bench-") as folder:
            run(f"sqlite:///{folder}/bench.sqlite3", args.people, args.pool_size, args.positive_rate, args.naive_rows)


if __name__ == "__main__":
    main()
