"""A site serves several counties: each county's staff see only their own people's sheet rows and alerts."""

from __future__ import annotations

from tests.factories import context
from tests.isolation.factories import deliver, world_with_floor
from tests.transfer.factories import PROFILE, make_household

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.isolation import service as sites
from bihuan.isolation.health_schemas import TemperatureIn
from bihuan.people.models import Jurisdiction
from bihuan.protocol import TransferCategory

ZONE = "Asia/Shanghai"


def test_another_countys_staff_see_neither_the_sheet_rows_nor_the_alerts_of_this_countys_people(
    database: Database, clock: SimulatedClock
) -> None:
    world, floor = world_with_floor(database, clock)
    [person] = make_household(database, clock, world.district.building_a, 1)
    deliver(database, clock, [person], TransferCategory.CLOSE_CONTACT)
    with context(database, clock) as ctx:
        sites.record_temperatures(
            ctx, PROFILE, world.near_site, [TemperatureIn(person_id=person, value="38.4", measured_at=clock.now())]
        )
        county_b = ctx.session.get(Jurisdiction, world.district.county_b)
        assert county_b is not None
        other = Actor(None, "other-county", Role.SITE_MANAGER, county_b.id, county_b.path)
    day = clock.now().date()
    with context(database, clock) as ctx:
        assert len(sites.list_alerts(ctx, world.near_site)) == 1
        assert any(r.people for r in sites.floor_sheet(ctx, world.near_site, floor, day, ZONE).rooms)
    with context(database, clock, other) as ctx:
        assert sites.list_alerts(ctx, world.near_site) == []
        assert all(not r.people for r in sites.floor_sheet(ctx, world.near_site, floor, day, ZONE).rooms)
