"""Investigations (流调): opened by case_confirmed, facts recorded, a trajectory that cannot contradict itself."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.factories import context
from tests.tracing.factories import World, confirm_case, runtime_for_tests, utc, world_scans, write_scans

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, FieldError
from bihuan.core.events import Event
from bihuan.tracing.choices import InvestigationStatus, VisitSource
from bihuan.tracing.models import Investigation
from bihuan.tracing.schemas import InvestigationUpdate, VisitCreate
from bihuan.tracing.service import investigations
from bihuan.tracing.service.runtime import TracingRuntime


@pytest.fixture
def runtime(database: Database, clock: SimulatedClock, tmp_path: Path) -> TracingRuntime:
    return runtime_for_tests(database, clock, tmp_path / "data", auto_trace=False)


@pytest.fixture
def investigation(database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime) -> Investigation:
    """The investigation the case's confirmation opened."""
    return _investigation(database, confirm_case(database, clock, world.case_person, world.district.building_a))


def _investigation(database: Database, case_id: int) -> Investigation:
    with database.session() as session:
        return session.scalars(select(Investigation).where(Investigation.case_id == case_id)).one()


def test_a_confirmed_case_opens_its_investigation_with_an_event(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    case_id = confirm_case(database, clock, world.case_person, world.district.building_a)
    investigation = _investigation(database, case_id)
    assert investigation.status == InvestigationStatus.OPEN
    assert (investigation.onset_date, investigation.person_id) == (date(2021, 12, 9), world.case_person)
    with database.session() as session:
        kinds = session.scalars(select(Event.kind).where(Event.person_id == world.case_person).order_by(Event.id)).all()
    confirmed = kinds.index(EventKind.CASE_CONFIRMED)
    assert kinds[confirmed + 1] == EventKind.INVESTIGATION_OPENED  # then grouping queues the case (快编组)


def test_opening_twice_gives_the_same_investigation(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    case_id = confirm_case(database, clock, world.case_person, world.district.building_a)
    with context(database, clock) as ctx:
        again = investigations.open_investigation(ctx, case_id)
    assert again.id == _investigation(database, case_id).id
    with database.session() as session:
        opened = session.scalars(select(Event).where(Event.kind == EventKind.INVESTIGATION_OPENED)).all()
    assert len(opened) == 1


def test_the_window_opens_the_profiles_look_back_days_before_onset(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    case_id = confirm_case(database, clock, world.case_person, world.district.building_a)
    investigation = _investigation(database, case_id)
    start, end = investigations.exposure_window(investigation, runtime)
    look_back = runtime.profile.tracing.close_contact.look_back_days
    assert runtime.local_date(start) == date(2021, 12, 9 - look_back)
    assert end is None
    with context(database, clock) as ctx:
        investigations.update_investigation(
            ctx, investigation.id, InvestigationUpdate(onset_date=None, isolated_at=utc(2021, 12, 9, 20)), runtime
        )
    start, end = investigations.exposure_window(_investigation(database, case_id), runtime)
    asymptomatic = runtime.profile.tracing.close_contact.asymptomatic_look_back_days
    assert runtime.local_date(start) == date(2021, 12, 9 - asymptomatic)
    assert end == utc(2021, 12, 9, 20)


def test_an_onset_after_confirmation_is_refused_naming_the_field(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    case_id = confirm_case(database, clock, world.case_person, world.district.building_a)
    investigation = _investigation(database, case_id)
    with pytest.raises(FieldError) as refused, context(database, clock) as ctx:
        investigations.update_investigation(
            ctx, investigation.id, InvestigationUpdate(onset_date=date(2021, 12, 20)), runtime
        )
    assert refused.value.field == "onset_date"
    assert _investigation(database, case_id).onset_date == date(2021, 12, 9)


def test_symptoms_lineage_and_travel_are_recorded(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    case_id = confirm_case(database, clock, world.case_person, world.district.building_a)
    investigation = _investigation(database, case_id)
    update = InvestigationUpdate(symptoms=["发热", " 咳嗽", "发热"], lineage="B.1.617.2", travel_history="宁波 12-03")
    with context(database, clock) as ctx:
        investigations.update_investigation(ctx, investigation.id, update, runtime)
        shown = investigations.get_investigation(ctx, investigation.id, runtime)
    assert shown.symptoms == ["发热", "咳嗽"]
    assert (shown.lineage, shown.travel_history) == ("B.1.617.2", "宁波 12-03")


def _visit(world: World, start_hour: int, end_hour: int, **fields: object) -> VisitCreate:
    values: dict[str, object] = {
        "venue_id": world.supermarket,
        "starts_at": utc(2021, 12, 8, start_hour),
        "ends_at": utc(2021, 12, 8, end_hour),
    }
    values.update(fields)
    return VisitCreate.model_validate(values)


def test_a_visit_that_ends_before_it_starts_is_refused(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime, investigation: Investigation
) -> None:
    with pytest.raises(FieldError) as refused, context(database, clock) as ctx:
        investigations.add_visit(ctx, investigation.id, _visit(world, 12, 11))
    assert refused.value.field == "ends_at"


def test_two_stays_at_once_are_refused_naming_the_clash_and_nothing_is_stored(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime, investigation: Investigation
) -> None:
    with context(database, clock) as ctx:
        first = investigations.add_visit(ctx, investigation.id, _visit(world, 10, 12))
    with pytest.raises(FieldError) as refused, context(database, clock) as ctx:
        investigations.add_visit(ctx, investigation.id, _visit(world, 11, 13, venue_id=world.office))
    assert refused.value.field == "starts_at" and f"visit {first.id}" in refused.value.reason
    with context(database, clock) as ctx:
        assert [v.id for v in investigations.list_visits(ctx, investigation.id)] == [first.id]


def test_the_same_visit_sent_twice_is_stored_once(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime, investigation: Investigation
) -> None:
    with context(database, clock) as ctx:
        first = investigations.add_visit(ctx, investigation.id, _visit(world, 10, 12))
    with context(database, clock) as ctx:
        again = investigations.add_visit(ctx, investigation.id, _visit(world, 10, 12))
        assert again.id == first.id
        assert len(investigations.list_visits(ctx, investigation.id)) == 1


def test_a_visit_needs_a_known_venue_or_an_address(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime, investigation: Investigation
) -> None:
    with pytest.raises(FieldError) as unknown, context(database, clock) as ctx:
        investigations.add_visit(ctx, investigation.id, _visit(world, 10, 12, venue_id=999_999))
    assert unknown.value.field == "venue_id"
    with pytest.raises(FieldError) as nowhere, context(database, clock) as ctx:
        investigations.add_visit(ctx, investigation.id, _visit(world, 10, 12, venue_id=None))
    assert nowhere.value.field == "venue_id"
    with context(database, clock) as ctx:
        visit = investigations.add_visit(
            ctx, investigation.id, _visit(world, 10, 12, venue_id=None, place_text="亲戚家")
        )
    assert visit.place_text == "亲戚家"


def test_the_cases_own_scans_join_the_timeline_in_time_order(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    write_scans(runtime, world_scans(world))
    investigation = _investigation(
        database, confirm_case(database, clock, world.case_person, world.district.building_a)
    )
    with context(database, clock) as ctx:
        added = investigations.import_scan_visits(ctx, ctx.session.get(Investigation, investigation.id), runtime)  # type: ignore[arg-type]
        again = investigations.import_scan_visits(ctx, ctx.session.get(Investigation, investigation.id), runtime)  # type: ignore[arg-type]
        shown = investigations.timeline(ctx, investigation.id, runtime)
    assert (added, again) == (2, 0)
    assert [v.venue_id for v in shown.visits] == [world.office, world.supermarket]
    assert {v.source for v in shown.visits} == {VisitSource.VENUE_SCAN}
    assert [m["kind"] for m in shown.moments][:2] == ["window_start", "onset"]


def test_closing_twice_is_a_conflict(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime, investigation: Investigation
) -> None:
    with context(database, clock) as ctx:
        investigations.close_investigation(ctx, investigation.id)
    with pytest.raises(Conflict), context(database, clock) as ctx:
        investigations.close_investigation(ctx, investigation.id)
