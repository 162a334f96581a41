"""The drill: a small outbreak run through the platform's API for simulated days, the simulator playing the
field teams; afterwards everyone who entered the loop is closed or listed open, the funnel adds up, the
contacts found are set against the truth, and the same seed replays the same drill."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bihuan.command.models import Incident, TaskForceMember
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event
from bihuan.protocol import LoopStage, load_profile
from bihuan.sim import DistrictManifest, generate_district
from bihuan.sim._field_teams import TASK_FORCE_STAFF
from bihuan.sim.drill import DrillSummary, run_drill
from bihuan.sim.load import load_district

PROFILE = load_profile("cn-8th-2021")


@pytest.fixture(scope="module")
def outbreak(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    """1,500 residents and a brisk outbreak whose first cases come forward on its sixth day."""
    return generate_district(
        tmp_path_factory.mktemp("drill-district"),
        people=1500,
        seed=7,
        days=9,
        index_cases=6,
        attack=1.5,
        progress=False,
    )


def _drill(database: Database, outbreak: DistrictManifest, data_dir: Path, days: int, hours: int = 0) -> DrillSummary:
    clock = SimulatedClock(datetime.combine(outbreak.start_date, time(), tzinfo=UTC))
    load_district(database, clock, outbreak.out_dir)
    return run_drill(
        database,
        outbreak.out_dir,
        PROFILE,
        days=days,
        hours=hours,
        seed=5,
        data_dir=data_dir,
        round_people=300,
        prefix="T",
    )


def test_after_a_drill_everyone_in_the_loop_is_closed_or_open_the_funnel_adds_up_and_contacts_meet_the_truth(
    database: Database, outbreak: DistrictManifest, tmp_path: Path
) -> None:
    summary = _drill(database, outbreak, tmp_path / "data", days=2)

    assert summary.cases > 0 and summary.rounds  # cases came forward, and their buildings were screened
    assert summary.entered == summary.closed + summary.open > summary.cases
    assert summary.unaccounted == ()  # every person the teams saw enter: a recorded end, or listed open
    assert summary.loops_add_up and summary.funnel_adds_up
    assert summary.funnel_entered == summary.funnel_days_entered == summary.entered
    assert summary.funnel_closed == summary.closed
    assert summary.in_quarantine + summary.found["community"] == summary.cases
    assert {d.stage for d in summary.delays} == set(LoopStage)
    confirming = {d.stage: d for d in summary.delays}[LoopStage.RESULT_TO_CONFIRMED]
    assert confirming.count > 0 and confirming.median_hours is not None and confirming.median_hours > 0

    with database.session() as session:  # 平转战 at the first case: the county's incident, its task forces staffed
        incidents = session.scalars(select(Incident.status)).all()
        members = session.scalar(select(func.count(TaskForceMember.id)))
    assert (incidents, members) == (["active"], len(TASK_FORCE_STAFF))

    contacts = summary.contacts  # against the people the confirmed cases infected before confirmation
    assert contacts.truth > 0 and contacts.recall == contacts.truth_found / contacts.truth
    assert 0 < contacts.truth_found <= contacts.truth
    assert contacts.found == contacts.truth_found + contacts.found_not_in_truth


def test_the_same_seed_replays_the_same_drill(
    sqlite_template: Path, outbreak: DistrictManifest, tmp_path: Path
) -> None:
    summaries = []
    for run in ("first", "again"):
        path = tmp_path / f"{run}.sqlite3"
        shutil.copy(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
        try:
            summaries.append(_drill(database, outbreak, tmp_path / run, days=2))
        finally:
            database.dispose()

    assert summaries[0].cases > 0
    assert summaries[0] == summaries[1]


def test_a_drill_can_stop_in_the_afternoon_of_the_day_after_its_days(
    database: Database, outbreak: DistrictManifest, tmp_path: Path
) -> None:
    summary = _drill(database, outbreak, tmp_path / "data", days=1, hours=15)

    assert summary.end - summary.start == timedelta(days=1, hours=15)
    with database.session() as session:
        field_work = Event.person_id.is_not(None) & (Event.kind != "person_created")  # not the users' set-up
        last = session.scalar(select(func.max(Event.occurred_at)).where(field_work))
    assert summary.start + timedelta(days=1) < last <= summary.end  # the next morning's work, nothing after


def test_a_drill_refuses_hours_beyond_a_day(database: Database, outbreak: DistrictManifest, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hours"):
        _drill(database, outbreak, tmp_path / "data", days=1, hours=24)
