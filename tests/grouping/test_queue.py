"""The transfer queue (快编组): cases and contacts enter from their events, once each, with the reason they wait."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.factories import context, make_person
from tests.tracing.factories import confirm_case
from tests.transfer.factories import SHANGYU, TransferWorld, identify_contacts, make_household, make_transfer_world

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.grouping import service as queue
from bihuan.grouping.choices import QueueSource, RequestStatus
from bihuan.grouping.models import TransferRequest
from bihuan.protocol import TransferCategory, load_profile


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> TransferWorld:
    return make_transfer_world(database, clock)


def _requests(database: Database) -> list[TransferRequest]:
    with database.session() as session:
        return list(session.scalars(select(TransferRequest).order_by(TransferRequest.id)))


def test_traced_close_and_secondary_contacts_enter_the_queue_for_central_quarantine(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    close = make_household(database, clock, world.district.building_a, 2)
    secondary = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, close, TransferCategory.CLOSE_CONTACT)
    identify_contacts(database, clock, secondary, TransferCategory.SECONDARY_CONTACT)

    requests = {r.person_id: r for r in _requests(database)}
    assert set(requests) == {*close, *secondary}
    assert {requests[p].category for p in close} == {"close_contact"}
    assert requests[secondary[0]].category == "secondary_contact"
    assert {r.destination for r in requests.values()} == {"central_quarantine"}
    assert {r.status for r in requests.values()} == {"queued"}
    assert requests[close[0]].queued_at == clock.now()
    assert requests[close[0]].household_id == requests[close[1]].household_id is not None


def test_a_confirmed_case_is_queued_for_a_designated_hospital(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    [person] = make_household(database, clock, world.district.building_a, 1)
    confirm_case(database, clock, person, world.district.building_a)

    [request] = _requests(database)
    assert (request.person_id, request.category, request.destination) == (person, "confirmed", "designated_hospital")
    assert request.source == QueueSource.CASE_CONFIRMED
    with database.session() as session:
        kinds = session.scalars(select(Event.kind).where(Event.person_id == person).order_by(Event.id)).all()
    assert kinds.index("case_confirmed") < kinds.index("transfer_queued")


def test_general_contacts_are_not_moved(database: Database, clock: SimulatedClock, world: TransferWorld) -> None:
    people = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, people, TransferCategory.GENERAL_CONTACT)
    assert _requests(database) == []


def test_the_9th_edition_leaves_secondary_contacts_at_home(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    [person] = make_household(database, clock, world.district.building_a, 1)
    items = [queue.QueueItem(person, TransferCategory.SECONDARY_CONTACT, QueueSource.BY_HAND)]
    with context(database, clock) as ctx:
        outcome = queue.enqueue(ctx, items, load_profile("cn-9th-2022"))
    assert outcome.not_transferred == [person] and outcome.queued == []


def test_a_contact_reported_again_is_queued_once(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    people = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, people, TransferCategory.CLOSE_CONTACT)
    clock.advance(timedelta(hours=1))
    identify_contacts(database, clock, people, TransferCategory.CLOSE_CONTACT, case_id=2)
    identify_contacts(database, clock, people, TransferCategory.SECONDARY_CONTACT, case_id=3)

    requests = _requests(database)
    assert len(requests) == 2
    assert {r.category for r in requests} == {"close_contact"}
    assert {r.queued_at for r in requests} == {clock.now() - timedelta(hours=1)}


def test_a_queued_contact_who_becomes_a_case_waits_for_the_hospital_instead(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    [person] = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, [person], TransferCategory.CLOSE_CONTACT)
    confirm_case(database, clock, person, world.district.building_a)

    [request] = _requests(database)
    assert (request.category, request.destination, request.status) == ("confirmed", "designated_hospital", "queued")


def test_the_pickup_is_the_household_address_and_the_old_and_young_are_vulnerable(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    births = [date(1990, 5, 1), date(2015, 5, 1), date(1940, 5, 1)]
    adult, child, elder = make_household(database, clock, world.district.building_a, 3, births=births)
    identify_contacts(database, clock, [adult, child, elder], TransferCategory.CLOSE_CONTACT)

    requests = {r.person_id: r for r in _requests(database)}
    assert (requests[adult].pickup_lat, requests[adult].pickup_lon) == SHANGYU
    assert requests[adult].pickup_text.startswith("龙山路")
    assert [requests[p].vulnerable for p in (adult, child, elder)] == [False, True, True]


def test_a_person_without_any_coordinates_is_queued_without_a_pickup(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    person = make_person(database, clock, world.district.building_a).id
    identify_contacts(database, clock, [person], TransferCategory.CLOSE_CONTACT)
    [request] = _requests(database)
    assert request.pickup_lat is None and request.status == RequestStatus.QUEUED


def test_a_hand_made_request_naming_someone_twice_or_unknown_is_refused(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    [person] = make_household(database, clock, world.district.building_a, 1)
    twice = [queue.QueueItem(person, TransferCategory.CLOSE_CONTACT, QueueSource.BY_HAND)] * 2
    unknown = [queue.QueueItem(person + 999, TransferCategory.CLOSE_CONTACT, QueueSource.BY_HAND)]
    with context(database, clock) as ctx:
        with pytest.raises(FieldError) as listed_twice:
            queue.check_queue_items(ctx, twice)
        with pytest.raises(FieldError) as not_registered:
            queue.check_queue_items(ctx, unknown)
    assert listed_twice.value.field == "items[1].person_id" and "twice" in listed_twice.value.reason
    assert not_registered.value.field == "items[0].person_id" and "no person" in not_registered.value.reason
    assert _requests(database) == []


def test_every_queued_person_has_a_transfer_queued_event(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    people = make_household(database, clock, world.district.building_a, 3)
    identify_contacts(database, clock, people, TransferCategory.CLOSE_CONTACT)
    with database.session() as session:
        queued = session.scalars(select(Event.person_id).where(Event.kind == EventKind.TRANSFER_QUEUED)).all()
    assert sorted(queued) == sorted(people)


def test_someone_already_at_a_quarantine_site_is_not_moved_again_when_traced_again(
    database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    [person] = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, [person], TransferCategory.CLOSE_CONTACT)
    [request] = _requests(database)
    _deliver(database, clock, request.id, (30.04, 120.87, "百官隔离酒店"))

    identify_contacts(database, clock, [person], TransferCategory.CLOSE_CONTACT, case_id=9)
    identify_contacts(database, clock, [person], TransferCategory.SECONDARY_CONTACT, case_id=10)
    assert [r.status for r in _requests(database)] == ["arrived"]

    identify_contacts(database, clock, [person], TransferCategory.CONFIRMED, case_id=11)
    delivered, onward = _requests(database)
    assert delivered.status == "arrived"
    assert (onward.category, onward.status, onward.pickup_text) == ("confirmed", "queued", "百官隔离酒店")


def _deliver(database: Database, clock: SimulatedClock, request_id: int, site: tuple[float, float, str]) -> None:
    """The request carried to a site, as transfer's arrival leaves it."""
    with context(database, clock) as ctx:
        queue.mark_planned(ctx, {request_id: 1})
        queue.mark(ctx, [request_id], RequestStatus.ARRIVED, batch_id=1, place=site)
