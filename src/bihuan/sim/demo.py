"""The demo: a synthetic district loaded into the platform, one demo user per role, and a short drill of the
outbreak through the API on a simulated clock (sim/drill.py), so the dashboard shows days of a living outbreak."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from bihuan.config import get_settings
from bihuan.core import auth
from bihuan.core.auth_models import User
from bihuan.core.choices import Role
from bihuan.core.clock import SystemClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.people.choices import JurisdictionLevel
from bihuan.people.models import Jurisdiction
from bihuan.protocol import load_profile
from bihuan.sim.load import load_district

DEMO_PASSWORD = "bihuan-demo-2021"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    role_label: str
    jurisdiction: str


def _levels(database: Database) -> dict[JurisdictionLevel, list[Jurisdiction]]:
    with database.session() as session:
        rows = session.scalars(
            select(Jurisdiction)
            .where(Jurisdiction.level != JurisdictionLevel.BUILDING.value)
            .order_by(Jurisdiction.path)
        ).all()
    by_level: dict[JurisdictionLevel, list[Jurisdiction]] = {level: [] for level in JurisdictionLevel}
    for row in rows:
        by_level[JurisdictionLevel(row.level)].append(row)
    return by_level


def _demo_users(by_level: dict[JurisdictionLevel, list[Jurisdiction]]) -> list[tuple[str, Role, Jurisdiction]]:
    """One user per role; the city sees all, a county, two streets and a community see their own subtree."""
    city = by_level[JurisdictionLevel.CITY][0]
    county = by_level[JurisdictionLevel.COUNTY][0]
    streets = [s for s in by_level[JurisdictionLevel.STREET] if s.path.startswith(county.path)]
    community = next(c for c in by_level[JurisdictionLevel.COMMUNITY] if c.path.startswith(streets[0].path))
    return [
        ("admin", Role.ADMIN, by_level[JurisdictionLevel.PROVINCE][0]),
        ("commander", Role.COMMANDER, city),
        ("county-commander", Role.COMMANDER, county),
        ("street-commander", Role.COMMANDER, streets[0]),
        ("other-street-commander", Role.COMMANDER, streets[-1]),
        ("investigator", Role.INVESTIGATOR, county),
        ("lab", Role.LAB, city),
        ("transfer", Role.TRANSFER, city),
        ("site-manager", Role.SITE_MANAGER, county),
        ("community-worker", Role.COMMUNITY_WORKER, community),
        ("analyst", Role.ANALYST, city),
    ]


def create_demo_users(database: Database) -> list[DemoLogin]:
    logins = []
    clock = SystemClock()
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        existing = set(session.scalars(select(User.username)))
        for username, role, place in _demo_users(_levels(database)):
            if username not in existing:
                auth.create_user(
                    ctx,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    jurisdiction_id=place.id,
                    display_name=username,
                )
            logins.append(DemoLogin(username, DEMO_PASSWORD, role.value, role.label_zh, place.name))
    return logins


def _generated(directory: Path, people: int, seed: int) -> bool:
    manifest = directory / "manifest.json"
    if not manifest.exists():
        return False
    facts = json.loads(manifest.read_text())
    return bool(facts.get("people") == people and facts.get("seed") == seed)


@dataclass(frozen=True)
class Demo:
    """The demo's logins, and the simulated moment its drill ended (the served clock carries on from it)."""

    logins: list[DemoLogin]
    resumes_at: datetime | None


DEMO_DAYS = 3  # simulated days the demo's drill runs: days of epi curve, closed, open and overdue loops
DEMO_HOURS = 15  # and the next day until 15:00, so that the dashboard's today has its figures


def prepare_demo(
    database: Database,
    directory: Path,
    *,
    people: int,
    seed: int,
    console: Console,
    testing_round: bool = True,
    days: int = DEMO_DAYS,
) -> Demo:
    """Generate (once) and load (idempotently) a district, make the demo users, and run a short drill from the
    outbreak's first day (once), so the dashboard shows a living outbreak on a reproducible clock."""
    from bihuan.sim import generate_district

    if not _generated(directory, people, seed):
        console.print(f"Generating a synthetic district of {people:,} residents (seed {seed}) ...")
        generate_district(directory, people=people, seed=seed, progress=True)
    with console.status("Loading the district into the register ...") as status:
        summary = load_district(
            database, SystemClock(), directory, step=lambda what: status.update(f"Loading {what} ...")
        )
    console.print(
        f"Register: {summary.persons_created:,} persons added, {summary.persons_unchanged:,} already there, "
        f"{summary.jurisdictions:,} jurisdictions and {summary.venues:,} venues added."
    )
    logins = create_demo_users(database)
    if not testing_round:
        return Demo(logins, None)
    return Demo(logins, _demo_drill(database, directory, console, days=days, seed=seed))


def _demo_drill(database: Database, directory: Path, console: Console, *, days: int, seed: int) -> datetime:
    """The demo's drill: `days` simulated days of field work through the API; once per database."""
    from bihuan.sim._field_report import print_summary
    from bihuan.sim.drill import drill_end, has_drilled, run_drill

    settings = get_settings()
    end = drill_end(directory, database, days, settings.timezone, hours=DEMO_HOURS)
    if has_drilled(database):
        console.print(f"Drill: already run; the platform's clock carries on from {end:%Y-%m-%d %H:%M} UTC.")
        return end
    with console.status("Drill: the field teams at work ...") as status:
        summary = run_drill(
            database,
            directory,
            load_profile(settings.profile),
            days=days,
            hours=DEMO_HOURS,
            seed=seed,
            data_dir=settings.data_dir,
            timezone=settings.timezone,
            prefix="DEMO",
            progress=lambda day, hour, _hours: status.update(f"Drill: {day:%Y-%m-%d} {hour:02d}:00 ..."),
        )
    for log in summary.rounds:
        console.print(
            f"Demo round {log.code}: {log.sampled:,} sampled in {log.tubes:,} tubes, "
            f"{log.positive_pools} positive pools."
        )
    print_summary(console, summary)
    return summary.end
