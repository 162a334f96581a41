"""The drill (演练): the synthetic outbreak run through the platform day by day on a simulated clock.

``sim/`` plays the field teams through the HTTP API — sampling, the lab's uploads, re-tests,
confirmations, investigations, transfer plans, dispatch, pickups, arrivals, the sites' rounds, tests
and releases — with response times drawn against the profile's loop targets, so the dashboard shows a
living outbreak with closed loops, open ones and overdue ones. The ground truth decides who is positive
and is set against what tracing found. Deterministic from the seed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from rich.console import Console

from bihuan.config import Settings
from bihuan.core.clock import SimulatedClock, SystemClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile
from bihuan.screening.service import campaigns
from bihuan.sim._field_api import Field
from bihuan.sim._field_pace import Agenda, Pace
from bihuan.sim._field_setup import fever_clinic, jurisdiction_ids, register_resources
from bihuan.sim._field_summary import DrillSummary, summarise
from bihuan.sim._field_teams import Teams
from bihuan.sim._field_world import World
from bihuan.sim._random import stream
from bihuan.sim.contact_logs import load_contact_logs
from bihuan.sim.demo import DEMO_PASSWORD, create_demo_users
from bihuan.tracing.sources import ScanStore

Progress = Callable[[date, int, int], None]  # (day, hour done, hours in the day)
ROUND_PEOPLE = 600  # residents the sampling teams can pool in a day at the drill's default size


def drill_start(directory: Path, database: Database, zone: ZoneInfo) -> date:
    """The outbreak's first day as the platform sees it: the first case comes forward."""
    return World(directory, database, zone).outbreak_shows()


LEAD_DAYS = 8  # generated days before the drill's own: the outbreak's first week, the scans tracing looks back on


def prepare_district(directory: Path, *, people: int, seed: int, days: int, console: Console) -> Path:
    """The drill's district, generated once per size and seed (long enough for `days` after the outbreak shows)."""
    from bihuan.sim import generate_district

    length = max(14, LEAD_DAYS + days)
    manifest = directory / "manifest.json"
    facts = json.loads(manifest.read_text()) if manifest.exists() else {}
    if (facts.get("people"), facts.get("seed"), facts.get("days")) != (people, seed, length):
        console.print(f"Generating a synthetic district of {people:,} residents over {length} days (seed {seed}) ...")
        generate_district(directory, people=people, seed=seed, days=length, progress=True)
    return directory


def has_drilled(database: Database) -> bool:
    """Whether the platform already ran testing rounds (a drill or a demo ran on this database)."""
    with database.session() as session:
        ctx = Ctx(session=session, clock=SystemClock(), actor=SYSTEM)
        return bool(campaigns.list_campaigns(ctx, Page(page=1, page_size=1))[1])


def drill_end(
    directory: Path, database: Database, days: int, timezone: str = "Asia/Shanghai", hours: int = 0
) -> datetime:
    """When a drill of `days` (and `hours` of the next) from the outbreak's first day ends (a demo's served
    clock carries on from it)."""
    zone = ZoneInfo(timezone)
    return _ends_at(drill_start(directory, database, zone), days, hours, zone)


def days_worked(days: int, hours: int) -> int:
    """The calendar days a drill of `days`, and `hours` of the day after, works on."""
    return days + (1 if hours else 0)


def _ends_at(first: date, days: int, hours: int, zone: ZoneInfo) -> datetime:
    return local_midnight(first + timedelta(days=days), zone) + timedelta(hours=hours)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def run_drill(
    database: Database,
    directory: Path,
    profile: ProtocolProfile,
    *,
    days: int,
    hours: int = 0,
    start: date | None = None,
    seed: int = 1,
    progress: Progress | None = None,
    data_dir: Path | None = None,
    timezone: str = "Asia/Shanghai",
    round_people: int = ROUND_PEOPLE,
    prefix: str = "DRILL",
) -> DrillSummary:
    """Run `days` simulated days from `start` (default: the day the first case comes forward), and the
    first `hours` of the day after (a demo stops in the afternoon, so that its today has figures), over
    a district already loaded into `database`; the platform's files (scan store) go under `data_dir`."""
    if days < 1:
        raise ValueError("days: a drill runs at least one day")
    if not 0 <= hours < 24:
        raise ValueError("hours: the hours of the day after the drill's days, from 0 to 23")
    zone = ZoneInfo(timezone)
    if has_drilled(database):
        raise ValueError("database: it already holds testing rounds (a drill ran on it); drill on a fresh database")
    world = World(directory, database, zone)
    first = start or world.outbreak_shows()
    last = first + timedelta(days=days_worked(days, hours) - 1)  # the last day worked on, whole or not
    begin, end = local_midnight(first, zone), _ends_at(first, days, hours, zone)
    data_dir = data_dir or directory / "platform"
    store = ScanStore.under(data_dir)
    shutil.rmtree(store.scans, ignore_errors=True)
    load_contact_logs(database, directory, store, timezone=timezone)
    create_demo_users(database)
    clock = SimulatedClock(begin - timedelta(hours=1))
    settings = Settings(data_dir=data_dir, database_url=database.url, timezone=timezone)
    from bihuan.app import create_app

    with TestClient(create_app(settings, database=database, clock=clock, profile=profile)) as client:
        api = Field(client, DEMO_PASSWORD)
        population = len(world.residents)
        register_resources(api, profile, population)
        [county] = jurisdiction_ids(api, "county").values()
        fever = fever_clinic(api, county, begin, days)
        teams = Teams(
            api,
            world,
            Agenda(clock),
            Pace(profile, stream(seed, "drill.pace")),
            profile,
            fever=fever,
            county=county,
            buildings=jurisdiction_ids(api, "building"),
            round_people=round_people,
            prefix=prefix,
        )
        _run_days(teams, first, days, hours, zone, progress)
        return summarise(api, world, teams.book, begin, end, first, last)


def _run_days(teams: Teams, first: date, days: int, hours: int, zone: ZoneInfo, progress: Progress | None) -> None:
    agenda = teams.agenda
    for offset in range(days_worked(days, hours)):
        day = first + timedelta(days=offset)
        teams.plan_day(day)
        midnight = local_midnight(day, zone)
        length = 24 if offset < days else hours
        for hour in range(length):
            agenda.run_until(midnight + timedelta(hours=hour + 1))
            teams.hourly(hour + 1)
            if progress is not None:
                progress(day, hour + 1, length)


__all__ = ["DrillSummary", "days_worked", "drill_end", "drill_start", "has_drilled", "run_drill"]
