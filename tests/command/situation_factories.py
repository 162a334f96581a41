"""Situations the dashboard tests read: people held at a site, cases found in quarantine and in the
community, a contact taken through the whole loop to the end of the home phase, and a member of a
positive pool controlled in place then released by a negative re-test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from tests.factories import context
from tests.isolation.factories import StayRef, deliver, give_plans, stays_at, world_with_floor
from tests.isolation.release_factories import CLOSE, EXPOSED, LAST_DAY, release_test_resulted
from tests.screening.lab_factories import lab_csv, make_people, make_tube, result_row
from tests.tracing.factories import confirm_case
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation.service import home, release
from bihuan.screening.models import Retest
from bihuan.screening.service import followup, results

ZONE = "Asia/Shanghai"


def held_at_site(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, list[StayRef]]:
    """Three close contacts of county A traced, driven to the near site and in their rooms on 10 December."""
    world, _ = world_with_floor(database, clock)
    people = [p for _ in range(3) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people, CLOSE)
    stays = stays_at(database, world.near_site)
    give_plans(database, clock, [s.stay_id for s in stays], EXPOSED)
    return world, stays


def case_at_site(database: Database, clock: SimulatedClock, world: TransferWorld, stay: StayRef) -> int:
    """The held contact confirmed a day later (11 December), onset on the 10th: found in quarantine."""
    clock.advance(timedelta(days=1))
    confirm_case(database, clock, stay.person_id, world.district.building_a, onset=date(2021, 12, 10))
    return stay.person_id


def case_in_community(database: Database, clock: SimulatedClock, world: TransferWorld) -> int:
    """A resident of county B under no control confirmed now, onset on 11 December: found in the community."""
    [resident] = make_household(database, clock, world.district.building_b, 1)
    confirm_case(database, clock, resident, world.district.building_b, onset=date(2021, 12, 11))
    return resident


def whole_loop(database: Database, clock: SimulatedClock, world: TransferWorld, stay: StayRef) -> None:
    """The held contact released on their last central day and their home phase over (30 December)."""
    release_test_resulted(database, clock, stay.stay_id, [("negative", "A"), ("negative", "B")])
    clock.set(datetime(2021, 12, 22, 2, 0, tzinfo=UTC))
    with context(database, clock) as ctx:
        assert release.release(ctx, PROFILE, world.near_site, [stay.stay_id], LAST_DAY).released
    clock.set(datetime(2021, 12, 30, 1, 0, tzinfo=UTC))
    with context(database, clock) as ctx:
        assert home.end_finished_phases(ctx, date(2021, 12, 30)) == 1


def pool_member_released(database: Database, clock: SimulatedClock, jurisdiction_id: int) -> int:
    """A screening pool of three positive six hours after sampling, its members controlled in place (就地管控);
    the first one's single-tube re-test taken at once and negative four hours later: released from control."""
    member, *_ = members = make_people(database, clock, jurisdiction_id, 3)
    pool = make_tube(database, clock, members)
    clock.advance(timedelta(hours=6))
    with context(database, clock) as ctx:
        results.ingest_lab_file(ctx, "pool.csv", lab_csv([result_row(pool.barcode, "positive")]), timezone=ZONE)
        retest = ctx.session.scalars(select(Retest).where(Retest.person_id == member)).one()
        followup.sample_retest(ctx, retest.id, "RT-7001")
    clock.advance(timedelta(hours=4))
    with context(database, clock) as ctx:
        rows = [result_row("RT-7001", "negative", run_id="RUN-7")]
        results.ingest_lab_file(ctx, "retest.csv", lab_csv(rows), timezone=ZONE)
    return member
