"""A positive inside a site (交叉感染调查): the right neighbours flagged, tested again, their clocks restarted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories import context, login, make_user
from tests.isolation.factories import (
    deliver,
    end_stay,
    give_plans,
    room_labels,
    stays_at,
    world_with_floor,
)
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.tracing.factories import confirm_case
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.core.errors import NotFound
from bihuan.core.events import Event, record
from bihuan.isolation import service as sites
from bihuan.isolation.choices import SiteTestReason, SiteTestStatus
from bihuan.isolation.cross_infection_schemas import CrossInfectionDetail
from bihuan.isolation.models import CrossInfection, IsolationStay, SiteRoom, SiteTest
from bihuan.isolation.schemas import FloorCreate, RoomIn
from bihuan.isolation.service import cross_infection_reads as cross_infection
from bihuan.isolation.service.rooms import Admission
from bihuan.people.models import Jurisdiction
from bihuan.protocol import NeighbourRule, TransferCategory

CLOSE = TransferCategory.CLOSE_CONTACT
SECONDARY = TransferCategory.SECONDARY_CONTACT
ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2021, 12, 10)  # the clock's local day: the investigation opens on it
EXPOSED = date(2021, 12, 5)  # everyone's last exposure before the case
SAMPLED = date(2021, 12, 10)  # the case's first positive sample
SAME_ROOM, ADJACENT, SAME_FLOOR = NeighbourRule.SAME_ROOM, NeighbourRule.ADJACENT_ROOM, NeighbourRule.SAME_FLOOR
pytestmark = pytest.mark.usefixtures("cheap_argon2")


@dataclass(frozen=True)
class Floors:
    world: TransferWorld
    case: int  # a child, in A-3-303 with their parent (the carer)
    carer: int
    rooms: dict[str, int]  # room label -> the stay of the one person in it (the case's room: the case)


def _put_in_room(database: Database, clock: SimulatedClock, site: int, number: str, people: list[int]) -> None:
    with context(database, clock) as ctx:
        room = ctx.session.scalar(select(SiteRoom.id).where(SiteRoom.site_id == site, SiteRoom.number == number))
        assert room is not None
        for person in people:
            stay = ctx.session.scalar(select(IsolationStay.id).where(IsolationStay.open_person_id == person))
            assert stay is not None
            sites.move_to_room(ctx, site, stay, room)


def floors_around_a_case(database: Database, clock: SimulatedClock) -> Floors:
    """Floor A-3 (rooms 301-306, doors in that order) with a child and their parent in 303; floors A-2 and
    A-4 with the rooms in positions 2-4 and A-5 with the room over 403; a secondary contacts' floor B-3;
    everyone exposed on 5 December; the person in 305 released."""
    world, _ = world_with_floor(database, clock)
    site = world.near_site
    child, parent = make_household(
        database, clock, world.district.building_a, 2, births=[date(2015, 1, 1), date(1980, 1, 1)]
    )
    deliver(database, clock, [child, parent], CLOSE)
    _put_in_room(database, clock, site, "303", [child, parent])
    with context(database, clock) as ctx:
        for number, numbers in ((2, ["202", "203", "204"]), (4, ["402", "403", "404"]), (5, ["503"])):
            floor = FloorCreate(
                building="A",
                number=number,
                category=CLOSE,
                rooms=[RoomIn(number=n, position=int(n[-1])) for n in numbers],
            )
            sites.add_floor(ctx, PROFILE, site, floor)
        secondary = FloorCreate(building="B", number=3, category=SECONDARY, rooms=[RoomIn(number="303", position=3)])
        sites.add_floor(ctx, PROFILE, site, secondary)
    singles = [make_household(database, clock, world.district.building_a, 1)[0] for _ in range(12)]
    deliver(database, clock, singles, CLOSE)
    deliver(database, clock, make_household(database, clock, world.district.building_a, 1), SECONDARY)
    give_plans(database, clock, [s.stay_id for s in stays_at(database, site)], EXPOSED)
    rooms = {label: ref.stay_id for label, ref in room_labels(database, site).items()}
    assert len(rooms) == 14  # every room taken: 13 close-contact rooms and B-3-303
    end_stay(database, clock, rooms.pop("A-3-305"))
    return Floors(world, child, _stay_of(database, parent), rooms)


def _stay_of(database: Database, person: int) -> int:
    with database.session() as session:
        stay = session.scalar(select(IsolationStay.id).where(IsolationStay.person_id == person))
        assert stay is not None
        return stay


def _investigation(database: Database, clock: SimulatedClock) -> CrossInfectionDetail:
    with context(database, clock) as ctx:
        [found] = cross_infection.list_investigations(ctx)
        return cross_infection.get_investigation(ctx, PROFILE, found.id, ZONE)


def _tests(database: Database, stay: int, reason: SiteTestReason, status: SiteTestStatus) -> list[date]:
    with database.session() as session:
        return sorted(
            session.scalars(
                select(SiteTest.due_on).where(
                    SiteTest.stay_id == stay, SiteTest.reason == reason.value, SiteTest.status == status.value
                )
            )
        )


def _events(database: Database, kind: EventKind) -> list[Event]:
    with database.session() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind.value).order_by(Event.id)))


def test_a_case_in_a_stay_flags_its_room_the_rooms_beside_over_and_under_it_and_the_rest_of_its_floor(
    database: Database, clock: SimulatedClock
) -> None:
    floors = floors_around_a_case(database, clock)
    confirm_case(database, clock, floors.case, floors.world.district.building_a, onset=None, sampled=SAMPLED)

    detail = _investigation(database, clock)

    assert sorted((n.room, n.relation) for n in detail.neighbours) == [
        ("A-2-203", ADJACENT),  # the room under the case's
        ("A-3-301", SAME_FLOOR),
        ("A-3-302", ADJACENT),
        ("A-3-303", SAME_ROOM),  # the parent who cares for the child
        ("A-3-304", ADJACENT),
        ("A-3-306", SAME_FLOOR),  # 305 was released: not flagged
        ("A-4-403", ADJACENT),  # the room over it; A-5-503, two floors up, is not
    ]
    assert [n.stay_id for n in detail.neighbours if n.relation == SAME_ROOM] == [floors.carer]
    assert detail.room == "A-3-303" and detail.exposure_on == SAMPLED and detail.status == "open"
    assert detail.counts == {"same_room": 1, "adjacent_room": 4, "same_floor": 2}
    [opened] = _events(database, EventKind.CROSS_INFECTION_OPENED)
    assert opened.refs["investigation"] == detail.id and opened.refs["case"] == detail.case_id
    assert opened.payload["counts"] == detail.counts


def test_every_flagged_neighbour_gets_the_profiles_extra_tests_and_nobody_else_does(
    database: Database, clock: SimulatedClock
) -> None:
    floors = floors_around_a_case(database, clock)
    confirm_case(database, clock, floors.case, floors.world.district.building_a, onset=None, sampled=SAMPLED)

    detail = _investigation(database, clock)

    extra = [TODAY + timedelta(days=d) for d in PROFILE.sites.cross_infection.extra_test_days]
    assert extra == [date(2021, 12, 10), date(2021, 12, 12)]
    for neighbour in detail.neighbours:
        assert [(t.due_on, t.status) for t in neighbour.tests] == [(day, SiteTestStatus.DUE) for day in extra]
    for room in ("A-2-202", "A-2-204", "A-4-402", "A-5-503", "B-3-303"):
        assert _tests(database, floors.rooms[room], SiteTestReason.CROSS_INFECTION, SiteTestStatus.DUE) == []


def test_the_clocks_of_the_room_and_adjacent_rooms_restart_from_the_cases_sample_and_the_floors_do_not(
    database: Database, clock: SimulatedClock
) -> None:
    floors = floors_around_a_case(database, clock)
    confirm_case(database, clock, floors.case, floors.world.district.building_a, onset=None, sampled=SAMPLED)

    neighbours = {n.room: n for n in _investigation(database, clock).neighbours if n.stay_id != floors.carer}

    old_days = [date(2021, 12, 6), date(2021, 12, 9), date(2021, 12, 12), date(2021, 12, 19)]
    for room in ("A-3-302", "A-3-304", "A-2-203", "A-4-403"):
        restarted = neighbours[room]
        assert (restarted.clock_reset, restarted.previous_last_exposure, restarted.last_exposure) == (
            True,
            EXPOSED,
            SAMPLED,
        )
        assert restarted.central_end == date(2021, 12, 24)  # 14 central days from the 10th, not the 5th
        stay = floors.rooms[room]
        assert _tests(database, stay, SiteTestReason.PLAN, SiteTestStatus.DUE) == [
            date(2021, 12, 11),
            date(2021, 12, 14),
            date(2021, 12, 17),
            date(2021, 12, 24),
        ]
        assert _tests(database, stay, SiteTestReason.PLAN, SiteTestStatus.CANCELLED) == old_days
    for room in ("A-3-301", "A-3-306"):
        kept = neighbours[room]
        assert (kept.clock_reset, kept.last_exposure, kept.central_end) == (False, EXPOSED, date(2021, 12, 19))
        assert _tests(database, floors.rooms[room], SiteTestReason.PLAN, SiteTestStatus.DUE) == old_days
    resets = _events(database, EventKind.QUARANTINE_CLOCK_RESET)
    assert sorted(e.refs["stay"] for e in resets) == sorted(
        [floors.carer] + [floors.rooms[r] for r in ("A-3-302", "A-3-304", "A-2-203", "A-4-403")]
    )
    assert {(e.payload["previous_last_exposure"], e.payload["central_end"]) for e in resets} == {
        ("2021-12-05", "2021-12-24")
    }


def _secondary_next_door(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, int, int]:
    """Two secondary contacts in B-3-301 and B-3-302 (doors side by side), exposed on 5 December:
    the world, the one in 301 and the stay of the one in 302."""
    world, _ = world_with_floor(database, clock)
    with context(database, clock) as ctx:
        floor = FloorCreate(
            building="B",
            number=3,
            category=SECONDARY,
            rooms=[RoomIn(number="301", position=1), RoomIn(number="302", position=2)],
        )
        sites.add_floor(ctx, PROFILE, world.near_site, floor)
    deliver(
        database, clock, [make_household(database, clock, world.district.building_a, 1)[0] for _ in range(2)], SECONDARY
    )
    give_plans(database, clock, [s.stay_id for s in stays_at(database, world.near_site)], EXPOSED)
    rooms = room_labels(database, world.near_site)
    return world, rooms["B-3-301"].person_id, rooms["B-3-302"].stay_id


def test_a_secondary_contact_next_door_to_a_case_restarts_on_the_close_contact_plan(
    database: Database, clock: SimulatedClock
) -> None:
    world, case, next_door = _secondary_next_door(database, clock)
    assert PROFILE.sites.cross_infection.reset_plan_as == CLOSE.value

    confirm_case(database, clock, case, world.district.building_a, onset=None, sampled=SAMPLED)

    with database.session() as session:
        stay = session.get(IsolationStay, next_door)
        assert stay is not None
        plan, category = dict(stay.plan or {}), stay.category
        release = session.scalar(
            select(SiteTest).where(
                SiteTest.stay_id == next_door, SiteTest.release.is_(True), SiteTest.status == SiteTestStatus.DUE.value
            )
        )
    assert category == SECONDARY.value  # still on the secondary contacts' floor, managed as a close contact
    assert plan["category"] == CLOSE.value
    assert [(p["phase"], p["start"], p["end"]) for p in plan["phases"]] == [
        ("central", "2021-12-11", "2021-12-24"),  # 14 central days, not the secondary contact's 7
        ("home_monitoring", "2021-12-25", "2021-12-31"),
    ]
    [last] = [t for t in plan["tests"] if t["release"]]
    assert (last["on"], last["samples"], last["reagents"]) == ("2021-12-24", 2, 2)
    assert release is not None and (release.due_on, release.samples, release.reagents) == (date(2021, 12, 24), 2, 2)
    assert _tests(database, next_door, SiteTestReason.PLAN, SiteTestStatus.DUE) == [
        date(2021, 12, 11),
        date(2021, 12, 14),
        date(2021, 12, 17),
        date(2021, 12, 24),
    ]


def _three_in_a_row(
    database: Database, clock: SimulatedClock, buildings: str = "aaa"
) -> tuple[TransferWorld, list[int], list[int]]:
    """Three close contacts in rooms 301-303 of floor A-3, from buildings a or b (counties A and B), exposed
    on 5 December: the world, the people as made, and the people by room (301, 302, 303)."""
    world, _ = world_with_floor(database, clock, rooms=3)
    district = world.district
    home = {"a": district.building_a, "b": district.building_b}
    people = [make_household(database, clock, home[b], 1)[0] for b in buildings]
    deliver(database, clock, people, CLOSE)
    give_plans(database, clock, [s.stay_id for s in stays_at(database, world.near_site)], EXPOSED)
    rooms = room_labels(database, world.near_site)
    return world, people, [rooms[f"A-3-30{n}"].person_id for n in (1, 2, 3)]


def _confirm(database: Database, clock: SimulatedClock, person: int) -> int:
    with database.session() as session:
        where = session.scalar(select(IsolationStay.jurisdiction_id).where(IsolationStay.open_person_id == person))
    assert where is not None
    return confirm_case(database, clock, person, where, onset=None, sampled=SAMPLED)


def test_the_same_case_confirmed_twice_opens_one_investigation_and_schedules_nothing_more(
    database: Database, clock: SimulatedClock
) -> None:
    _, _, (case, *_) = _three_in_a_row(database, clock)
    case_id = _confirm(database, clock, case)
    with context(database, clock) as ctx:  # the same event sent again
        record(ctx, EventKind.CASE_CONFIRMED, person_id=case, subject_type="case", subject_id=case_id)

    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CrossInfection)) == 1
        extra = session.scalar(
            select(func.count()).select_from(SiteTest).where(SiteTest.reason == SiteTestReason.CROSS_INFECTION.value)
        )
    assert extra == 2 * len(PROFILE.sites.cross_infection.extra_test_days)
    assert len(_events(database, EventKind.CROSS_INFECTION_OPENED)) == 1
    assert len(_events(database, EventKind.QUARANTINE_CLOCK_RESET)) == 1  # the one next door; 303 is same floor


def test_a_case_confirmed_days_after_its_first_positive_sample_restarts_its_neighbours_from_the_opening_day(
    database: Database, clock: SimulatedClock
) -> None:
    _, _, (case, next_door, _) = _three_in_a_row(database, clock)
    with database.session() as session:
        where = session.scalar(select(IsolationStay.jurisdiction_id).where(IsolationStay.open_person_id == case))
    assert where is not None
    sampled = TODAY - timedelta(days=3)  # the case stayed in its room until it was confirmed today

    confirm_case(database, clock, case, where, onset=None, sampled=sampled)

    detail = _investigation(database, clock)
    [restarted] = [n for n in detail.neighbours if n.person_id == next_door]
    assert detail.exposure_on == TODAY
    assert (restarted.clock_reset, restarted.previous_last_exposure, restarted.last_exposure) == (True, EXPOSED, TODAY)
    assert restarted.central_end == date(2021, 12, 24)  # 14 days from the 10th, not from the 7th
    [reset] = _events(database, EventKind.QUARANTINE_CLOCK_RESET)
    assert (reset.payload["last_exposure"], reset.payload["central_end"]) == ("2021-12-10", "2021-12-24")
    [opened] = _events(database, EventKind.CROSS_INFECTION_OPENED)
    assert opened.payload["exposure_on"] == "2021-12-10"


def _admit(database: Database, clock: SimulatedClock, site: int, category: str, people: list[int], where: int) -> None:
    with context(database, clock) as ctx:
        sites.admit_people(ctx, PROFILE, site, category, [Admission(p, where, None, False) for p in people])


def test_a_case_at_a_designated_hospital_opens_no_investigation(database: Database, clock: SimulatedClock) -> None:
    world, _ = world_with_floor(database, clock)
    building = world.district.building_a
    patients = [make_household(database, clock, building, 1)[0] for _ in range(2)]
    _admit(database, clock, world.hospital, TransferCategory.CONFIRMED.value, patients, building)

    confirm_case(database, clock, patients[0], building, onset=None, sampled=SAMPLED)

    with context(database, clock) as ctx:
        assert cross_infection.list_investigations(ctx) == []
    assert _events(database, EventKind.CROSS_INFECTION_OPENED) == []


def test_at_a_site_counted_without_rooms_everyone_of_the_cases_category_there_is_flagged_as_its_floor(
    database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock)
    building = world.district.building_a
    secondary = [make_household(database, clock, building, 1)[0] for _ in range(3)]
    _admit(database, clock, world.near_site, SECONDARY.value, secondary, building)  # no B floors: no rooms
    close = make_household(database, clock, building, 1)
    deliver(database, clock, close, CLOSE)

    confirm_case(database, clock, secondary[0], building, onset=None, sampled=SAMPLED)

    detail = _investigation(database, clock)
    assert detail.room is None
    assert sorted((n.person_id, n.relation) for n in detail.neighbours) == [(p, SAME_FLOOR) for p in secondary[1:]]


def _county_actor(database: Database, county: int) -> Actor:
    with database.session() as session:
        found = session.get(Jurisdiction, county)
        assert found is not None
        return Actor(None, f"county-{county}", Role.SITE_MANAGER, found.id, found.path)


def test_a_county_sees_only_its_own_neighbours_and_the_cases_name_only_when_the_case_is_its_own(
    database: Database, clock: SimulatedClock
) -> None:
    world, (case, theirs, ours), _ = _three_in_a_row(database, clock, "aba")
    _confirm(database, clock, case)

    with context(database, clock, _county_actor(database, world.district.county_b)) as ctx:
        [listed] = cross_infection.list_investigations(ctx)
        seen_by_b = cross_infection.get_investigation(ctx, PROFILE, listed.id, ZONE)
    with context(database, clock, _county_actor(database, world.district.county_a)) as ctx:
        seen_by_a = cross_infection.get_investigation(ctx, PROFILE, listed.id, ZONE)

    assert (listed.case_name, listed.case_person_id) == (None, None)  # the case is county A's
    assert [n.person_id for n in seen_by_b.neighbours] == [theirs]
    assert sum(seen_by_b.counts.values()) == 1
    assert [n.person_id for n in seen_by_a.neighbours] == [ours]
    assert seen_by_a.case_person_id == case and seen_by_a.case_name
    assert all(n.resident_id_masked and "*" in n.resident_id_masked for n in seen_by_a.neighbours)


def test_a_county_with_none_of_the_sites_people_in_it_sees_no_investigation(
    database: Database, clock: SimulatedClock
) -> None:
    world, (case, *_), _ = _three_in_a_row(database, clock)
    _confirm(database, clock, case)
    with context(database, clock, _county_actor(database, world.district.county_b)) as ctx:
        assert cross_infection.list_investigations(ctx) == []
        [investigation_id] = ctx.session.scalars(select(CrossInfection.id)).all()
        with pytest.raises(NotFound):
            cross_infection.get_investigation(ctx, PROFILE, investigation_id, ZONE)


def test_a_site_manager_reads_an_investigation_and_closes_it_once_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    world, _, (case, *_) = _three_in_a_row(database, clock)
    _confirm(database, clock, case)
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))

    listed = client.get(f"/api/cross-infections?site_id={world.near_site}&status=open", headers=manager).json()
    [summary] = listed["data"]
    detail = client.get(f"/api/cross-infections/{summary['id']}", headers=manager).json()
    closed = client.post(f"/api/cross-infections/{summary['id']}/close", json={"note": "邻室复核阴性"}, headers=manager)
    again = client.post(f"/api/cross-infections/{summary['id']}/close", json={"note": ""}, headers=manager)

    assert listed["count"] == 1 and summary["case_person_id"] == case
    assert [(n["room"], n["relation"], n["clock_reset"]) for n in detail["neighbours"]] == [
        ("A-3-302", "adjacent_room", True),
        ("A-3-303", "same_floor", False),
    ]
    assert [t["due_on"] for t in detail["neighbours"][0]["tests"]] == ["2021-12-10", "2021-12-12"]
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["note"]) == ("closed", "邻室复核阴性")
    assert again.status_code == 409 and "closed already" in again.text
    assert client.get("/api/cross-infections?status=open", headers=manager).json()["count"] == 0
    assert client.get("/api/cross-infections?status=closed", headers=manager).json()["count"] == 1
    assert client.get("/api/cross-infections?status=shut", headers=manager).status_code == 422
    assert client.get("/api/cross-infections/999999", headers=manager).status_code == 404
