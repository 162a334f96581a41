"""The command pages (指挥体系), driven through the TestClient as a browser without JavaScript would: a
commander switches a county to wartime and staffs a task force, a task is made and marked done in one
tap, both languages render, and a community worker may not command."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.command.factories import activate, add_task, user_id
from tests.factories import District, login, make_district, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401

from bihuan.command.models import Task
from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]


def _as(client: TestClient, database: Database, clock: SimulatedClock, role: Role, where: int) -> Headers:
    return {**login(client, make_user(database, clock, role, where)), "Accept": "text/html"}


def _section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


@pytest.fixture
def district(database: Database, clock: SimulatedClock) -> District:
    return make_district(database, clock)


def test_a_commander_activates_an_incident_from_the_page_and_sees_its_task_forces(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    commander = _as(client, database, clock, Role.COMMANDER, district.county_a)
    member = make_user(database, clock, Role.INVESTIGATOR, district.county_a)

    form = client.get("/command/incidents", headers=commander).text
    created = client.post(
        "/command/incidents",
        data={"jurisdiction_id": str(district.county_a), "name": "上虞区疫情处置", "reason": "本土确诊"},
        headers=commander,
        follow_redirects=False,
    )
    page_url = created.headers["location"]
    staffed = client.post(
        page_url.split("?")[0] + "/task-forces/tracing/members",
        data={"user_id": str(user_id(database, member)), "lead": "1"},
        headers=commander,
        follow_redirects=False,
    )
    page = client.get(page_url.split("?")[0], headers=commander).text

    activation = _section(form, "activate")
    assert 'data-force="tracing"' in activation and "4" in activation  # the forces and the wartime cadence named
    assert created.status_code == 303 and page_url.startswith("/command/incidents/")
    assert staffed.status_code == 303
    forces = page[page.index('id="task-forces"') :]
    assert all(f'id="force-{link}"' in forces for link in ("testing", "tracing", "transfer", "isolation"))
    tracing = forces[
        forces.index('id="force-tracing"') : forces.index("</article>", forces.index('id="force-tracing"'))
    ]
    assert f'data-member="{user_id(database, member)}"' in tracing


def test_an_incident_sent_twice_or_without_a_name_is_refused_on_its_field(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    commander = _as(client, database, clock, Role.COMMANDER, district.county_a)
    activate(database, clock, district.county_a)

    unnamed = client.post(
        "/command/incidents", data={"jurisdiction_id": str(district.county_a), "name": ""}, headers=commander
    )
    clash = client.post(
        "/command/incidents", data={"jurisdiction_id": str(district.county_a), "name": "另一起"}, headers=commander
    )

    assert unnamed.status_code == clash.status_code == 422
    assert 'id="field-name-note"' in _section(unnamed.text, "activate")
    assert 'data-form-error="1"' in _section(clash.text, "activate")


def test_a_task_made_by_hand_and_marked_done_from_the_tasks_page(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    commander = _as(client, database, clock, Role.COMMANDER, district.county_a)
    incident = activate(database, clock, district.county_a)
    zone = ZoneInfo(client.app.state.settings.timezone)  # type: ignore[attr-defined]
    due = (clock.now() + timedelta(hours=3)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")  # a datetime-local field

    past = client.post(
        "/command/tasks",
        data={"incident_id": str(incident.id), "task_force": "transfer", "title": "复核", "due_at": "2021-01-01T08:00"},
        headers=commander,
    )
    made = client.post(
        "/command/tasks",
        data={"incident_id": str(incident.id), "task_force": "transfer", "title": "安排车辆", "due_at": due},
        headers=commander,
        follow_redirects=False,
    )
    with database.session() as session:
        task = session.scalars(select(Task)).one()
    done = client.post(
        f"/command/tasks/{task.id}", data={"status": "done", "f_task_force": "transfer"}, headers=commander
    )

    assert past.status_code == 422 and 'id="field-due_at-note"' in _section(past.text, "create")
    assert made.status_code == 303
    assert done.status_code == 200 and str(done.url).endswith("/command/tasks?task_force=transfer&done=done")
    assert f'data-task="{task.id}" data-status="done"' in done.text
    with database.session() as session:
        stored = session.get(Task, task.id)
        assert stored is not None and (stored.status, stored.title) == ("done", "安排车辆")


def test_the_pages_render_in_chinese_and_in_english(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    commander = _as(client, database, clock, Role.COMMANDER, district.county_a)
    incident = activate(database, clock, district.county_a)
    add_task(database, clock, incident.id)

    pages = [f"/command/incidents/{incident.id}", "/command/incidents", "/command/tasks"]
    chinese = [client.get(p, headers={**commander, "Accept-Language": "zh-CN"}) for p in pages]
    english = [client.get(p, headers={**commander, "Accept-Language": "en"}) for p in pages]

    assert all(r.status_code == 200 for r in chinese + english)
    assert ["待办" in chinese[2].text, "流调专班" in chinese[0].text, "事件" in chinese[1].text] == [True] * 3
    assert ["To do" in english[2].text, "Members" in english[0].text, "Incidents" in english[1].text] == [True] * 3


def test_a_community_worker_may_read_but_not_command(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    worker = _as(client, database, clock, Role.COMMUNITY_WORKER, district.county_a)
    incident = activate(database, clock, district.county_a)
    task = add_task(database, clock, incident.id)

    listing = client.get("/command/incidents", headers=worker)
    activated = client.post(
        "/command/incidents", data={"jurisdiction_id": str(district.county_a), "name": "越权"}, headers=worker
    )
    moved = client.post(f"/command/tasks/{task.id}", data={"status": "done"}, headers=worker)

    assert listing.status_code == 200 and 'id="activate"' not in listing.text
    assert (activated.status_code, moved.status_code) == (403, 403)
    with database.session() as session:
        stored = session.get(Task, task.id)
        assert stored is not None and stored.status == "open"
