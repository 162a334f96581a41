"""Tasks the loop makes by itself: a site's missed temperature checks go to the isolation task force,
a person handed back to the transfer queue to the transfer task force; once each, and only while an
incident covers the person."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from tests.command.factories import activate
from tests.factories import context
from tests.isolation.factories import CLOSE, deliver, world_with_floor
from tests.transfer.factories import PROFILE, identify_contacts, make_household, make_transfer_world

from bihuan.command import service
from bihuan.command.choices import TaskSource
from bihuan.command.schemas import TaskPublic
from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event, EventRecord, record_many
from bihuan.isolation import service as sites
from bihuan.people.schemas import Page
from bihuan.transfer.models import Batch
from bihuan.transfer.service import dispatch, failures, planning

ZONE = ZoneInfo("Asia/Shanghai")
PAGE = Page(page=1, page_size=50)


def _tasks(database: Database, clock: SimulatedClock, link: str) -> list[TaskPublic]:
    with context(database, clock) as ctx:
        return service.list_tasks(ctx, PAGE, task_force=link)[0]


def test_missed_temperature_checks_become_one_isolation_task_per_person_while_an_incident_is_active(
    database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock)
    [unwatched] = make_household(database, clock, world.district.building_b, 1)  # county B: no incident
    [person] = make_household(database, clock, world.district.building_a, 1)
    deliver(database, clock, [person, unwatched], CLOSE)
    activate(database, clock, world.district.county_a)
    clock.advance(timedelta(days=2))  # the 11th is over, without a check taken
    with context(database, clock) as ctx:
        sites.raise_missing_alerts(ctx, PROFILE, world.near_site, date(2021, 12, 11), ZONE)
    with database.session() as session:  # the same alert seen again (a replayed event)
        alert = session.scalar(select(Event).where(Event.kind == "health_alert_raised", Event.person_id == person))
        assert alert is not None
        facts = ("occurred_at", "person_id", "jurisdiction_id", "subject_type", "subject_id", "refs", "payload")
        replay = EventRecord(kind=EventKind(alert.kind), **{name: getattr(alert, name) for name in facts})
    with context(database, clock) as ctx:
        record_many(ctx, [replay])

    [task] = _tasks(database, clock, "isolation")
    assert (task.person_id, task.source, task.subject_type) == (person, TaskSource.LOOP, "stay")
    assert task.due_at == clock.now() + timedelta(hours=PROFILE.command.loop_task_due_hours)
    assert "2021-12-11" in task.detail


def test_a_person_returned_to_the_queue_becomes_one_re_plan_task_for_the_transfer_task_force(
    database: Database, clock: SimulatedClock
) -> None:
    world = make_transfer_world(database, clock)
    incident = activate(database, clock, world.district.city, "绍兴市疫情处置")
    [person] = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, [person], CLOSE)
    with context(database, clock) as ctx:
        planning.plan(ctx, PROFILE)
        batch_id = ctx.session.scalar(select(Batch.id))
        assert batch_id is not None
        dispatch.dispatch(ctx, batch_id)
    with context(database, clock) as ctx:
        failures.vehicle_failed(ctx, PROFILE, world.coach, "爆胎 flat tyre")

    [task] = _tasks(database, clock, "transfer")
    assert (task.incident_id, task.person_id, task.subject_type) == (incident.id, person, "transfer_request")
    assert "flat tyre" in task.detail and task.source_key is not None
