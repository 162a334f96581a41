"""People at a site under a known plan, and their release tests taken and resulted."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

import pytest
from sqlalchemy import select
from tests.factories import context
from tests.isolation.factories import StayRef, deliver, give_plans, stays_at, world_with_floor
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Ctx
from bihuan.core.db import Database
from bihuan.isolation.choices import SiteTestStatus
from bihuan.isolation.models import SiteTest, SiteTestSample
from bihuan.isolation.service import release
from bihuan.protocol import TransferCategory
from bihuan.screening.choices import TubeKind
from bihuan.screening.models import Tube

CLOSE = TransferCategory.CLOSE_CONTACT
EXPOSED = date(2021, 12, 8)  # cn-8th: central 9–22 Dec, release test on the 22nd, home phase 23–29 Dec
LAST_DAY = date(2021, 12, 22)
_barcodes = count(1)


@pytest.fixture
def at_site(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, list[StayRef]]:
    """Three close contacts in their rooms, each under the plan of a last exposure on 8 December."""
    world, _ = world_with_floor(database, clock)
    people = [p for _ in range(3) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people, CLOSE)
    stays = stays_at(database, world.near_site)
    give_plans(database, clock, [s.stay_id for s in stays], EXPOSED)
    return world, stays


def release_test_resulted(
    database: Database, clock: SimulatedClock, stay_id: int, tubes: list[tuple[str, str]]
) -> None:
    """The stay's earlier tests taken and negative, and its release test taken and resulted: (result,
    reagent) per tube."""
    with context(database, clock) as ctx:
        tests = list(ctx.session.scalars(select(SiteTest).where(SiteTest.stay_id == stay_id).order_by(SiteTest.due_on)))
        release = [t for t in tests if t.release]
        assert release, "the stay has no release test"
        for test in tests:
            _resulted(ctx, test, tubes if test.release else [("negative", "A")])


def earlier_tests_negative(database: Database, clock: SimulatedClock, stay_id: int) -> None:
    """Every test of the stay but its release test taken and negative."""
    with context(database, clock) as ctx:
        stmt = select(SiteTest).where(SiteTest.stay_id == stay_id, SiteTest.release.is_(False))
        for test in list(ctx.session.scalars(stmt)):
            _resulted(ctx, test, [("negative", "A")])


def _resulted(ctx: Ctx, test: SiteTest, tubes: list[tuple[str, str]]) -> None:
    for result, reagent in tubes:
        tube = Tube(
            barcode=f"REL{next(_barcodes):06d}", kind=TubeKind.SINGLE.value, capacity=1, opened_at=ctx.clock.now()
        )
        ctx.session.add(tube)
        ctx.session.flush()
        ctx.session.add(
            SiteTestSample(
                test_id=test.id,
                tube_id=tube.id,
                barcode=tube.barcode,
                reagent=reagent,
                sampled_at=ctx.clock.now(),
                sampled_by="sampler",
                result=result,
                resulted_at=ctx.clock.now(),
            )
        )
    test.status = SiteTestStatus.RESULTED.value
    test.result = "positive" if any(r == "positive" for r, _ in tubes) else "negative"


@pytest.fixture
def released(database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]) -> StayRef:
    """The first of the site's people released on their last central day; the clock on their first home day."""
    world, [first, *_] = at_site
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])
    with context(database, clock) as ctx:
        assert release.release(ctx, PROFILE, world.near_site, [first.stay_id], LAST_DAY).released
    clock.set(datetime(2021, 12, 23, 2, 0, tzinfo=UTC))  # 10:00 in Shaoxing
    return first
