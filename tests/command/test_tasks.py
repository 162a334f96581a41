"""Tasks by hand: refused with the field named when incomplete, moved through their statuses (done and
cancelled final), updated by commanders or the task force's members, listed within the jurisdiction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.command.factories import activate, actor, add_task, user_id
from tests.factories import context, make_district, make_person, make_user, new_resident_id

from bihuan.command import service
from bihuan.command.choices import TaskStatus
from bihuan.command.schemas import MemberIn, TaskCreate, TaskUpdate
from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, FieldError, Forbidden
from bihuan.core.events import Event
from bihuan.people.schemas import Page

PAGE = Page(page=1, page_size=50)


def test_a_task_without_a_due_time_or_for_an_unknown_task_force_is_refused_naming_the_field(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    base = {"incident_id": incident.id, "task_force": "tracing", "title": "核查密接"}
    cases = [
        ({}, "due_at", "required"),
        ({"due_at": clock.now() - timedelta(hours=1)}, "due_at", "has passed"),
        (
            {"due_at": clock.now() + timedelta(hours=1), "task_force": "cooking"},
            "task_force",
            "no task force 'cooking'",
        ),
    ]
    for extra, field, reason in cases:
        with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
            service.create_task(ctx, TaskCreate.model_validate({**base, **extra}))
        assert (refused.value.field, reason in refused.value.reason) == (field, True)
    with context(database, clock) as ctx:
        assert service.list_tasks(ctx, PAGE)[1] == 0


def test_a_task_moves_on_until_done_and_stays_done(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    task = add_task(database, clock, incident.id)
    moves = [TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.DONE]  # the last: resent, harmless
    for status in moves:
        with context(database, clock) as ctx:
            moved = service.update_task(ctx, task.id, TaskUpdate(status=status))
    with context(database, clock) as ctx, pytest.raises(Conflict) as refused:
        service.update_task(ctx, task.id, TaskUpdate(status=TaskStatus.OPEN))

    assert (moved.status, moved.closed_at) == (TaskStatus.DONE, clock.now())
    assert "is done: a done or cancelled task is final" in str(refused.value)


def test_members_of_the_assigned_task_force_may_update_its_tasks_and_others_may_not(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    task = add_task(database, clock, incident.id, task_force="tracing")
    member = make_user(database, clock, Role.INVESTIGATOR, district.county_a)
    outsider = make_user(database, clock, Role.INVESTIGATOR, district.county_a)
    with context(database, clock) as ctx:
        force = service.add_member(ctx, incident.id, "tracing", MemberIn(user_id=user_id(database, member), lead=True))
    with context(database, clock, actor(database, clock, outsider)) as ctx, pytest.raises(Forbidden):
        service.update_task(ctx, task.id, TaskUpdate(status=TaskStatus.IN_PROGRESS))
    with context(database, clock, actor(database, clock, member)) as ctx:
        moved = service.update_task(ctx, task.id, TaskUpdate(status=TaskStatus.IN_PROGRESS))

    assert force.lead_user_id == user_id(database, member) and force.members == [force.lead_user_id]
    assert moved.status == TaskStatus.IN_PROGRESS


def test_a_task_past_due_is_overdue_until_done(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    late = add_task(database, clock, incident.id, due_at=clock.now() + timedelta(hours=1))
    add_task(database, clock, incident.id, due_at=clock.now() + timedelta(hours=8))
    clock.advance(timedelta(hours=2))
    with context(database, clock) as ctx:
        overdue, count = service.list_tasks(ctx, PAGE, overdue=True)
        service.update_task(ctx, late.id, TaskUpdate(status=TaskStatus.DONE))
    with context(database, clock) as ctx:
        after = service.list_tasks(ctx, PAGE, overdue=True)[1]

    assert ([t.id for t in overdue], count, overdue[0].overdue, after) == ([late.id], 1, True, 0)


def test_a_county_user_sees_their_countys_incident_and_tasks_not_anothers(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    mine = activate(database, clock, district.county_a, "上虞区疫情处置")
    theirs = activate(database, clock, district.county_b, "越城区疫情处置")
    add_task(database, clock, mine.id)
    add_task(database, clock, theirs.id)
    viewer = actor(database, clock, make_user(database, clock, Role.ANALYST, district.county_a))
    with context(database, clock, viewer) as ctx:
        incidents, _ = service.list_incidents(ctx, PAGE)
        tasks, _ = service.list_tasks(ctx, PAGE)

    assert [i.id for i in incidents] == [mine.id]
    assert {t.incident_id for t in tasks} == {mine.id}


def _events(database: Database, kind: EventKind) -> list[Event]:
    with database.session() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind.value)))


def test_the_same_task_sent_twice_is_made_once(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    due_at = clock.now() + timedelta(hours=4)
    first = add_task(database, clock, incident.id, due_at=due_at)
    again = add_task(database, clock, incident.id, due_at=due_at)
    other = add_task(database, clock, incident.id, due_at=due_at, title="复核密接名单")
    with context(database, clock) as ctx:
        count = service.list_tasks(ctx, PAGE)[1]

    assert (again.id, count, len(_events(database, EventKind.TASK_CREATED))) == (first.id, 2, 2)
    assert other.id != first.id


def test_a_done_task_cannot_then_be_cancelled_and_records_one_move(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    task = add_task(database, clock, incident.id)
    with context(database, clock) as ctx:
        service.update_task(ctx, task.id, TaskUpdate(status=TaskStatus.DONE))
    with context(database, clock) as ctx, pytest.raises(Conflict):
        service.update_task(ctx, task.id, TaskUpdate(status=TaskStatus.CANCELLED))

    assert [e.payload["to"] for e in _events(database, EventKind.TASK_UPDATED)] == ["done"]


def test_a_task_about_a_person_outside_the_incidents_jurisdiction_is_refused_naming_the_person(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    inside = make_person(database, clock, district.building_a)
    outside = make_person(database, clock, district.building_b, resident_id=new_resident_id("330602"))
    made = add_task(database, clock, incident.id, person_id=inside.id)
    with pytest.raises(FieldError) as refused:
        add_task(database, clock, incident.id, person_id=outside.id)

    assert made.person_id == inside.id
    assert (refused.value.field, "outside 上虞区" in refused.value.reason) == ("person_id", True)


def test_only_users_who_can_see_the_incident_join_its_task_forces(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    city_user = user_id(database, make_user(database, clock, Role.INVESTIGATOR, district.city))
    other_county = user_id(database, make_user(database, clock, Role.INVESTIGATOR, district.county_b))
    with context(database, clock) as ctx:
        force = service.add_member(ctx, incident.id, "tracing", MemberIn(user_id=city_user))
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        service.add_member(ctx, incident.id, "tracing", MemberIn(user_id=other_county))

    assert force.members == [city_user]
    assert (refused.value.field, "could not see this incident" in refused.value.reason) == ("user_id", True)
