"""The home phase after release (居家健康监测): the community worker's daily checks and home test days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import context, login, make_user
from tests.isolation.factories import StayRef
from tests.isolation.release_factories import release_test_resulted
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import TransferWorld

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event
from bihuan.isolation.models import HomeMonitoring, HomeTask
from bihuan.isolation.service import home

pytestmark = pytest.mark.usefixtures("cheap_argon2")
FIRST_HOME_DAY = date(2021, 12, 23)


def _worker(client: TestClient, database: Database, clock: SimulatedClock, jurisdiction: int) -> dict[str, str]:
    return login(client, make_user(database, clock, Role.COMMUNITY_WORKER, jurisdiction))


def test_the_community_worker_sees_the_days_check_and_records_it(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    released: StayRef,
    at_site: tuple[TransferWorld, list[StayRef]],
) -> None:
    worker = _worker(client, database, clock, at_site[0].district.community_a)

    listed = client.get("/api/home-tasks", headers=worker).json()
    [task] = listed["data"]
    assert (task["person_id"], task["kind"], task["due_on"]) == (released.person_id, "health_check", "2021-12-23")
    assert "*" in task["resident_id_masked"]

    done = client.post(f"/api/home-tasks/{task['id']}", json={"status": "done"}, headers=worker)
    again = client.post(f"/api/home-tasks/{task['id']}", json={"status": "done"}, headers=worker)

    assert done.status_code == again.status_code == 200 and done.json()["status"] == "done"
    assert client.get("/api/home-tasks", headers=worker).json()["data"] == []
    with database.session() as session:
        recorded = session.scalars(select(Event).where(Event.kind == "home_task_recorded")).all()
    assert len(recorded) == 1


def test_a_missed_task_needs_a_note_and_a_task_of_a_later_day_cannot_be_recorded_yet(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    released: StayRef,
    at_site: tuple[TransferWorld, list[StayRef]],
) -> None:
    worker = _worker(client, database, clock, at_site[0].district.community_a)
    with database.session() as session:
        today = session.scalar(select(HomeTask.id).where(HomeTask.due_on == FIRST_HOME_DAY))
        test_day = session.scalar(select(HomeTask.id).where(HomeTask.kind == "test").order_by(HomeTask.due_on))

    no_note = client.post(f"/api/home-tasks/{today}", json={"status": "missed"}, headers=worker)
    too_early = client.post(f"/api/home-tasks/{test_day}", json={"status": "done"}, headers=worker)

    assert no_note.status_code == 422 and "note" in no_note.text
    assert too_early.status_code == 422 and "2021-12-24" in too_early.text


def test_a_worker_of_another_county_sees_none_of_the_tasks(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    released: StayRef,
    at_site: tuple[TransferWorld, list[StayRef]],
) -> None:
    elsewhere = _worker(client, database, clock, at_site[0].district.county_b)
    with database.session() as session:
        task_id = session.scalar(select(HomeTask.id))

    assert client.get("/api/home-tasks", headers=elsewhere).json()["count"] == 0
    assert client.post(f"/api/home-tasks/{task_id}", json={"status": "done"}, headers=elsewhere).status_code == 404


def test_the_phase_ends_after_its_last_day_and_what_was_not_recorded_is_missed(
    database: Database, clock: SimulatedClock, released: StayRef
) -> None:
    with context(database, clock) as ctx:
        assert home.end_finished_phases(ctx, date(2021, 12, 29)) == 0  # the last day itself still counts
        assert home.end_finished_phases(ctx, date(2021, 12, 30)) == 1
        assert home.end_finished_phases(ctx, date(2021, 12, 30)) == 0
    with database.session() as session:
        monitoring = session.scalar(select(HomeMonitoring))
        statuses = set(session.scalars(select(HomeTask.status)))
        ended = session.scalars(select(Event.person_id).where(Event.kind == "home_monitoring_ended")).all()
    assert monitoring is not None and monitoring.status == "ended"
    assert statuses == {"missed"}
    assert ended == [released.person_id]


def test_the_site_releases_through_the_api_and_an_early_release_is_refused_with_its_reason(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, second, _] = at_site
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    release_test_resulted(database, clock, first.stay_id, [("negative", "A"), ("negative", "B")])

    early = client.post(f"/api/sites/{world.near_site}/release", json={"stay_ids": [first.stay_id]}, headers=manager)
    clock.set(datetime(2021, 12, 22, 10, 0, tzinfo=UTC))
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a, "manager2"))
    listed = client.get(f"/api/sites/{world.near_site}/release-list", headers=manager).json()
    done = client.post(
        f"/api/sites/{world.near_site}/release", json={"stay_ids": [first.stay_id, second.stay_id]}, headers=manager
    )

    assert early.status_code == 409 and "the plan allows release from 2021-12-22" in early.text
    assert [c["ready"] for c in listed][:1] == [True] and listed[0]["stay_id"] == first.stay_id
    assert done.status_code == 200
    assert done.json()["released"] == [first.stay_id]
    assert "not taken yet" in done.json()["refused"][str(second.stay_id)]
