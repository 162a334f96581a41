"""Benchmark: the command reads (指挥读) at the source outbreak's size, on PostgreSQL, through the app.

The outbreak: 650,000 people registered in 200 communities of one county, 18 million screening samples
(everyone swabbed about twice a day for two weeks, pooled by the profile's pool size for a controlled
area, one ``sampled`` event each), 500 cases found by pool positives (controlled in place, diagnosed,
confirmed, investigated, taken to hospital) and 70,000 contacts traced from them (identified, queued,
planned, dispatched, picked up, arrived, isolated, tested at the site, some released; a few stuck on
the way, so some loops are overdue). Everything is written with PostgreSQL COPY into a database of its
own (--database, created and migrated; --reuse keeps an already seeded one).

Measured, as a commander of the county, over --requests requests each (after one warm-up): p50 and p95 of
the loop's lists (open loops: first page, overdue, one stage), the stage delays, the funnel and where
cases were found (14 days), tasks, the people list, and the dashboard (GET /api/situation) when the app
has it. Baseline ("from scratch"): the read as it was before the read model — every in-loop person's
timeline replayed from the events (``loop.service.timelines`` over ``in_loop_ids``), once. Also the cold
first refresh of the read model after seeding, and one refresh after a hundred new events.

    python benchmarks/command_scale.py                     # full size (~10 min to seed)
    python benchmarks/command_scale.py --samples 2000000   # a quicker run, same loop
    python benchmarks/command_scale.py --reuse             # measure again without seeding

Targets: p95 <= 300 ms for each list, <= 1 s for the dashboard (PostgreSQL, 2 cores).
"""

from __future__ import annotations

from _environment import use_the_project_environment

use_the_project_environment()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bihuan.core import auth  # noqa: E402
from bihuan.core.auth_models import User  # noqa: E402
from bihuan.core.choices import EventKind, Role  # noqa: E402
from bihuan.core.clock import SystemClock  # noqa: E402
from bihuan.core.context import SYSTEM, Ctx  # noqa: E402
from bihuan.core.db import Database  # noqa: E402
from bihuan.core.events import make_event, record_many  # noqa: E402
from bihuan.loop import projection, service  # noqa: E402
from bihuan.loop.engine import LoopRules  # noqa: E402
from bihuan.people.models import Person  # noqa: E402
from bihuan.protocol import AreaKind, load_profile  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PROFILE = load_profile("cn-8th-2021")
PASSWORD = "bench-password-1"
LIST_TARGET, DASHBOARD_TARGET = 0.3, 1.0
DAYS = 14
STREETS, COMMUNITIES_PER_STREET = 20, 10
CHUNK = 200_000
SAMPLE_COLUMNS = "id, person_id, tube_id, campaign_id, site_id, kind, sampled_at, duplicate, retest_id"
EVENT_COLUMNS = (
    "id, occurred_at, recorded_at, kind, person_id, jurisdiction_id, subject_type, subject_id, refs,"
    " actor_id, actor_name, payload"
)


NULL = "\\N"


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S.%f+00")


# -- seeding -------------------------------------------------------------------------------------------


@dataclass
class Layout:
    """What the seed made: the ids the loop's events refer to."""

    persons: int
    rounds: list[tuple[int, datetime, int, int]]  # (people swabbed, round start, first tube id, campaign id)
    pool: int
    community_of: np.ndarray  # person id -> jurisdiction id
    county: int
    now: datetime


def _copy(conn: psycopg.Connection[Any], table: str, columns: str, lines: Iterator[str]) -> int:
    n = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= CHUNK:
                copy.write("".join(buffer))
                n += len(buffer)
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
            n += len(buffer)
    return n


def _jurisdictions(conn: psycopg.Connection[Any]) -> tuple[int, list[int]]:
    rows = [(1, "33", "浙江省", "province", None, "33/"), (2, "3306", "绍兴市", "city", 1, "33/3306/")]
    rows.append((3, "330604", "上虞区", "county", 2, "33/3306/330604/"))
    communities: list[int] = []
    next_id = 4
    for s in range(STREETS):
        street, code = next_id, f"330604{s + 1:03d}"
        rows.append((street, code, f"街道{s + 1}", "street", 3, f"33/3306/330604/{code}/"))
        next_id += 1
        for c in range(COMMUNITIES_PER_STREET):
            sub = f"{code}{c + 1:03d}"
            rows.append((next_id, sub, f"社区{s + 1}-{c + 1}", "community", street, f"33/3306/330604/{code}/{sub}/"))
            communities.append(next_id)
            next_id += 1
    lines = (
        f"{i}\t{code}\t{name}\t\t{level}\t{parent or NULL}\t{path}\t\\N\t\\N\n"
        for i, code, name, level, parent, path in rows
    )
    _copy(conn, "jurisdictions", "id, code, name, name_en, level, parent_id, path, lat, lon", lines)
    return 3, communities


def _persons(conn: psycopg.Connection[Any], n: int, communities: list[int], now: datetime) -> np.ndarray:
    rng = np.random.default_rng(1)
    community_of = np.zeros(n + 1, dtype=np.int64)
    community_of[1:] = rng.choice(np.asarray(communities), size=n)
    stamp = _ts(now - timedelta(days=30))

    def lines() -> Iterator[str]:
        for pid in range(1, n + 1):
            sex = "M" if pid % 2 else "F"
            born = f"{1940 + pid % 70}-{1 + pid % 12:02d}-{1 + pid % 28:02d}"
            yield (
                f"{pid}\t3306{pid:014d}\t\\N\tCHN\t居民{pid}\t{sex}\t{born}\t\\N\t\\N\t\\N\t"
                f"{community_of[pid]}\t{stamp}\t{stamp}\n"
            )

    columns = (
        "id, resident_id, passport_no, nationality, name, sex, birth_date, phone, household_id, address_id,"
        " jurisdiction_id, created_at, updated_at"
    )
    _copy(conn, "persons", columns, lines())
    return community_of


def _screening(conn: psycopg.Connection[Any], events: psycopg.Connection[Any], layout: Layout, samples: int) -> int:
    """Rounds of everyone swabbed (the last round partial), pooled in tubes; one sample and one event each."""
    n, start = layout.persons, layout.now - timedelta(days=DAYS)
    rounds = math.ceil(samples / n)
    every = timedelta(days=DAYS) / max(rounds, 1)
    pool, tube_id = layout.pool, 1
    campaigns, tubes = [], []
    for r in range(rounds):
        size = min(n, samples - r * n)
        began = start + every * r
        deadline, closed = _ts(began + timedelta(hours=8)), _ts(began + timedelta(hours=9))
        campaigns.append(
            f"{r + 1}\tR{r + 1:03d}\t第{r + 1}轮\tclosed\t{_ts(began)}\t{deadline}\t{closed}\t{_ts(began)}\n"
        )
        layout.rounds.append((size, began, tube_id, r + 1))
        tubes.append((r + 1, tube_id, math.ceil(size / pool), began))
        tube_id += math.ceil(size / pool)
    _copy(conn, "campaigns", "id, code, name, status, starts_at, deadline_at, closed_at, created_at", iter(campaigns))

    def tube_lines() -> Iterator[str]:
        for campaign, first, count, began in tubes:
            opened, closed = _ts(began), _ts(began + timedelta(hours=8))
            for t in range(first, first + count):
                yield f"{t}\tT{t:011d}\tpooled\t{pool}\t{campaign}\t\\N\t{opened}\t{closed}\n"

    _copy(conn, "tubes", "id, barcode, kind, capacity, campaign_id, site_id, opened_at, closed_at", tube_lines())
    with (
        conn.cursor() as cs,
        events.cursor() as ce,
        cs.copy(f"COPY samples ({SAMPLE_COLUMNS}) FROM STDIN") as copy_s,
        ce.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as copy_e,
    ):
        return _swabs(copy_s, copy_e, layout)


def _swabs(copy_s: psycopg.Copy, copy_e: psycopg.Copy, layout: Layout) -> int:
    """Every round's samples and their ``sampled`` events, written as COPY text a chunk at a time."""
    community, pool, sample_id = layout.community_of.tolist(), layout.pool, 1
    for size, began, first_tube, campaign in layout.rounds:
        minutes = [_ts(began + timedelta(minutes=m)) for m in range(481)]
        for lo in range(0, size, CHUNK):
            rows_s, rows_e = [], []
            for i in range(lo, min(size, lo + CHUNK)):
                pid, tube, at, fill = i + 1, first_tube + i // pool, minutes[(i * 480) // size], i % pool + 1
                rows_s.append(f"{sample_id}\t{pid}\t{tube}\t{campaign}\t\\N\tscreening\t{at}\tf\t\\N\n")
                rows_e.append(
                    f"{sample_id}\t{at}\t{at}\tsampled\t{pid}\t{community[pid]}\ttube\t{tube}\t"
                    f'{{"campaign_id": {campaign}, "sample_id": {sample_id}}}\t\\N\tbench\t'
                    f'{{"tube_kind": "pooled", "fill": {fill}}}\n'
                )
                sample_id += 1
            copy_s.write("".join(rows_s))
            copy_e.write("".join(rows_e))
    return sample_id - 1


@dataclass
class LoopEvents:
    rows: list[str]
    cases: list[str]
    next_id: int

    def add(self, at: datetime, now: datetime, kind: EventKind, person: int, place: int, **facts: Any) -> bool:
        if at >= now:
            return False
        refs, payload = json.dumps(facts.get("refs", {})), json.dumps(facts.get("payload", {}))
        subject_type, subject_id = facts.get("subject_type") or "\\N", facts.get("subject_id")
        self.rows.append(
            f"{self.next_id}\t{_ts(at)}\t{_ts(at)}\t{kind.value}\t{person}\t{place}\t{subject_type}\t"
            f"{NULL if subject_id is None else subject_id}\t{refs}\t\\N\tbench\t{payload}\n"
        )
        self.next_id += 1
        return True


def _loop(layout: Layout, first_event: int, n_cases: int, n_contacts: int) -> LoopEvents:
    """The cases (found by a pool positive, confirmed, sent to hospital) and their contacts' journeys."""
    rng = np.random.default_rng(7)
    now, out = layout.now, LoopEvents([], [], first_event)
    chosen = rng.choice(np.arange(1, layout.persons + 1), size=n_cases + n_contacts, replace=False)
    cases, contacts = chosen[:n_cases], chosen[n_cases:]
    swabbed = [r for r in layout.rounds if r[0] == layout.persons and r[1] + timedelta(hours=24) < now]
    swabbed = swabbed or layout.rounds[:1]
    confirmed: list[datetime] = []
    for k, pid in enumerate(cases.tolist(), start=1):
        place = int(layout.community_of[pid])
        later = min(int(len(swabbed) * math.sqrt(rng.random())), len(swabbed) - 1)  # more cases as it grows
        _, began, first_tube, _ = swabbed[later]
        found = began + timedelta(hours=10 + 2 * rng.random())
        tube = first_tube + (pid - 1) // layout.pool
        at = found + timedelta(hours=8)
        confirmed.append(at)
        out.cases.append(f"{k}\t{pid}\tconfirmed\t\\N\t{_ts(at)}\t{began.date()}\t{began.date()}\t{place}\n")
        steps: list[tuple[float, EventKind, dict[str, Any]]] = [
            (0, EventKind.POOL_POSITIVE, {"subject_type": "tube", "subject_id": tube}),
            (1, EventKind.CONTROLLED_IN_PLACE, {}),
            (
                5,
                EventKind.TEST_RESULTED,
                {
                    "subject_type": "tube",
                    "subject_id": 10**9 + k,
                    "refs": {"retest": k},
                    "payload": {"result": "positive"},
                },
            ),
            (5, EventKind.CONFIRMATION_OPENED, {}),
            (8, EventKind.CASE_CONFIRMED, {"subject_type": "case", "subject_id": k}),
            (8.5, EventKind.INVESTIGATION_OPENED, {"subject_type": "case", "subject_id": k}),
            (8.6, EventKind.TRANSFER_QUEUED, {}),
            (9.5, EventKind.BATCH_PLANNED, {}),
            (10, EventKind.DISPATCHED, {}),
            (10.5, EventKind.PICKED_UP, {}),
            (11.5, EventKind.ARRIVED, {}),
            (12, EventKind.ISOLATION_STARTED, {"payload": {"category": "confirmed"}}),
            (30, EventKind.INVESTIGATION_CLOSED, {"subject_type": "case", "subject_id": k}),
        ]
        for hours, kind, facts in steps:
            out.add(found + timedelta(hours=hours), now, kind, pid, place, **facts)
    site_tube = 2 * 10**9
    for i, pid in enumerate(contacts.tolist()):
        place, k = int(layout.community_of[pid]), i % n_cases + 1
        case_at = confirmed[k - 1]
        at = min(case_at + timedelta(hours=1 + 11 * rng.random()), now - timedelta(hours=0.5 + 2 * rng.random()))
        category = "close_contact" if rng.random() < 0.6 else "secondary_contact"
        out.add(
            at,
            now,
            EventKind.CONTACT_IDENTIFIED,
            pid,
            place,
            subject_type="contact",
            subject_id=pid,
            refs={"case": k},
            payload={"category": category},
        )
        stuck = rng.random()
        journey = [
            (0.2, EventKind.TRANSFER_QUEUED, {}, 0.06),
            (1 + 3 * rng.random(), EventKind.BATCH_PLANNED, {}, 0.03),
            (0.5 + 1.5 * rng.random(), EventKind.DISPATCHED, {}, 0.02),
            (0.3 + 0.7 * rng.random(), EventKind.PICKED_UP, {}, 0.0),
            (1 + 2 * rng.random(), EventKind.ARRIVED, {}, 0.02),
            (0.1 + 0.7 * rng.random(), EventKind.ISOLATION_STARTED, {"payload": {"category": category}}, 0.0),
        ]
        gone = True
        for hours, kind, facts, share in journey:
            at += timedelta(hours=hours)
            gone = out.add(at, now, kind, pid, place, **facts)
            stuck -= share
            if not gone or stuck < 0:
                gone = False
                break
        if not gone:
            continue
        isolated = at
        for day in (1, 4, 7, 10, 13):
            site_tube += 1
            tested = isolated + timedelta(days=day)
            out.add(tested, now, EventKind.SITE_TEST_SAMPLED, pid, place, refs={"tubes": [site_tube]})
            out.add(
                tested + timedelta(hours=8),
                now,
                EventKind.SITE_TEST_RESULTED,
                pid,
                place,
                subject_type="tube",
                subject_id=site_tube,
                payload={"result": "negative"},
            )
        released = isolated + timedelta(days=10 + 4 * rng.random())
        home = rng.random() < 0.5
        if out.add(released, now, EventKind.RELEASED, pid, place, payload={"home_phase": home}) and home:
            out.add(released + timedelta(days=7), now, EventKind.HOME_MONITORING_ENDED, pid, place)
    return out


def _secondary_indexes(conn: psycopg.Connection[Any], tables: list[str]) -> list[str]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT LIKE 'pk_%%'"
        " AND indexname NOT LIKE 'uq_%%'",
        (tables,),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def seed(url: str, persons: int, samples: int, n_cases: int, n_contacts: int) -> Layout:
    """A fresh database at the given size, written with COPY (foreign-key triggers off, indexes after)."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    pool = PROFILE.screening.pool_size[AreaKind.CONTROLLED]
    began = time.perf_counter()
    with psycopg.connect(conninfo) as conn, psycopg.connect(conninfo) as events:
        for c in (conn, events):
            c.execute("SET session_replication_role = replica")
            c.execute("SET maintenance_work_mem = '1GB'")
        indexes = _secondary_indexes(conn, ["events", "samples", "tubes"])
        conn.commit()
        county, communities = _jurisdictions(conn)
        community_of = _persons(conn, persons, communities, now)
        layout = Layout(persons, [], pool, community_of, county, now)
        print(f"  {persons:,} people in {len(communities)} communities: {time.perf_counter() - began:.0f} s")
        written = _screening(conn, events, layout, samples)
        conn.commit()
        events.commit()
        rounds = len(layout.rounds)
        print(
            f"  {written:,} samples and events ({rounds} rounds, {pool} per tube): {time.perf_counter() - began:.0f} s"
        )
        loop = _loop(layout, written + 1, n_cases, n_contacts)
        _copy(events, "events", EVENT_COLUMNS, iter(loop.rows))
        columns = (
            "id, person_id, classification, confirmation_id, confirmed_at, first_positive_sampling_date,"
            " onset_date, jurisdiction_id"
        )
        _copy(conn, "cases", columns, iter(loop.cases))
        events.commit()
        conn.commit()
        made = f"{len(loop.rows):,} loop events of {n_cases} cases and {n_contacts:,} contacts"
        print(f"  {made}: {time.perf_counter() - began:.0f} s")
        for definition in indexes:
            conn.execute(definition)
        for table in ("jurisdictions", "persons", "campaigns", "tubes", "samples", "events", "cases"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        print(f"  indexes and statistics: {time.perf_counter() - began:.0f} s")
    return layout


def lab_results(url: str) -> int:
    """The labs' results for every tube closed more than 8 hours before the seed's end (negative, but the
    case tubes' positive), written by the server itself, when the database has none yet."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn:
        if conn.execute("SELECT 1 FROM lab_results LIMIT 1").fetchone() is not None:
            return 0
        end = conn.execute("SELECT max(occurred_at) FROM events WHERE kind = 'sampled'").fetchone()
        written = conn.execute(
            """
            INSERT INTO lab_results (lab, tube_barcode, run_id, result, ct_values, received_at, tested_at,
                                     recorded_at, tube_id, upload_id)
            SELECT 'bench-lab', t.barcode, 'R' || t.campaign_id,
                   CASE WHEN p.subject_id IS NULL THEN 'negative' ELSE 'positive' END, '{}',
                   t.closed_at + interval '2 hours', t.closed_at + interval '6 hours',
                   t.closed_at + interval '6 hours', t.id, NULL
            FROM tubes t
            LEFT JOIN (SELECT DISTINCT subject_id FROM events WHERE kind = 'pool_positive') p ON p.subject_id = t.id
            WHERE t.closed_at < %s - interval '8 hours'
            """,
            (end[0] if end else datetime.now(UTC),),
        ).rowcount
        conn.execute(  # as the server keeps it on storing a valid result (screening.engine.mark_resulted)
            "UPDATE tubes t SET resulted_at = r.tested_at FROM lab_results r WHERE r.tube_id = t.id"
        )
        conn.execute("ANALYZE lab_results")
        conn.execute("ANALYZE tubes")
    return written


# -- measuring -----------------------------------------------------------------------------------------


def _fresh_database(name: str, reuse: bool) -> tuple[str, bool]:
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(SERVER, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if exists and reuse:
            with psycopg.connect(make_url(url).render_as_string(hide_password=False)) as conn:
                row = conn.execute("SELECT count(*) FROM persons").fetchone()
            if row and row[0]:
                return url, True
        if exists:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return url, False


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


@contextmanager
def _ctx(database: Database) -> Iterator[Ctx]:
    with database.session() as session:
        yield Ctx(session=session, clock=SystemClock(), actor=SYSTEM)


def _baseline(database: Database) -> tuple[float, int]:
    """The old way: every in-loop person's timeline replayed from the events, once."""
    with _ctx(database) as ctx:
        seconds, found = _timed(
            lambda: service.timelines(ctx, LoopRules.of(PROFILE), service.in_loop_ids(ctx), ctx.clock.now())
        )
    return seconds, sum(1 for t in found.values() if t.in_loop)


def _commander(database: Database, county: int) -> None:
    with _ctx(database) as ctx:
        if ctx.session.scalar(select(User.id).where(User.username == "bench-commander")) is None:
            auth.create_user(
                ctx, username="bench-commander", password=PASSWORD, role=Role.COMMANDER, jurisdiction_id=county
            )


def _new_events(database: Database, n: int) -> None:
    """A hundred contacts traced now: what a refresh after a tracing run catches up on."""
    with _ctx(database) as ctx:
        people = list(ctx.session.scalars(select(Person.id).order_by(Person.id.desc()).limit(n)))
        record_many(
            ctx,
            [
                make_event(
                    ctx,
                    EventKind.CONTACT_IDENTIFIED,
                    person_id=p,
                    subject_type="contact",
                    subject_id=p,
                    refs={"case": 1},
                    payload={"category": "close_contact"},
                )
                for p in people
            ],
        )


def measure(url: str, county: int, requests: int) -> None:
    from fastapi.testclient import TestClient

    from bihuan.app import create_app
    from bihuan.config import Settings

    database = Database(url)
    _commander(database, county)
    with _ctx(database) as ctx:
        cold, mark = _timed(lambda: projection.refresh(ctx, PROFILE))
    print(
        f"cold first refresh (read model built from the log): {cold:.1f} s (bookmark at event {mark.last_event_id:,})"
    )
    baseline, in_loop = _baseline(database)
    print(f"from-scratch baseline: every timeline replayed ({in_loop:,} people in the loop): {baseline:.2f} s per read")
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    window = {"since": str(today - timedelta(days=DAYS)), "until": str(today)}
    reads: list[tuple[str, str, dict[str, str], float, bool]] = [
        ("open loops, first page", "/api/loop/open", {}, LIST_TARGET, True),
        ("open loops, overdue", "/api/loop/open", {"overdue": "true"}, LIST_TARGET, True),
        ("open loops, stuck queued", "/api/loop/open", {"stage": "queued"}, LIST_TARGET, True),
        ("stage delays, 24 h", "/api/loop/delays", {}, LIST_TARGET, True),
        ("funnel, 14 days", "/api/loop/funnel", window, LIST_TARGET, True),
        ("found in quarantine, 14 days", "/api/loop/found-in-quarantine", window, LIST_TARGET, True),
        ("tasks", "/api/tasks", {}, LIST_TARGET, False),
        ("people, a list", "/api/persons", {"q": "居民12"}, LIST_TARGET, False),
        ("dashboard", "/api/situation", {}, DASHBOARD_TARGET, False),
    ]
    with (
        tempfile.TemporaryDirectory() as data,
        TestClient(create_app(Settings(data_dir=Path(data), database_url=url), database=database)) as client,
    ):
        token = client.post("/api/auth/login", json={"username": "bench-commander", "password": PASSWORD}).json()[
            "token"
        ]
        headers = {"Authorization": f"Bearer {token}"}
        print(f"\n{'read':32} {'p50':>8} {'p95':>8}  target  p95/target        vs from-scratch")
        for label, path, params, target, loop_read in reads:
            first = client.get(path, params=params, headers=headers)
            if first.status_code != 200:
                name = "dashboard" if path == "/api/situation" else label
                print(f"{name}: not available (HTTP {first.status_code})")
                continue
            times = []
            for _ in range(requests):
                began = time.perf_counter()
                response = client.get(path, params=params, headers=headers)
                times.append(time.perf_counter() - began)
                assert response.status_code == 200, response.text
            p50, p95 = statistics.median(times), float(np.percentile(times, 95))
            verdict = "met" if p95 <= target else "NOT met"
            versus = f"{baseline / p95:7.0f}x faster" if loop_read else ""
            figures = f"{p50 * 1000:6.0f}ms {p95 * 1000:6.0f}ms  {target * 1000:4.0f}ms  {p95 / target:5.2f}"
            print(f"{label:32} {figures} {verdict:8} {versus}")
        _new_events(database, 100)
        seconds, response = _timed(lambda: client.get("/api/loop/open", headers=headers))
        print(f"\nopen loops right after 100 new contacts traced (refresh inside): {seconds * 1000:.0f} ms")
        print(f"  entered now {response.json()['entered']:,}")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=650_000)
    parser.add_argument("--samples", type=int, default=18_000_000)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--contacts", type=int, default=70_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database", default="bihuan_bench_command")
    parser.add_argument("--reuse", action="store_true", help="measure an already seeded database again")
    args = parser.parse_args()
    size = f"{args.persons:,} people, {args.samples:,} samples, {args.cases} cases, {args.contacts:,} contacts"
    print(f"Command reads at scale — {size}")
    url, reused = _fresh_database(args.database, args.reuse)
    Database(url).migrate()  # a database seeded by an older version is brought up to date
    if reused:
        print(f"reusing database {args.database}")
    else:
        print(f"seeding database {args.database} ...")
        seed(url, args.persons, args.samples, args.cases, args.contacts)
    began = time.perf_counter()
    if written := lab_results(url):
        print(f"  {written:,} lab results of the tubes: {time.perf_counter() - began:.0f} s")
    measure(url, 3, args.requests)


if __name__ == "__main__":
    main()
