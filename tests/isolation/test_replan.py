"""A person already at a site who is traced again is kept under the plan of their latest exposure."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from tests.factories import context
from tests.isolation.factories import (
    contact_identified_again,
    deliver,
    end_stay,
    traced_again,
    traced_and_delivered,
    world_with_floor,
)
from tests.transfer.factories import PROFILE, make_household

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event
from bihuan.isolation import service as sites
from bihuan.isolation.models import IsolationStay, SiteTest
from bihuan.isolation.schemas import FloorCreate
from bihuan.protocol import TransferCategory

CLOSE, SECONDARY = TransferCategory.CLOSE_CONTACT, TransferCategory.SECONDARY_CONTACT
EXPOSED = date(2021, 12, 9)  # central days 1, 4, 7, 14: Dec 10, 13, 16, 23
LATER = date(2021, 12, 12)  # central days 1, 4, 7, 14: Dec 13, 16, 19, 26


def _at_site(database: Database, clock: SimulatedClock, exposed: date | None = EXPOSED) -> int:
    """A close contact in a room of the near site's floor A-3 (with no plan when `exposed` is None)."""
    world, _ = world_with_floor(database, clock)
    [person] = make_household(database, clock, world.district.building_a, 1)
    if exposed is None:
        deliver(database, clock, [person], CLOSE)
    else:
        traced_and_delivered(database, clock, [person], exposed)
    return person


def _stay(database: Database, person: int) -> IsolationStay:
    with database.session() as session:
        stay = session.scalar(select(IsolationStay).where(IsolationStay.person_id == person))
        assert stay is not None
        session.expunge(stay)
    return stay


def _tests(database: Database, person: int, status: str) -> list[tuple[date, bool]]:
    with database.session() as session:
        stmt = select(SiteTest.due_on, SiteTest.release).where(SiteTest.person_id == person, SiteTest.status == status)
        return [(due, release) for due, release in session.execute(stmt.order_by(SiteTest.due_on))]


def _resets(database: Database, person: int) -> list[dict[str, Any]]:
    with database.session() as session:
        stmt = select(Event.payload).where(
            Event.person_id == person, Event.kind == EventKind.QUARANTINE_CLOCK_RESET.value
        )
        return [dict(payload) for payload in session.scalars(stmt.order_by(Event.id))]


def test_a_contact_traced_again_with_a_later_exposure_gets_the_later_plan_and_its_tests(
    database: Database, clock: SimulatedClock
) -> None:
    person = _at_site(database, clock)

    traced_again(database, clock, person, LATER)

    stay = _stay(database, person)
    assert stay.last_exposure == LATER
    assert stay.plan["last_exposure_date"] == LATER.isoformat()
    assert _tests(database, person, "due") == [
        (date(2021, 12, 13), False),
        (date(2021, 12, 16), False),
        (date(2021, 12, 19), False),
        (date(2021, 12, 26), True),  # released on the later plan's day 14, not Dec 23
    ]
    assert _tests(database, person, "cancelled") == [(date(2021, 12, 10), False), (date(2021, 12, 23), True)]
    assert _resets(database, person) == [
        {
            "previous_last_exposure": "2021-12-09",
            "last_exposure": "2021-12-12",
            "central_end": "2021-12-26",
            "reason": "traced_again",
        }
    ]


def test_a_contact_traced_again_with_an_earlier_exposure_keeps_their_plan(
    database: Database, clock: SimulatedClock
) -> None:
    person = _at_site(database, clock)
    before = _stay(database, person).plan

    traced_again(database, clock, person, date(2021, 12, 7))

    stay = _stay(database, person)
    assert (stay.last_exposure, stay.plan) == (EXPOSED, before)
    assert [due for due, _ in _tests(database, person, "due")] == [
        date(2021, 12, 10),
        date(2021, 12, 13),
        date(2021, 12, 16),
        date(2021, 12, 23),
    ]
    assert _tests(database, person, "cancelled") == []
    assert _resets(database, person) == []


def test_a_stay_that_arrived_without_a_plan_gets_it_when_tracing_stores_it(
    database: Database, clock: SimulatedClock
) -> None:
    person = _at_site(database, clock, exposed=None)
    assert _stay(database, person).plan == {}
    assert _tests(database, person, "due") == []

    traced_again(database, clock, person, EXPOSED)

    stay = _stay(database, person)
    assert stay.last_exposure == EXPOSED
    assert [due for due, _ in _tests(database, person, "due")] == [
        date(2021, 12, 10),
        date(2021, 12, 13),
        date(2021, 12, 16),
        date(2021, 12, 23),
    ]
    [reset] = _resets(database, person)
    assert (reset["previous_last_exposure"], reset["last_exposure"]) == (None, "2021-12-09")


def test_the_same_event_sent_again_changes_nothing(database: Database, clock: SimulatedClock) -> None:
    person = _at_site(database, clock)
    contact = traced_again(database, clock, person, LATER)
    plan, due = _stay(database, person).plan, _tests(database, person, "due")

    contact_identified_again(database, clock, contact)

    assert _stay(database, person).plan == plan
    assert _tests(database, person, "due") == due
    assert len(_resets(database, person)) == 1


def test_a_person_released_already_is_not_touched(database: Database, clock: SimulatedClock) -> None:
    person = _at_site(database, clock)
    stay = _stay(database, person)
    end_stay(database, clock, stay.id)

    traced_again(database, clock, person, LATER)

    assert (_stay(database, person).last_exposure, _stay(database, person).plan) == (EXPOSED, stay.plan)
    assert _resets(database, person) == []


def test_a_secondary_contact_now_a_close_contact_keeps_their_room_and_follows_the_close_contact_plan(
    database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock)
    with context(database, clock) as ctx:
        floor = FloorCreate(building="A", number=4, category=SECONDARY, room_count=2)
        sites.add_floor(ctx, PROFILE, world.near_site, floor)
    [person] = make_household(database, clock, world.district.building_a, 1)
    traced_and_delivered(database, clock, [person], EXPOSED, SECONDARY)
    room = _stay(database, person).room_id

    # one tracing run: a later secondary contact of one case, a close contact of another
    contacts = [
        traced_again(database, clock, person, LATER, category, announce=False) for category in (SECONDARY, CLOSE)
    ]
    contact_identified_again(database, clock, *contacts)

    stay = _stay(database, person)
    assert (stay.category, stay.room_id, stay.last_exposure) == (SECONDARY.value, room, LATER)
    [reset] = _resets(database, person)
    assert reset["category_now"] == CLOSE.value
    assert reset["central_end"] == "2021-12-26"  # the close-contact plan's 14 days, not the secondary 7
    assert stay.plan["category"] == CLOSE.value
