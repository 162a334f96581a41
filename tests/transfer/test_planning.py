"""Planning transfers from the stored queue: batches per vehicle trip, sites never over their places,
everyone either on a batch or left queued with the reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories import context
from tests.transfer.factories import (
    TransferWorld,
    add_site,
    identify_contacts,
    make_household,
    make_transfer_world,
)

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.grouping.models import TransferRequest
from bihuan.protocol import ProtocolProfile, TransferCategory
from bihuan.transfer.models import Batch, BatchMember, TransferPlanRun
from bihuan.transfer.service import planning

CLOSE = TransferCategory.CLOSE_CONTACT


def _plan(database: Database, clock: SimulatedClock, profile: ProtocolProfile, **kw: object) -> TransferPlanRun:
    with context(database, clock) as ctx:
        run = planning.plan(ctx, profile, **kw)  # type: ignore[arg-type]
        ctx.session.expunge(run)
        return run


def _batches(database: Database) -> list[tuple[Batch, list[BatchMember]]]:
    with database.session() as session:
        batches = list(session.scalars(select(Batch).order_by(Batch.id)))
        members = list(session.scalars(select(BatchMember)))
        session.expunge_all()
    return [(b, [m for m in members if m.batch_id == b.id]) for b in batches]


def _requests(database: Database) -> dict[int, TransferRequest]:
    with database.session() as session:
        rows = list(session.scalars(select(TransferRequest)))
        session.expunge_all()
    return {r.person_id: r for r in rows}


def test_households_ride_together_and_every_queued_person_is_on_a_batch(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    households = [make_household(database, clock, world.district.building_a, n) for n in (4, 3, 2, 1)]
    identify_contacts(database, clock, [p for h in households for p in h], CLOSE)

    run = _plan(database, clock, profile)

    assert (run.people, run.placed, run.unplaced) == (10, 10, [])
    batches = _batches(database)
    batch_of = {m.person_id: b.id for b, members in batches for m in members}
    assert all(len({batch_of[p] for p in household}) == 1 for household in households)
    requests = _requests(database)
    assert {r.status for r in requests.values()} == {"planned"}
    assert all(requests[p].batch_id == batch_of[p] for p in batch_of)


def test_a_plan_never_mixes_categories_in_a_vehicle(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    close = make_household(database, clock, world.district.building_a, 2)
    secondary = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, close, CLOSE)
    identify_contacts(database, clock, secondary, TransferCategory.SECONDARY_CONTACT)

    _plan(database, clock, profile)

    requests = _requests(database)
    for batch, members in _batches(database):
        assert {requests[m.person_id].category for m in members} == {batch.category}


def test_a_confirmed_case_goes_by_ambulance_to_the_designated_hospital(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    [case_person] = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, [case_person], TransferCategory.CONFIRMED)

    _plan(database, clock, profile)

    [(batch, [member])] = _batches(database)
    assert (batch.site_id, batch.vehicle_id, member.person_id) == (world.hospital, world.ambulance, case_person)


def test_when_the_near_site_is_full_people_go_to_another_citys_site(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile
) -> None:
    world = make_transfer_world(database, clock, near_places=3, far_places=20)
    people = [p for _ in range(3) for p in make_household(database, clock, world.district.building_a, 2)]
    identify_contacts(database, clock, people, CLOSE)

    run = _plan(database, clock, profile)

    assert run.placed == 6
    per_site: dict[int, int] = {}
    for batch, members in _batches(database):
        per_site[batch.site_id] = per_site.get(batch.site_id, 0) + len(members)
    assert per_site.get(world.near_site, 0) <= 3
    assert per_site[world.far_site] >= 3


def test_people_the_plan_cannot_place_stay_queued_with_the_reason(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile
) -> None:
    world = make_transfer_world(database, clock, near_places=2, far_places=0)
    placed_household = make_household(database, clock, world.district.building_a, 2)
    left_household = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, placed_household + left_household, CLOSE)

    run = _plan(database, clock, profile)

    assert run.placed == 2
    assert {row["reason"] for row in run.unplaced} == {"no_room_within_reach"}
    requests = _requests(database)
    left = [r for r in requests.values() if r.status == "queued"]
    assert len(left) == 2 and all(r.last_reason.startswith("no_room_within_reach") for r in left)


def test_a_second_plan_counts_places_already_promised_to_planned_batches(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile
) -> None:
    world = make_transfer_world(database, clock, near_places=4, far_places=0)
    first = make_household(database, clock, world.district.building_a, 3)
    identify_contacts(database, clock, first, CLOSE)
    _plan(database, clock, profile)
    second = make_household(database, clock, world.district.building_a, 3)
    identify_contacts(database, clock, second, CLOSE)

    run = _plan(database, clock, profile)

    assert run.placed == 0
    assert {row["person_id"] for row in run.unplaced} == set(second)


def test_a_household_larger_than_any_vehicle_is_listed_not_split(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile
) -> None:
    world = make_transfer_world(database, clock)
    big = make_household(database, clock, world.district.building_a, 23)  # 44 seats at half occupancy: 22 places
    identify_contacts(database, clock, big, CLOSE)

    run = _plan(database, clock, profile)

    assert run.placed == 0
    assert {row["reason"] for row in run.unplaced} == {"household_too_large"}


def test_someone_with_no_pickup_point_is_listed_with_the_reason(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    from tests.factories import make_person

    nowhere = make_person(database, clock, world.district.building_a).id
    identify_contacts(database, clock, [nowhere], CLOSE)

    run = _plan(database, clock, profile)

    assert [(row["person_id"], row["reason"]) for row in run.unplaced] == [(nowhere, "no_pickup_location")]


def test_naming_a_request_twice_or_an_unknown_one_is_refused_and_nothing_is_planned(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    people = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, people, CLOSE)
    [request] = _requests(database).values()
    with context(database, clock) as ctx:
        with pytest.raises(FieldError) as twice:
            planning.plan(ctx, profile, request_ids=[request.id, request.id])
        with pytest.raises(FieldError) as unknown:
            planning.plan(ctx, profile, request_ids=[request.id + 100])
    assert twice.value.field == "request_ids[1]" and "twice" in twice.value.reason
    assert unknown.value.field == "request_ids[0]"
    assert _batches(database) == []


def test_each_planned_person_gets_a_batch_planned_event_naming_batch_vehicle_and_site(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    people = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, people, CLOSE)

    _plan(database, clock, profile)

    with database.session() as session:
        events = list(session.scalars(select(Event).where(Event.kind == EventKind.BATCH_PLANNED)))
        assert sorted(e.person_id for e in events) == sorted(people)
        assert {tuple(sorted(e.refs)) for e in events} == {("batch", "plan", "site", "vehicle")}


def test_far_sites_beyond_the_profile_reach_are_never_used(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile
) -> None:
    world = make_transfer_world(database, clock, near_places=0, far_places=0)
    add_site(database, clock, "乌鲁木齐隔离点", (43.8, 87.6), {CLOSE: 100}, city="乌鲁木齐")
    people = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, people, CLOSE)

    run = _plan(database, clock, profile)

    assert run.placed == 0 and {row["reason"] for row in run.unplaced} == {"no_room_within_reach"}
