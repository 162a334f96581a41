"""When transfers go wrong: vehicles on the road turn to another site, breakdowns split no one from
their place, and people who had already left a batch are not pulled back by its failure."""

from __future__ import annotations

from sqlalchemy import select
from tests.factories import context
from tests.transfer.factories import TransferWorld, add_vehicle, identify_contacts, make_household

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.grouping.models import TransferRequest
from bihuan.protocol import ProtocolProfile, TransferCategory
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.service import dispatch, failures, planning

CLOSE = TransferCategory.CLOSE_CONTACT


def _plan(database: Database, clock: SimulatedClock, profile: ProtocolProfile) -> None:
    with context(database, clock) as ctx:
        planning.plan(ctx, profile)


def _requests(database: Database) -> dict[int, TransferRequest]:
    with database.session() as session:
        rows = list(session.scalars(select(TransferRequest).where(TransferRequest.open_person_id.is_not(None))))
        session.expunge_all()
    return {r.person_id: r for r in rows}


def _batch_of(database: Database, person_id: int) -> Batch:
    with database.session() as session:
        request = session.scalar(select(TransferRequest).where(TransferRequest.open_person_id == person_id))
        assert request is not None and request.batch_id is not None
        batch = session.get(Batch, request.batch_id)
        assert batch is not None
        session.expunge(batch)
        return batch


def test_a_vehicle_on_the_road_to_a_site_reported_full_turns_to_another_site(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    family = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, family, CLOSE)
    _plan(database, clock, profile)
    batch = _batch_of(database, family[0])
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch.id)
        dispatch.pick_up(ctx, batch.id, family[0])
        returned, cancelled, _ = failures.site_full(ctx, profile, world.near_site, "no staff")

    assert (returned, cancelled) == ([], [])
    turned = _batch_of(database, family[0])
    assert (turned.id, turned.status, turned.site_id) == (batch.id, "dispatched", world.far_site)
    assert {r.status for r in _requests(database).values()} == {"picked_up", "dispatched"}


def test_a_household_member_picked_up_before_a_breakdown_is_collected_where_the_vehicle_stopped(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    aboard, at_home = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, [aboard, at_home], CLOSE)
    _plan(database, clock, profile)
    batch = _batch_of(database, aboard)
    add_vehicle(database, clock)
    breakdown = (30.2, 121.0)
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, batch.id)
        dispatch.pick_up(ctx, batch.id, aboard)
        failures.vehicle_failed(ctx, profile, world.coach, "axle", where=breakdown)

    def stop_of(person: int) -> tuple[float, float]:
        return next((s["lat"], s["lon"]) for s in _batch_of(database, person).stops if person in s["person_ids"])

    assert stop_of(aboard) == breakdown
    assert stop_of(at_home) != breakdown


def test_a_breakdown_does_not_pull_back_someone_who_had_already_left_its_batch(
    database: Database, clock: SimulatedClock, profile: ProtocolProfile, world: TransferWorld
) -> None:
    [person] = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, [person], CLOSE)
    _plan(database, clock, profile)
    coach_batch = _batch_of(database, person)
    identify_contacts(database, clock, [person], TransferCategory.CONFIRMED)  # now a case: re-grouped
    _plan(database, clock, profile)
    ambulance_batch = _batch_of(database, person)
    with context(database, clock) as ctx:
        dispatch.dispatch(ctx, ambulance_batch.id)
        dispatch.pick_up(ctx, ambulance_batch.id, person)
        returned, cancelled, _ = failures.vehicle_failed(ctx, profile, world.coach, "flat tyre")

    assert ambulance_batch.vehicle_id == world.ambulance and coach_batch.id in cancelled
    assert returned == []
    request = _requests(database)[person]
    assert (request.status, request.batch_id, request.category) == ("picked_up", ambulance_batch.id, "confirmed")
    with database.session() as session:
        old = session.scalar(select(BatchMember).where(BatchMember.batch_id == coach_batch.id))
        assert old is not None and old.status == "returned"
