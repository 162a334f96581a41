"""The command API round trip: a commander activates an incident, staffs a task force, sets a task;
the task force's member moves it on; others read it; standing down lists what is left open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.command.factories import user_id
from tests.factories import login, make_district, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database


@pytest.mark.usefixtures("cheap_argon2")
def test_an_incident_its_task_force_and_a_task_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    commander = login(client, make_user(database, clock, Role.COMMANDER, district.county_a))
    member_name = make_user(database, clock, Role.INVESTIGATOR, district.county_a)
    member = login(client, member_name)
    outsider = login(client, make_user(database, clock, Role.ANALYST, district.county_b))

    body = {"jurisdiction_id": district.county_a, "name": "上虞区疫情处置", "reason": "本土确诊"}
    refused = client.post("/api/incidents", json=body, headers=member)
    created = client.post("/api/incidents", json=body, headers=commander)
    incident = created.json()["id"]
    staffed = client.post(
        f"/api/incidents/{incident}/task-forces/tracing/members",
        json={"user_id": user_id(database, member_name)},
        headers=commander,
    )
    due = (clock.now() + timedelta(hours=4)).isoformat()
    no_due = client.post(
        "/api/tasks", json={"incident_id": incident, "task_force": "tracing", "title": "核查"}, headers=commander
    )
    task = client.post(
        "/api/tasks",
        json={"incident_id": incident, "task_force": "tracing", "title": "核查密接", "due_at": due},
        headers=commander,
    ).json()
    moved = client.patch(f"/api/tasks/{task['id']}", json={"status": "in_progress"}, headers=member)
    listed = client.get(f"/api/tasks?incident_id={incident}&status=in_progress", headers=member)
    hidden = client.get(f"/api/incidents/{incident}", headers=outsider)
    stood_down = client.post(f"/api/incidents/{incident}/deactivate", json={"reason": "清零"}, headers=commander)

    assert (refused.status_code, created.status_code, staffed.status_code) == (403, 200, 200)
    assert staffed.json()["members"] == [user_id(database, member_name)]
    assert no_due.status_code == 422 and no_due.json()["detail"][0]["loc"] == ["body", "due_at"]
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"
    assert [t["id"] for t in listed.json()["data"]] == [task["id"]]
    assert hidden.status_code == 404
    assert stood_down.json()["incident"]["status"] == "deactivated"
    assert [t["id"] for t in stood_down.json()["open_tasks"]] == [task["id"]]
