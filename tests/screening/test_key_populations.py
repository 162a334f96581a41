"""Key populations (重点人群): enrolment, the profile's schedule, and who is overdue (应检未检).

cn-8th-2021: quarantine-site staff every 1 day, medical staff every 7 days. T0 = 2021-12-10 00:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.conftest import DRILL_START
from tests.factories import context, login, make_user
from tests.screening.test_metrics_world import World, cheap_argon2  # noqa: F401 (fixture)

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Actor, Ctx
from bihuan.core.db import Database
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.events import Event
from bihuan.people.schemas import Page
from bihuan.protocol import load_profile
from bihuan.screening.choices import KeyPopulation, SampleKind, TubeKind
from bihuan.screening.models import KeyPopulationMember
from bihuan.screening.schemas.metrics import KeyPopulationEnrol
from bihuan.screening.service import key_populations as kp

T0 = DRILL_START
H = timedelta(hours=1)
D = timedelta(days=1)
CN8 = load_profile("cn-8th-2021")
STAFF = KeyPopulation.QUARANTINE_SITE_STAFF
MEDICAL = KeyPopulation.MEDICAL_STAFF
PAGE = Page(page=1, page_size=50)


@dataclass
class Staff:
    world: World
    nurse: int  # county A, quarantine-site staff
    guard: int  # county A, quarantine-site staff
    doctor: int  # county A, medical staff
    driver: int  # county B, quarantine-site staff

    @property
    def clock(self) -> SimulatedClock:
        return self.world.clock

    def enrol(self, person: int, population: KeyPopulation, actor: Actor | None = None) -> tuple[int, bool]:
        with context(self.world.database, self.clock, actor or SYSTEM) as ctx:
            member, created = kp.enrol(ctx, KeyPopulationEnrol(person_id=person, population=population))
            return member.id, created

    def sample(self, person: int, at: timedelta, *, duplicate: bool = False) -> None:
        self.world.tube(
            None,
            [person],
            T0 + at,
            kind=TubeKind.SINGLE,
            sample_kind=SampleKind.KEY_POPULATION,
            duplicates=(person,) if duplicate else (),
        )

    def overdue(self, actor: Actor | None = None, population: KeyPopulation | None = None) -> dict[int, float]:
        with context(self.world.database, self.clock, actor or SYSTEM) as ctx:
            rows, count = kp.overdue_members(ctx, CN8, PAGE, population=population)
        assert count == len(rows)
        return {row.person_id: row.overdue_hours for row in rows}


@pytest.fixture
def staff(database: Database, clock: SimulatedClock) -> Staff:
    world = World(database, clock)
    d = world.district
    found = Staff(
        world,
        nurse=world.person(d.building_a, "护士"),
        guard=world.person(d.building_a, "保安"),
        doctor=world.person(d.building_a, "医生"),
        driver=world.person(d.building_b, "司机"),
    )
    for person in (found.nurse, found.guard, found.driver):
        found.enrol(person, STAFF)
    found.enrol(found.doctor, MEDICAL)
    return found


def member_of(ctx: Ctx, person: int) -> int:
    member = ctx.session.scalar(select(KeyPopulationMember.id).where(KeyPopulationMember.person_id == person))
    assert member is not None
    return member


def county_actor(staff: Staff, county: str) -> Actor:
    d = staff.world.district
    jurisdiction = d.county_a if county == "330604" else d.county_b
    return Actor(None, f"county-{county}", Role.COMMANDER, jurisdiction, f"33/3306/{county}/")


def test_enrolling_records_one_event_and_enrolling_again_changes_nothing(staff: Staff) -> None:
    member, created = staff.enrol(staff.nurse, STAFF)
    assert not created
    with context(staff.world.database, staff.clock) as ctx:
        events = ctx.session.scalars(
            select(Event).where(Event.kind == EventKind.KEY_POPULATION_ENROLLED.value, Event.person_id == staff.nurse)
        ).all()
        assert len(events) == 1
        assert events[0].payload == {"population": "quarantine_site_staff", "since": "2021-12-10"}
        assert events[0].subject_id == member
        assert kp.member_public(kp.get_member(ctx, member), CN8).interval_days == 1


def test_nobody_is_overdue_within_the_first_interval(staff: Staff) -> None:
    staff.clock.set(T0 + 23 * H)
    assert staff.overdue() == {}


def test_a_member_never_tested_since_enrolment_is_overdue_after_one_interval(staff: Staff) -> None:
    staff.clock.set(T0 + D + 3 * H)
    assert staff.overdue() == {staff.nurse: 3.0, staff.guard: 3.0, staff.driver: 3.0}  # the doctor has 7 days
    with context(staff.world.database, staff.clock) as ctx:
        (row, *_), _ = kp.overdue_members(ctx, CN8, PAGE)
    assert row.last_sampled_at is None and row.due_at == T0 + D


def test_the_next_test_falls_due_one_interval_after_the_last_sample(staff: Staff) -> None:
    staff.sample(staff.nurse, 20 * H)
    staff.sample(staff.guard, 6 * H)
    staff.sample(staff.guard, 22 * H, duplicate=True)  # a duplicate sample is not a test
    staff.clock.set(T0 + 2 * D)
    assert staff.overdue() == {staff.nurse: 4.0, staff.guard: 18.0, staff.driver: 24.0}
    with context(staff.world.database, staff.clock) as ctx:
        rows, _ = kp.overdue_members(ctx, CN8, PAGE)
    assert [r.person_id for r in rows] == [staff.driver, staff.guard, staff.nurse]  # most overdue first
    assert rows[1].last_sampled_at == T0 + 6 * H


def test_a_sample_before_enrolment_does_not_count(staff: Staff, database: Database) -> None:
    late = staff.world.person(staff.world.district.building_a, "新人")
    staff.sample(late, 2 * D + 20 * H)
    staff.clock.set(T0 + 3 * D + H)  # enrolled on day 4 (2021-12-13); the sample was taken the day before
    staff.enrol(late, STAFF)
    staff.clock.set(T0 + 4 * D + 2 * H)
    assert staff.overdue(population=STAFF)[late] == 2.0


def test_weekly_members_are_overdue_after_seven_days(staff: Staff) -> None:
    staff.clock.set(T0 + 7 * D + 30 * timedelta(minutes=1))
    assert staff.overdue(population=MEDICAL) == {staff.doctor: 0.5}


def test_an_ended_membership_is_not_overdue_and_a_new_one_starts_afresh(staff: Staff) -> None:
    staff.clock.set(T0 + 2 * D)
    with context(staff.world.database, staff.clock) as ctx:
        member = ctx.session.scalar(
            select(kp.KeyPopulationMember.id).where(kp.KeyPopulationMember.person_id == staff.nurse)
        )
        assert member is not None
        kp.end_membership(ctx, member)
        assert not kp.is_overdue(ctx, staff.nurse, CN8)
        assert kp.is_overdue(ctx, staff.guard, CN8)
        listed, count = kp.list_members(ctx, PAGE, population=STAFF)
        assert staff.nurse not in {m.person_id for m in listed} and count == 2
    assert staff.nurse not in staff.overdue()
    staff.clock.set(T0 + 3 * D)
    _, created = staff.enrol(staff.nurse, STAFF)
    assert created
    staff.clock.set(T0 + 4 * D + H)
    assert staff.overdue()[staff.nurse] == 1.0  # due one day after re-enrolment on day 4
    with context(staff.world.database, staff.clock) as ctx:
        enrolled = ctx.session.scalar(
            select(func.count()).where(
                Event.kind == EventKind.KEY_POPULATION_ENROLLED.value, Event.person_id == staff.nurse
            )
        )
    assert enrolled == 2


def test_ending_a_membership_is_recorded_once(staff: Staff) -> None:
    staff.clock.set(T0 + 2 * D)
    with context(staff.world.database, staff.clock) as ctx:
        member = ctx.session.scalar(
            select(kp.KeyPopulationMember.id).where(kp.KeyPopulationMember.person_id == staff.nurse)
        )
        assert member is not None
        kp.end_membership(ctx, member)
        kp.end_membership(ctx, member)  # the same end again changes nothing
    with context(staff.world.database, staff.clock) as ctx:
        ended = ctx.session.scalars(
            select(Event).where(Event.kind == EventKind.KEY_POPULATION_ENDED.value, Event.person_id == staff.nurse)
        ).all()
    assert len(ended) == 1
    assert ended[0].payload["until"] == (T0 + 2 * D).date().isoformat()
    assert ended[0].jurisdiction_id is not None


def test_an_end_before_the_start_is_refused(staff: Staff) -> None:
    with context(staff.world.database, staff.clock) as ctx:
        member = ctx.session.scalar(
            select(kp.KeyPopulationMember.id).where(kp.KeyPopulationMember.person_id == staff.nurse)
        )
        assert member is not None
        with pytest.raises(FieldError) as error:
            kp.end_membership(ctx, member, T0.date() - D)
    assert error.value.field == "until"


def test_a_county_sees_only_its_own_members_and_cannot_enrol_others(staff: Staff) -> None:
    staff.clock.set(T0 + 2 * D)
    county_b = county_actor(staff, "330602")
    assert set(staff.overdue(county_b)) == {staff.driver}
    with pytest.raises(NotFound):
        staff.enrol(staff.nurse, MEDICAL, county_b)
    with context(staff.world.database, staff.clock, county_b) as ctx:
        _, count = kp.list_members(ctx, PAGE)
    assert count == 1


def test_a_population_without_a_schedule_is_never_overdue(staff: Staff) -> None:
    no_schedule = CN8.model_copy(
        update={"screening": CN8.screening.model_copy(update={"key_populations": {}})}, deep=True
    )
    staff.clock.set(T0 + 30 * D)
    with context(staff.world.database, staff.clock) as ctx:
        assert kp.overdue_members(ctx, no_schedule, PAGE) == ([], 0)
        assert not kp.is_overdue(ctx, staff.nurse, no_schedule)


@pytest.mark.usefixtures("cheap_argon2")
def test_key_population_api_enrols_lists_ends_and_answers_overdue(staff: Staff, client: TestClient) -> None:
    db, clock = staff.world.database, staff.clock
    headers = login(client, make_user(db, clock, Role.COMMANDER, staff.world.district.county_a))
    body = {"person_id": staff.doctor, "population": "port_workers"}
    first = client.post("/api/screening/key-populations/members", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/screening/key-populations/members", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert first.json()["interval_days"] == 1
    outside = {"person_id": staff.driver, "population": "port_workers"}
    assert client.post("/api/screening/key-populations/members", json=outside, headers=headers).status_code == 404
    listed = client.get("/api/screening/key-populations/members", headers=headers).json()
    assert listed["count"] == 4  # nurse, guard, doctor twice; the driver lives in county B
    clock.set(T0 + D + H)
    headers = login(client, make_user(db, clock, Role.COMMANDER, staff.world.district.county_a))  # a fresh session
    overdue = client.get("/api/screening/key-populations/overdue", headers=headers).json()
    assert {row["person_id"] for row in overdue["data"]} == {staff.nurse, staff.guard, staff.doctor}
    assert overdue["count"] == 3 and overdue["data"][0]["overdue_hours"] == pytest.approx(1.0)
    answer = client.get(f"/api/screening/key-populations/persons/{staff.nurse}/overdue", headers=headers).json()
    assert answer == {"person_id": staff.nurse, "overdue": True}
    ended = client.post(f"/api/screening/key-populations/members/{first.json()['id']}/end", json={}, headers=headers)
    assert ended.status_code == 200 and ended.json()["until"] == "2021-12-11"


@pytest.mark.usefixtures("cheap_argon2")
def test_overdue_page_lists_people_in_both_languages(staff: Staff, client: TestClient) -> None:
    staff.clock.set(T0 + 2 * D)
    headers = login(client, make_user(staff.world.database, staff.clock, Role.COMMANDER, staff.world.district.province))
    page = client.get("/screening/key-populations/overdue?lang=zh-CN", headers=headers)
    assert page.status_code == 200, page.text
    assert "护士" in page.text and "隔离点工作人员" in page.text
    page = client.get("/screening/key-populations/overdue?lang=en&population=medical_staff", headers=headers)
    assert "Nobody is overdue" in page.text
