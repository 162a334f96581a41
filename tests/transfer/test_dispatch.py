"""Dispatch tracking: planned → dispatched → picked up → arrived, each timestamped; nobody lost when a
pick-up fails, a vehicle breaks down mid-transfer or a site reports full."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.factories import context
from tests.transfer.factories import TransferWorld, add_vehicle, identify_contacts, make_household

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, Forbidden
from bihuan.core.events import Event
from bihuan.grouping.models import TransferRequest
from bihuan.isolation import service as sites
from bihuan.people.models import Jurisdiction
from bihuan.protocol import ProtocolProfile, TransferCategory
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.service import dispatch, failures, planning

CLOSE = TransferCategory.CLOSE_CONTACT
LOOP = ["transfer_queued", "batch_planned", "dispatched", "picked_up", "arrived"]


def _queue_and_plan(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld, sizes: tuple[int, ...]
) -> tuple[int, list[int]]:
    people = [p for n in sizes for p in make_household(database, clock, world.district.building_a, n)]
    identify_contacts(database, clock, people, CLOSE)
    with context(database, clock) as ctx:
        planning.plan(ctx, profile)
    with database.session() as session:
        [batch_id] = session.scalars(select(Batch.id).where(Batch.status == "planned")).all()
    return batch_id, people


def _members(database: Database, batch_id: int) -> dict[int, BatchMember]:
    with database.session() as session:
        rows = list(session.scalars(select(BatchMember).where(BatchMember.batch_id == batch_id)))
        session.expunge_all()
    return {m.person_id: m for m in rows}


def _requests(database: Database) -> dict[int, TransferRequest]:
    with database.session() as session:
        rows = list(session.scalars(select(TransferRequest)))
        session.expunge_all()
    return {r.person_id: r for r in rows}


def _kinds(database: Database, person_id: int) -> list[str]:
    with database.session() as session:
        kinds = session.scalars(select(Event.kind).where(Event.person_id == person_id).order_by(Event.id)).all()
    return [k for k in kinds if k in {*LOOP, "returned_to_queue"}]


def test_a_batch_moves_every_person_from_the_queue_to_the_site_with_each_hand_over_recorded(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, people = _queue_and_plan(database, clock, profile, world, (2, 1))
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
    for person in people:
        clock.advance(timedelta(minutes=10))
        with context(database, clock) as ctx:
            dispatch.pick_up(ctx, batch_id, person)
    clock.advance(timedelta(minutes=30))
    with context(database, clock) as ctx:
        dispatch.arrive(ctx, profile, batch_id)

    assert all(_kinds(database, p) == LOOP for p in people)
    members = _members(database, batch_id)
    assert all(m.arrived_at == clock.now() and m.picked_up_at is not None for m in members.values())
    requests = _requests(database)
    assert {(r.status, r.open_person_id) for r in requests.values()} == {("arrived", None)}
    with context(database, clock) as ctx:
        [hotel] = [s for s in sites.list_sites(ctx) if s.id == world.near_site]
        assert {p.category: p.occupied for p in hotel.places}[CLOSE] == 3
        assert ctx.session.get(Batch, batch_id).status == "completed"  # type: ignore[union-attr]


def test_someone_not_at_the_pickup_returns_to_the_queue_with_the_reason(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, people = _queue_and_plan(database, clock, profile, world, (1, 1))
    away, present = people
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
        dispatch.pick_up(ctx, batch_id, present)
        dispatch.not_picked_up(ctx, batch_id, away, "not at home")
        dispatch.arrive(ctx, profile, batch_id)

    request = _requests(database)[away]
    assert (request.status, request.batch_id, request.returns) == ("queued", None, 1)
    assert request.last_reason == "not picked up: not at home"
    assert _kinds(database, away)[-1] == "returned_to_queue"
    assert _members(database, batch_id)[away].return_reason == "not picked up: not at home"


def test_arriving_without_everyone_picked_up_sends_the_rest_back_to_the_queue(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, (first, forgotten) = _queue_and_plan(database, clock, profile, world, (1, 1))
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
        dispatch.pick_up(ctx, batch_id, first)
        dispatch.arrive(ctx, profile, batch_id)

    assert _requests(database)[forgotten].status == "queued"
    assert "not picked up" in _requests(database)[forgotten].last_reason


def test_a_vehicle_failing_mid_transfer_re_plans_everyone_aboard_onto_another_vehicle(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, people = _queue_and_plan(database, clock, profile, world, (2, 2))
    spare = add_vehicle(database, clock)
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
        dispatch.pick_up(ctx, batch_id, people[0])
        dispatch.pick_up(ctx, batch_id, people[1])
    breakdown = (30.05, 120.90)
    with context(database, clock) as ctx:
        returned, cancelled, run = failures.vehicle_failed(ctx, profile, world.coach, "engine fire", where=breakdown)

    assert cancelled == [batch_id] and len(returned) == 4
    assert run is not None and run.placed == 4
    requests = _requests(database)
    with database.session() as session:
        new_batch = session.get(Batch, requests[people[0]].batch_id)
        assert new_batch is not None and new_batch.vehicle_id == spare and new_batch.id != batch_id
    assert {r.status for r in requests.values()} == {"planned"}
    assert (requests[people[0]].pickup_lat, requests[people[0]].pickup_lon) == breakdown  # aboard: picked up there
    assert (requests[people[2]].pickup_lat, requests[people[2]].pickup_lon) != breakdown  # still at home
    assert all(_kinds(database, p)[-2:] == ["returned_to_queue", "batch_planned"] for p in people)


def test_a_vehicle_failing_with_no_other_vehicle_leaves_everyone_queued_with_the_reason(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, people = _queue_and_plan(database, clock, profile, world, (3,))
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
        dispatch.pick_up(ctx, batch_id, people[0])
        _, _, run = failures.vehicle_failed(ctx, profile, world.coach, "flat tyre")

    assert run is not None and run.placed == 0
    assert {row["reason"] for row in run.unplaced} == {"no_vehicle"}
    requests = _requests(database)
    assert {requests[p].status for p in people} == {"queued"}
    assert all(requests[p].last_reason.startswith("no_vehicle") for p in people)


def test_a_site_reporting_full_sends_its_incoming_batch_to_another_site(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, _ = _queue_and_plan(database, clock, profile, world, (2,))
    with context(database, clock) as ctx:
        assert ctx.session.get(Batch, batch_id).site_id == world.near_site  # type: ignore[union-attr]
        _, cancelled, run = failures.site_full(ctx, profile, world.near_site, "staff shortage")

    assert cancelled == [batch_id] and run is not None and run.placed == 2
    with database.session() as session:
        [replanned] = session.scalars(select(Batch).where(Batch.status == "planned")).all()
        assert replanned.site_id == world.far_site


def test_dispatching_twice_is_harmless_but_a_vehicle_takes_one_batch_at_a_time(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    big = [p for _ in range(12) for p in make_household(database, clock, world.district.building_a, 2)]
    identify_contacts(database, clock, big, CLOSE)  # 24 people: two trips of the one coach
    with context(database, clock) as ctx:
        planning.plan(ctx, profile)
    with database.session() as session:
        first, second = session.scalars(select(Batch.id).order_by(Batch.sequence)).all()
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, first)
        dispatch.dispatch(ctx, first)
    with context(database, clock) as ctx, pytest.raises(Conflict, match="still on batch"):
        dispatch.dispatch(ctx, second)


def test_nobody_is_picked_up_from_a_batch_not_yet_dispatched(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, people = _queue_and_plan(database, clock, profile, world, (1,))
    with context(database, clock) as ctx, pytest.raises(Conflict, match="dispatch it"):
        dispatch.pick_up(ctx, batch_id, people[0])


def test_a_transfer_team_dispatches_but_does_not_plan(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, _ = _queue_and_plan(database, clock, profile, world, (1,))
    team = Actor(user_id=None, username="driver", role=Role.TRANSFER, jurisdiction_id=None, jurisdiction_path="")
    with context(database, clock, team) as ctx:
        dispatch.dispatch(ctx, batch_id)
        with pytest.raises(Forbidden):
            planning.plan(ctx, profile)


def test_a_contact_confirmed_on_the_road_is_moved_on_to_hospital_from_the_site(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    batch_id, [person] = _queue_and_plan(database, clock, profile, world, (1,))
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch_id)
        dispatch.pick_up(ctx, batch_id, person)
    identify_contacts(database, clock, [person], TransferCategory.CONFIRMED)
    with context(database, clock) as ctx:
        dispatch.arrive(ctx, profile, batch_id)

    with database.session() as session:
        requests = session.scalars(select(TransferRequest).order_by(TransferRequest.id)).all()
        delivered, onward = requests
        assert (delivered.category, delivered.status) == ("close_contact", "arrived")
        assert (onward.category, onward.destination, onward.status) == ("confirmed", "designated_hospital", "queued")
        assert onward.pickup_text == "百官隔离酒店" and onward.source == "return"


def test_a_county_team_dispatching_a_shared_batch_moves_everyone_on_it(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    ours = make_household(database, clock, world.district.building_a, 1)
    theirs = make_household(database, clock, world.district.building_b, 1)
    identify_contacts(database, clock, ours + theirs, CLOSE)
    with context(database, clock) as ctx:
        planning.plan(ctx, profile)
    with database.session() as session:
        [batch_id] = session.scalars(select(Batch.id)).all()
        county_a = session.get(Jurisdiction, world.district.county_a)
        assert county_a is not None
        team = Actor(None, "county-a-team", Role.TRANSFER, county_a.id, county_a.path)
    with context(database, clock, team) as ctx:
        dispatch.dispatch(ctx, batch_id)

    assert {r.status for r in _requests(database).values()} == {"dispatched"}
    assert {m.status for m in _members(database, batch_id).values()} == {"planned"}
