"""The demo's first hours at its sites (快隔离): the morning temperature round, the day's tests taken as
single tubes, and the day shift's checklist — done through the services, as site staff would.

One person runs a fever (an alert on the board) and one checklist item is left undone, so the
pages have something to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.isolation import service as sites
from bihuan.isolation.checklist_schemas import CheckIn
from bihuan.isolation.health_schemas import TemperatureIn
from bihuan.isolation.models import IsolationStay, SiteRoom
from bihuan.isolation.service import testing
from bihuan.protocol import ProtocolProfile

NORMAL = (36.3, 36.5, 36.6, 36.8)
REAGENTS = ("达安", "华大")  # the kits the demo's lab tests with


@dataclass(frozen=True)
class SiteDaySummary:
    readings: int
    tests_sampled: int
    checks: int


def first_hours_at_sites(database: Database, now: datetime, profile: ProtocolProfile, zone: ZoneInfo) -> SiteDaySummary:
    """At every site with people in rooms: temperatures, the day's tests, the day shift's checklist."""
    clock = SimulatedClock(now)
    readings = sampled = checks = 0
    with database.session() as session:
        site_ids = sorted(
            set(
                session.scalars(
                    select(IsolationStay.site_id)
                    .join(SiteRoom, SiteRoom.id == IsolationStay.room_id)
                    .where(IsolationStay.open_person_id.is_not(None))
                )
            )
        )
    for site_id in site_ids:
        with database.session() as session:
            ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
            readings += _temperature_round(ctx, profile, site_id, zone)
            sampled += _take_tests(ctx, site_id, zone, prefix=f"DEMO-Q{site_id:02d}")
            checks += _day_shift(ctx, profile, site_id, zone)
    return SiteDaySummary(readings, sampled, checks)


def _temperature_round(ctx: Ctx, profile: ProtocolProfile, site_id: int, zone: ZoneInfo) -> int:
    stays = ctx.session.scalars(
        select(IsolationStay.id)
        .where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
        .order_by(IsolationStay.id)
    ).all()
    fever = round(profile.sites.fever_from_celsius + 0.9, 1)
    readings = [
        TemperatureIn(stay_id=stay_id, value=fever if index == 0 else NORMAL[index % len(NORMAL)])
        for index, stay_id in enumerate(stays)
    ]
    if not readings:
        return 0
    return sites.record_temperatures(ctx, profile, site_id, readings, zone=zone).stored


def _take_tests(ctx: Ctx, site_id: int, zone: ZoneInfo, prefix: str) -> int:
    today = ctx.clock.now().astimezone(zone).date()
    due = testing.tests_due(ctx, site_id, today, include_overdue=False)
    number = 0
    for test in due.data:
        tubes = []
        for index in range(test.samples):
            number += 1
            tubes.append({"barcode": f"{prefix}-{number:05d}", "reagent": REAGENTS[index % len(REAGENTS)]})
        testing.sample_test(ctx, site_id, test.id, tubes, zone=zone)
    return len(due.data)


def _day_shift(ctx: Ctx, profile: ProtocolProfile, site_id: int, zone: ZoneInfo) -> int:
    today = ctx.clock.now().astimezone(zone).date()
    sheet = sites.day_sheet(ctx, profile, site_id, today, zone)
    shift = profile.sites.shifts[0].name
    lines = [line for line in sheet.lines if line.shift == shift and line.status is None][:-1]
    entries = [CheckIn(template=line.template, item=line.item, day=today, shift=shift) for line in lines]
    if not entries:
        return 0
    recorded = sites.record_checks(ctx, profile, site_id, entries, zone)
    return recorded.recorded
