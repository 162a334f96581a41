"""A secondary contact goes home only when the close contact they were traced through tested negative on
their first tests (the 8th edition's release condition for 次密接)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from tests.factories import context
from tests.isolation.factories import traced_and_delivered, world_with_floor
from tests.isolation.release_factories import earlier_tests_negative, release_test_resulted
from tests.transfer.factories import PROFILE, make_household

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation import service as sites
from bihuan.isolation.models import IsolationStay, SiteTest
from bihuan.isolation.schemas import FloorCreate
from bihuan.isolation.service import release
from bihuan.protocol import TransferCategory
from bihuan.tracing.models import TracedContact

CLOSE, SECONDARY = TransferCategory.CLOSE_CONTACT, TransferCategory.SECONDARY_CONTACT
EXPOSED = date(2021, 12, 9)
SECONDARY_LAST_DAY = date(2021, 12, 16)  # cn-8th: 7 central days for a secondary contact


@pytest.fixture
def pair(database: Database, clock: SimulatedClock) -> tuple[int, int, int]:
    """A close contact and a secondary contact traced through them, both at the near site: (site, close, secondary)."""
    world, _ = world_with_floor(database, clock)
    with context(database, clock) as ctx:
        floor = FloorCreate(building="A", number=4, category=SECONDARY, room_count=2)
        sites.add_floor(ctx, PROFILE, world.near_site, floor)
    [close] = make_household(database, clock, world.district.building_a, 1)
    [secondary] = make_household(database, clock, world.district.building_a, 1)
    traced_and_delivered(database, clock, [close], EXPOSED)
    traced_and_delivered(database, clock, [secondary], EXPOSED, SECONDARY)
    with context(database, clock) as ctx:
        ctx.session.execute(
            update(TracedContact).where(TracedContact.person_id == secondary).values(reasons=[f"via:{close}:household"])
        )
    stay = _stay(database, secondary)
    release_test_resulted(database, clock, stay, [("negative", "A")])
    clock.set(datetime(2021, 12, 16, 10, 0, tzinfo=UTC))
    return world.near_site, close, secondary


def _stay(database: Database, person: int) -> int:
    with database.session() as session:
        stay = session.scalar(select(IsolationStay.id).where(IsolationStay.person_id == person))
    assert stay is not None
    return stay


def _release(database: Database, clock: SimulatedClock, site: int, person: int):  # type: ignore[no-untyped-def]
    with context(database, clock) as ctx:
        return release.release(ctx, PROFILE, site, [_stay(database, person)], SECONDARY_LAST_DAY)


def test_a_secondary_contact_waits_for_the_close_contacts_first_tests(
    database: Database, clock: SimulatedClock, pair: tuple[int, int, int]
) -> None:
    site, close, secondary = pair

    outcome = _release(database, clock, site, secondary)

    assert outcome.released == []
    assert list(outcome.refused.values()) == [
        f"the linked close contact's first tests (person {close}) are not all negative yet"
    ]


def test_a_secondary_contact_goes_home_once_the_close_contacts_first_two_tests_are_negative(
    database: Database, clock: SimulatedClock, pair: tuple[int, int, int]
) -> None:
    site, close, secondary = pair
    earlier_tests_negative(database, clock, _stay(database, close))

    assert _release(database, clock, site, secondary).released == [_stay(database, secondary)]


def test_a_secondary_contact_stays_when_the_close_contact_tested_positive(
    database: Database, clock: SimulatedClock, pair: tuple[int, int, int]
) -> None:
    site, close, secondary = pair
    with context(database, clock) as ctx:
        first = ctx.session.scalar(select(SiteTest).where(SiteTest.person_id == close).order_by(SiteTest.due_on))
        assert first is not None
        first.status, first.result = "resulted", "positive"

    outcome = _release(database, clock, site, secondary)

    assert list(outcome.refused.values()) == [f"the linked close contact (person {close}) tested positive"]
