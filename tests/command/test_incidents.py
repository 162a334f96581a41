"""Incidents (平转战): one activation opens the template's task forces and the wartime cadence; a second
one is refused, the same one again is harmless; standing down returns to peacetime and keeps open tasks."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.command.factories import PROFILE, activate, add_task
from tests.factories import context, make_district

from bihuan.command import service
from bihuan.command.choices import IncidentStatus
from bihuan.command.schemas import IncidentCreate
from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import Conflict
from bihuan.core.events import Event


def _events(database: Database, kind: EventKind) -> list[Event]:
    with database.session() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind.value)))


def test_activating_an_incident_opens_the_templates_task_forces_at_the_wartime_cadence(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)

    assert [(f.link, f.name) for f in incident.task_forces] == [
        ("testing", "检测专班"),
        ("tracing", "流调专班"),
        ("transfer", "转运专班"),
        ("isolation", "隔离专班"),
        ("supplies", "物资保障专班"),
        ("requests", "群众诉求专班"),
    ]
    assert (incident.status, incident.level, incident.jurisdiction_name) == ("active", "county", "上虞区")
    assert incident.report_every_hours == PROFILE.command.wartime_report_hours != PROFILE.command.peacetime_report_hours
    [event] = _events(database, EventKind.INCIDENT_ACTIVATED)
    assert (event.subject_id, event.jurisdiction_id) == (incident.id, district.county_a)


def test_a_second_incident_at_a_jurisdiction_is_refused_naming_the_active_one_and_resending_is_harmless(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    first = activate(database, clock, district.county_a, "上虞区疫情处置")
    again = activate(database, clock, district.county_a, "上虞区疫情处置")
    with pytest.raises(Conflict) as refused:
        activate(database, clock, district.county_a, "另一个指挥部")
    other_county = activate(database, clock, district.county_b, "越城区疫情处置")

    assert again.id == first.id and other_county.id != first.id
    assert f"{first.id} '上虞区疫情处置'" in str(refused.value) and "上虞区" in str(refused.value)
    assert len(_events(database, EventKind.INCIDENT_ACTIVATED)) == 2


def test_standing_down_returns_to_peacetime_keeps_open_tasks_and_frees_the_jurisdiction(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    incident = activate(database, clock, district.county_a)
    task = add_task(database, clock, incident.id)
    with context(database, clock) as ctx:
        stood_down = service.deactivate_incident(ctx, PROFILE, incident.id, "连续14天无新增")
    with context(database, clock) as ctx:
        twice = service.deactivate_incident(ctx, PROFILE, incident.id, "连续14天无新增")
    with context(database, clock) as ctx:
        later = service.activate_incident(
            ctx, PROFILE, IncidentCreate(jurisdiction_id=district.county_a, name="第二轮疫情")
        )

    done = stood_down.incident
    assert (done.status, done.report_every_hours) == (
        IncidentStatus.DEACTIVATED,
        PROFILE.command.peacetime_report_hours,
    )
    assert all(f.stood_down_at == clock.now() for f in done.task_forces)
    assert [t.id for t in stood_down.open_tasks] == [task.id] and done.open_tasks == 1
    assert twice.incident.deactivated_at == done.deactivated_at
    assert len(_events(database, EventKind.INCIDENT_DEACTIVATED)) == 1
    assert later.id != incident.id and later.status == IncidentStatus.ACTIVE
