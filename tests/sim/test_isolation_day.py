"""The demo's first hours at a home hotel: a temperature round with one fever, the day's tests taken,
the day shift's checklist done but for one item — through the isolation services."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from tests.isolation.factories import traced_and_delivered, world_with_floor
from tests.transfer.factories import PROFILE, make_household

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation.checklist_models import ChecklistEntry
from bihuan.isolation.models import HealthAlert, SiteTest, TemperatureReading
from bihuan.sim.isolation_day import first_hours_at_sites

ZONE = ZoneInfo("Asia/Shanghai")


def test_the_demos_first_hours_leave_a_fever_tests_taken_and_one_check_open(
    database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock)
    people = [make_household(database, clock, world.district.building_a, 1)[0] for _ in range(4)]
    traced_and_delivered(database, clock, people, date(2021, 12, 9))  # day 1 of their plans is today

    day = first_hours_at_sites(database, clock.now(), PROFILE, ZONE)
    again = first_hours_at_sites(database, clock.now(), PROFILE, ZONE)

    with database.session() as session:
        readings = session.scalar(select(func.count()).select_from(TemperatureReading))
        fevers = session.scalars(select(HealthAlert.kind)).all()
        sampled = session.scalar(select(func.count()).select_from(SiteTest).where(SiteTest.status == "sampled"))
        checks = session.scalar(select(func.count()).select_from(ChecklistEntry))
    assert (day.readings, readings) == (4, 4)
    assert fevers == ["fever"]
    assert day.tests_sampled == sampled == 4
    assert day.checks == checks and day.checks > 0
    assert (again.readings, again.checks) == (0, 0)  # the same morning again stores nothing twice
