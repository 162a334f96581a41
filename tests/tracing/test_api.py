"""The tracing API as an investigator, a community worker and an outsider use it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.factories import login, make_user
from tests.screening.lab_factories import cheap_argon2  # noqa: F401 (fixture)
from tests.tracing.factories import World, confirm_case, make_world, utc, world_scans, write_scans

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.tracing.service.runtime import runtime_for

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]


@pytest.fixture
def world(app: FastAPI, database: Database, clock: SimulatedClock) -> World:
    world = make_world(database, clock)
    runtime = runtime_for(app.state.database)
    assert runtime is not None
    write_scans(runtime, world_scans(world))
    return world


@pytest.fixture
def investigator(client: TestClient, database: Database, clock: SimulatedClock, world: World) -> Headers:
    return login(client, make_user(database, clock, Role.INVESTIGATOR, world.district.county_a))


@pytest.fixture
def case_id(client: TestClient, database: Database, clock: SimulatedClock, world: World) -> int:
    return confirm_case(database, clock, world.case_person, world.district.building_a)


def _investigation_id(client: TestClient, headers: Headers) -> int:
    listed = client.get("/api/investigations", headers=headers)
    assert listed.status_code == 200, listed.text
    return int(listed.json()["data"][0]["id"])


def test_an_investigator_sees_the_case_and_its_contacts_by_category(
    client: TestClient, investigator: Headers, case_id: int, world: World
) -> None:
    listed = client.get("/api/investigations", headers=investigator).json()
    assert listed["count"] == 1
    shown = listed["data"][0]
    assert shown["case_id"] == case_id and "*" in shown["resident_id_masked"]
    assert shown["contacts"]["close_contact"] >= 2
    contacts = client.get(f"/api/investigations/{shown['id']}/contacts", headers=investigator).json()
    by_person = {c["person_id"]: c for c in contacts["data"]}
    assert f"venue:{world.office}" in by_person[world.colleague]["reasons"]
    assert by_person[world.colleague]["plan"]["end"]


def test_a_bad_fact_is_refused_naming_the_field(client: TestClient, investigator: Headers, case_id: int) -> None:
    investigation = _investigation_id(client, investigator)
    refused = client.patch(
        f"/api/investigations/{investigation}", json={"onset_date": "2022-01-01"}, headers=investigator
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "onset_date"]
    kept = client.get(f"/api/investigations/{investigation}", headers=investigator).json()
    assert kept["onset_date"] == "2021-12-09"


def test_a_contradicting_visit_is_refused_and_the_same_visit_twice_is_harmless(
    client: TestClient, investigator: Headers, case_id: int, world: World
) -> None:
    investigation = _investigation_id(client, investigator)
    visit = {
        "place_text": "亲戚家",
        "starts_at": utc(2021, 12, 7, 19).isoformat(),
        "ends_at": utc(2021, 12, 7, 21).isoformat(),
    }
    first = client.post(f"/api/investigations/{investigation}/visits", json=visit, headers=investigator)
    again = client.post(f"/api/investigations/{investigation}/visits", json=visit, headers=investigator)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    clash = {**visit, "place_text": "菜场", "starts_at": utc(2021, 12, 7, 20).isoformat()}
    refused = client.post(f"/api/investigations/{investigation}/visits", json=clash, headers=investigator)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "starts_at"]
    timeline = client.get(f"/api/investigations/{investigation}/timeline", headers=investigator).json()
    assert [v["place_text"] for v in timeline["visits"] if v["source"] == "self_report"] == ["亲戚家"]


def test_running_the_engine_again_finds_nothing_new(client: TestClient, investigator: Headers, case_id: int) -> None:
    investigation = _investigation_id(client, investigator)
    run = client.post(f"/api/investigations/{investigation}/trace", headers=investigator)
    assert run.status_code == 200, run.text
    assert run.json()["new_contacts"] == 0 and run.json()["found"]["close_contact"] >= 2


def test_someone_outside_the_jurisdiction_gets_404(
    client: TestClient, database: Database, clock: SimulatedClock, case_id: int, world: World, investigator: Headers
) -> None:
    investigation = _investigation_id(client, investigator)
    outsider = login(client, make_user(database, clock, Role.INVESTIGATOR, world.district.county_b))
    assert client.get(f"/api/investigations/{investigation}", headers=outsider).status_code == 404
    assert client.get(f"/api/investigations/{investigation}/contacts", headers=outsider).status_code == 404
    assert client.get("/api/investigations", headers=outsider).json()["count"] == 0


def test_a_lab_user_may_not_read_investigations(
    client: TestClient, database: Database, clock: SimulatedClock, case_id: int, world: World
) -> None:
    lab = login(client, make_user(database, clock, Role.LAB, world.district.county_a))
    assert client.get("/api/investigations", headers=lab).status_code == 403


def test_an_analyst_reads_chains_but_may_not_run_the_engine(
    client: TestClient, database: Database, clock: SimulatedClock, case_id: int, world: World, investigator: Headers
) -> None:
    investigation = _investigation_id(client, investigator)
    analyst = login(client, make_user(database, clock, Role.ANALYST, world.district.county_a))
    graph = client.get("/api/chains", headers=analyst).json()
    assert {node["id"] for node in graph["nodes"]} >= {str(world.case_person), str(world.colleague)}
    assert client.post(f"/api/investigations/{investigation}/trace", headers=analyst).status_code == 403
