"""Contacts stored from the engine (快流调 → 快编组): one per person with every reason, an event each, once."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import pyarrow as pa
from sqlalchemy import select
from tests.factories import context
from tests.tracing.factories import (
    World,
    confirm_case,
    runtime_for_tests,
    scan,
    utc,
    world_scans,
    write_scans,
)

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event
from bihuan.people.schemas import Page
from bihuan.protocol import ContactCategory, VehicleKind, quarantine_plan
from bihuan.tracing.models import Investigation, TracedContact, TracingRun
from bihuan.tracing.schemas import VisitCreate
from bihuan.tracing.service import contacts, investigations
from bihuan.tracing.service.runtime import TracingRuntime


def _contacts(database: Database) -> dict[int, TracedContact]:
    with database.session() as session:
        return {c.person_id: c for c in session.scalars(select(TracedContact))}


def _identified(database: Database) -> list[Event]:
    with database.session() as session:
        return list(session.scalars(select(Event).where(Event.kind == EventKind.CONTACT_IDENTIFIED).order_by(Event.id)))


def test_a_confirmed_case_is_traced_at_once_household_and_venue(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    confirm_case(database, clock, world.case_person, world.district.building_a)
    found = _contacts(database)
    assert found[world.household_member].category == ContactCategory.CLOSE_CONTACT
    assert "household" in found[world.household_member].reasons
    assert found[world.colleague].category == ContactCategory.CLOSE_CONTACT
    assert f"venue:{world.office}" in found[world.colleague].reasons
    assert world.stranger not in found  # at the supermarket before the window opened
    assert world.case_person not in found


def test_a_close_contacts_household_are_secondary_contacts(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    confirm_case(database, clock, world.case_person, world.district.building_a)
    child = _contacts(database)[world.colleague_child]
    assert child.category == ContactCategory.SECONDARY_CONTACT
    assert any(reason.startswith(f"via:{world.colleague}") for reason in child.reasons)


def test_each_new_contact_raises_contact_identified_with_its_quarantine_plan(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    confirm_case(database, clock, world.case_person, world.district.building_a)
    found = _contacts(database)
    events = {e.person_id: e for e in _identified(database)}
    assert set(events) == set(found)
    colleague = events[world.colleague]
    assert colleague.payload["category"] == "close_contact"
    expected = quarantine_plan(ContactCategory.CLOSE_CONTACT, date(2021, 12, 8), runtime.profile)
    assert colleague.payload["plan_end"] == expected.end.isoformat() == found[world.colleague].plan["end"]
    assert colleague.refs["case"] == found[world.colleague].case_id


def test_tracing_again_on_the_same_data_changes_nothing(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    case_id = confirm_case(database, clock, world.case_person, world.district.building_a)
    before, events_before = _contacts(database), len(_identified(database))
    with database.session() as session:
        investigation_id = session.scalars(select(Investigation.id).where(Investigation.case_id == case_id)).one()
    with context(database, clock) as ctx:
        run = contacts.trace_contacts(ctx, investigation_id, runtime)
        assert (run.new_contacts, run.changed_contacts) == (0, 0)
    assert {k: (c.id, c.category, c.reasons) for k, c in _contacts(database).items()} == {
        k: (c.id, c.category, c.reasons) for k, c in before.items()
    }
    assert len(_identified(database)) == events_before


def test_bad_scan_rows_are_counted_by_kind_and_do_not_stop_the_run(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    good = world_scans(world)
    bad = [
        {**good[1], "person_key": 987_654},  # someone not in the register, at the case's office
        {**good[0], "venue_id": 55_555},  # the case at a venue that is not registered
        {**good[2], "time_in": good[2]["time_out"], "time_out": good[2]["time_in"]},  # exit before entry
        good[1],  # a duplicate row
    ]
    write_scans(runtime, bad)
    confirm_case(database, clock, world.case_person, world.district.building_a)
    with database.session() as session:
        run = session.scalars(select(TracingRun)).one()
    assert run.bad_rows["unknown_person"] == 1
    assert run.bad_rows["unknown_venue"] == 1
    assert run.bad_rows["exit_before_entry"] == 1
    assert run.bad_rows["duplicate"] == 1
    assert _contacts(database)[world.colleague].category == ContactCategory.CLOSE_CONTACT


def test_a_case_sees_its_contacts_and_a_community_worker_those_living_in_their_subtree(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    confirm_case(database, clock, world.case_person, world.district.building_a)
    with context(database, clock) as ctx:
        rows, count = contacts.list_contacts(ctx, Page(page=1, page_size=50))
    assert count == len(_contacts(database)) and rows[0].resident_id_masked is not None
    assert all("*" in (row.resident_id_masked or "") for row in rows)


def test_a_flight_in_the_window_makes_close_contacts_of_nearby_rows_and_general_contacts_of_the_rest(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    departs, arrives = utc(2021, 12, 8, 7), utc(2021, 12, 8, 9)

    def seat(person: int, row: int) -> dict[str, object]:
        return {
            "trip_id": "MU5101-2021-12-08",
            "vehicle_kind": "plane",
            "departs_at": departs.astimezone(UTC).replace(tzinfo=None),
            "arrives_at": arrives.astimezone(UTC).replace(tzinfo=None),
            "person_key": person,
            "row": row,
            "car": None,
            "compartment": None,
            "cabin": None,
            "crew": False,
        }

    rows = [seat(world.case_person, 12), seat(world.shopper, 14), seat(world.stranger, 20)]
    runtime.store.write_trips(pa.Table.from_pylist(rows))
    confirm_case(database, clock, world.case_person, world.district.building_a)
    found = _contacts(database)
    rows_either_side = runtime.profile.tracing.vehicles[VehicleKind.PLANE].rows_either_side
    assert rows_either_side is not None and 14 - 12 <= rows_either_side < 20 - 12
    assert found[world.shopper].category == ContactCategory.CLOSE_CONTACT
    assert "trip:MU5101-2021-12-08" in found[world.shopper].reasons
    assert found[world.stranger].category == ContactCategory.GENERAL_CONTACT


def test_cases_traced_together_get_the_same_contacts_as_one_by_one(
    database: Database, clock: SimulatedClock, world: World, tmp_path: Path
) -> None:
    deferred = runtime_for_tests(database, clock, tmp_path / "batch", auto_trace=False)
    write_scans(deferred, world_scans(world))
    confirm_case(database, clock, world.case_person, world.district.building_a)
    confirm_case(database, clock, world.shopper, world.district.building_a)
    assert _contacts(database) == {}, "nothing traced yet: the batch does it"
    with context(database, clock) as ctx:
        runs = contacts.trace_pending(ctx, deferred)
        assert contacts.trace_pending(ctx, deferred) == []
    assert len(runs) == 2
    with database.session() as session:
        by_case = {(c.case_id, c.person_id): c.category for c in session.scalars(select(TracedContact))}
    assert ContactCategory.CLOSE_CONTACT in by_case.values()
    assert sum(run.new_contacts for run in runs) == len(by_case)


def test_a_self_reported_stay_counts_as_the_cases_own_scan(
    database: Database, clock: SimulatedClock, world: World, tmp_path: Path
) -> None:
    """The case forgot to scan at the market on the 7th; the stranger was there for an hour with them."""
    reported = runtime_for_tests(database, clock, tmp_path / "reported", auto_trace=False)
    write_scans(reported, [scan(world.stranger, world.supermarket, utc(2021, 12, 7, 10), utc(2021, 12, 7, 11))])
    case_id = confirm_case(database, clock, world.case_person, world.district.building_a)
    with database.session() as session:
        investigation_id = session.scalars(select(Investigation.id).where(Investigation.case_id == case_id)).one()
    visit = VisitCreate(venue_id=world.supermarket, starts_at=utc(2021, 12, 7, 10), ends_at=utc(2021, 12, 7, 11))
    with context(database, clock) as ctx:
        investigations.add_visit(ctx, investigation_id, visit)
        contacts.trace_contacts(ctx, investigation_id, reported)
    stranger = _contacts(database)[world.stranger]
    assert stranger.category == ContactCategory.CLOSE_CONTACT
    assert f"venue:{world.supermarket}" in stranger.reasons
