"""A demo testing round with planted positives, run through the platform's services on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event
from bihuan.protocol import load_profile
from bihuan.screening.models import Case, LabResult, Retest, Sample, Tube
from bihuan.sim import DistrictManifest, generate_district
from bihuan.sim.load import load_district
from bihuan.sim.testing_round import run_demo_round

START = datetime(2021, 12, 14, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def small_outbreak(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    """1,200 residents and a brisk outbreak, so a round has positives without sampling thousands."""
    return generate_district(
        tmp_path_factory.mktemp("outbreak"), people=1200, seed=11, days=7, index_cases=12, attack=2.0, progress=False
    )


CHAIN = [
    EventKind.SAMPLED,
    EventKind.POOL_POSITIVE,
    EventKind.CONTROLLED_IN_PLACE,
    EventKind.RETEST_SCHEDULED,
    EventKind.RETEST_SAMPLED,
    EventKind.TEST_RESULTED,
    EventKind.CONFIRMATION_OPENED,
    EventKind.CASE_CONFIRMED,
]


def _positive_pool_members(database: Database) -> set[int]:
    with database.session() as session:
        positive_tubes = select(LabResult.tube_id).where(LabResult.result == "positive", Tube.capacity > 1)
        stmt = (
            select(Sample.person_id)
            .join(Tube, Tube.id == Sample.tube_id)
            .where(Tube.id.in_(positive_tubes.join(Tube, Tube.id == LabResult.tube_id)))
        )
        return set(session.scalars(stmt))


def test_a_demo_round_controls_every_positive_pool_and_turns_every_infected_person_into_a_case(
    database: Database, clock: SimulatedClock, small_outbreak: DistrictManifest
) -> None:
    load_district(database, clock, small_outbreak.out_dir)
    summary = run_demo_round(
        database,
        small_outbreak.out_dir,
        load_profile("cn-8th-2021"),
        timezone="Asia/Shanghai",
        people=1200,
        start=START,
    )
    assert summary is not None and summary.positive_pools > 0

    members = _positive_pool_members(database)
    with database.session() as session:
        retested = set(session.scalars(select(Retest.person_id)))
        controlled = set(
            session.scalars(select(Event.person_id).where(Event.kind == EventKind.CONTROLLED_IN_PLACE.value))
        )
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        case_person = session.scalars(select(Case.person_id)).first()
        kinds = list(
            session.scalars(
                select(Event.kind).where(Event.person_id == case_person).order_by(Event.occurred_at, Event.id)
            )
        )

    assert len(members) == summary.positive_pools * 10 - _short_tubes(database)
    assert members == controlled == retested
    assert cases == summary.cases == summary.infected_sampled > 0
    loop_kinds = [kind for kind in kinds if kind in {k.value for k in CHAIN}]
    assert loop_kinds == [k.value for k in CHAIN]
    again = run_demo_round(
        database, small_outbreak.out_dir, load_profile("cn-8th-2021"), timezone="Asia/Shanghai", start=START
    )
    assert again is None  # the demo keeps its one round


def _short_tubes(database: Database) -> int:
    """Places left empty in positive tubes closed early (the last tube of a community)."""
    with database.session() as session:
        fill = (
            select(Tube.id, (Tube.capacity - func.count(Sample.id)).label("empty"))
            .join(Sample, Sample.tube_id == Tube.id)
            .where(Tube.id.in_(select(LabResult.tube_id).where(LabResult.result == "positive")), Tube.capacity > 1)
            .group_by(Tube.id, Tube.capacity)
            .subquery()
        )
        return session.scalar(select(func.coalesce(func.sum(fill.c.empty), 0))) or 0
