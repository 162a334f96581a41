"""The demo: a synthetic district loaded into the platform, with one demo user per role."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
from bihuan.sim.contact_logs import load_contact_logs
from bihuan.sim.isolation_day import first_hours_at_sites
from bihuan.sim.load import load_district
from bihuan.sim.testing_round import run_demo_round
from bihuan.sim.transfer_fleet import prepare_transfer
from bihuan.tracing.service.contacts import trace_pending
from bihuan.tracing.service.runtime import TracingRuntime, configure, runtime_for
from bihuan.tracing.sources import ScanStore

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


def prepare_demo(
    database: Database, directory: Path, *, people: int, seed: int, console: Console, testing_round: bool = True
) -> list[DemoLogin]:
    """Generate (once) and load (idempotently) a district, make the demo users, run a demo testing round."""
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
    if testing_round:
        _feed_contact_logs(database, directory, console)
        _demo_round(database, directory, console)
        _demo_transfer(database, console, people)
    return logins


def _feed_contact_logs(database: Database, directory: Path, console: Console) -> None:
    """Put the district's venue scans in the scan store, the simulated fortnight ending yesterday, and wire
    tracing, so that the demo round's cases are traced (快流调) the moment they are confirmed."""
    settings = get_settings()
    store = ScanStore.under(settings.data_dir)
    shutil.rmtree(store.scans, ignore_errors=True)  # the demo's own log, laid anew on today's dates
    facts = json.loads((directory / "manifest.json").read_text())
    last_day = date.fromisoformat(facts["start_date"]) + timedelta(days=int(facts["days"]) - 1)
    shift = (datetime.now(ZoneInfo(settings.timezone)).date() - timedelta(days=1) - last_day).days
    with console.status("Feeding venue-scan logs to the contact engine ..."):
        rows = load_contact_logs(database, directory, store, timezone=settings.timezone, shift_days=shift)
    console.print(f"Scan store: {rows:,} venue scans over the last {facts['days']} days.")
    profile = load_profile(settings.profile)
    # The round confirms its cases one by one; they are traced together afterwards, in one engine run.
    configure(database, TracingRuntime(profile=profile, store=store, timezone=settings.timezone, auto_trace=False))


def _demo_round(database: Database, directory: Path, console: Console) -> None:
    """One testing round with planted positives, run to cases, ending a few hours before now."""
    settings = get_settings()
    start = datetime.now(UTC) - timedelta(hours=12)
    with console.status("Running a demo testing round ...") as status:
        summary = run_demo_round(
            database,
            directory,
            load_profile(settings.profile),
            timezone=settings.timezone,
            start=start,
            step=lambda what: status.update(f"Demo round: {what} ..."),
        )
    if summary is not None:
        console.print(
            f"Demo round {summary.campaign_code}: {summary.sampled:,} sampled in {summary.tubes:,} tubes, "
            f"{summary.positive_pools} positive pools, {summary.controlled} people controlled and re-tested, "
            f"{summary.cases} cases confirmed."
        )
    _trace_demo_cases(database, console)


def _trace_demo_cases(database: Database, console: Console) -> None:
    """The contact engine over every confirmed case not traced yet (快流调), in one run."""
    runtime = runtime_for(database)
    if runtime is None:
        return
    with console.status("Tracing the confirmed cases (contact engine) ..."), database.session() as session:
        runs = trace_pending(Ctx(session=session, clock=SystemClock(), actor=SYSTEM), runtime)
    if runs:
        found = sum(sum(run.found.values()) for run in runs)
        console.print(f"Tracing: {len(runs)} cases traced in {runs[0].seconds:.1f} s, {found:,} contacts found.")


def _demo_transfer(database: Database, console: Console, population: int) -> None:
    """Sites, vehicles and a first transfer plan of the cases and close contacts (快编组、快转运)."""
    settings = get_settings()
    with console.status("Planning transfers (sites, vehicles, batches) ..."):
        profile = load_profile(settings.profile)
        summary = prepare_transfer(database, profile, population, datetime.now(UTC) - timedelta(hours=2))
        day = first_hours_at_sites(
            database, datetime.now(UTC) - timedelta(minutes=30), profile, ZoneInfo(settings.timezone)
        )
    if summary is not None:
        console.print(
            f"Transfer: {summary.sites} sites, {summary.vehicles} vehicles; {summary.planned:,} people planned in "
            f"{summary.trips:,} trips ({summary.km:,.0f} vehicle-km), {summary.unplaced:,} left queued with the "
            f"reason; {summary.arrived} arrived on the first batch."
        )
        console.print(
            f"Isolation: {day.readings} temperatures taken (one fever), {day.tests_sampled} tests sampled as single "
            f"tubes, {day.checks} checklist items done on the day shift (one left open)."
        )
