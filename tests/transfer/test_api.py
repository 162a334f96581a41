"""The transfer API as a command centre and a transfer team use it: queue, plan, dispatch, hand-overs."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.factories import count_statements, login, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import SHANGYU, TransferWorld, identify_contacts, make_household, make_transfer_world

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.protocol import TransferCategory

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]
CLOSE = TransferCategory.CLOSE_CONTACT


@pytest.fixture
def world(client: TestClient, database: Database, clock: SimulatedClock) -> TransferWorld:
    return make_transfer_world(database, clock)


@pytest.fixture
def commander(client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld) -> Headers:
    return login(client, make_user(database, clock, Role.COMMANDER, world.district.province))


def _queue(database: Database, clock: SimulatedClock, world: TransferWorld, sizes: tuple[int, ...]) -> list[int]:
    people = [p for n in sizes for p in make_household(database, clock, world.district.building_a, n)]
    identify_contacts(database, clock, people, CLOSE)
    return people


def test_a_plan_from_the_queue_is_dispatched_picked_up_and_arrives_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    people = _queue(database, clock, world, (2, 1))
    summary = client.get("/api/transfer-queue/summary", headers=commander).json()
    assert summary["waiting"] == 3

    plan = client.post("/api/transfer-plans", json={}, headers=commander)
    assert plan.status_code == 201, plan.text
    assert (plan.json()["placed"], plan.json()["unplaced"]) == (3, [])
    [batch] = client.get("/api/batches", headers=commander).json()["data"]
    assert (batch["status"], batch["people"], batch["site_name"]) == ("planned", 3, "百官隔离酒店")

    url = f"/api/batches/{batch['id']}"
    assert client.post(f"{url}/dispatch", headers=commander).json()["status"] == "dispatched"
    for person in people:
        picked = client.post(f"{url}/members/{person}/pickup", headers=commander)
        assert picked.json()["status"] == "picked_up", picked.text
    arrived = client.post(f"{url}/arrive", json={}, headers=commander).json()
    assert arrived["status"] == "completed"
    assert {m["status"] for m in arrived["members"]} == {"arrived"}
    assert all("*" in m["resident_id_masked"] for m in arrived["members"])
    sites = client.get("/api/sites", headers=commander).json()["data"]
    hotel = next(s for s in sites if s["name"] == "百官隔离酒店")
    assert {p["category"]: p["occupied"] for p in hotel["places"]}["close_contact"] == 3


def test_queueing_by_hand_names_the_person_listed_twice(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    [person] = make_household(database, clock, world.district.building_a, 1)
    items = [{"person_id": person, "category": "close_contact"}] * 2
    response = client.post("/api/transfer-queue", json={"items": items}, headers=commander)
    assert response.status_code == 422
    assert "items[1].person_id" in response.text and "twice" in response.text
    again = client.post("/api/transfer-queue", json={"items": items[:1]}, headers=commander).json()
    resent = client.post("/api/transfer-queue", json={"items": items[:1]}, headers=commander).json()
    assert len(again["queued"]) == 1 and resent["already_queued"] == [person]


def test_a_plan_naming_a_request_twice_is_refused(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    _queue(database, clock, world, (1,))
    [request] = client.get("/api/transfer-queue", headers=commander).json()["data"]
    response = client.post("/api/transfer-plans", json={"request_ids": [request["id"]] * 2}, headers=commander)
    assert response.status_code == 422 and "twice" in response.text
    assert client.get("/api/batches", headers=commander).json()["count"] == 0


def test_a_vehicle_failure_reported_by_the_team_returns_and_re_plans_its_people(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    _queue(database, clock, world, (2,))
    client.post("/api/transfer-plans", json={}, headers=commander)
    client.post(
        "/api/vehicles",
        json={"code": "SPARE-1", "kind": "bus", "seats": 30, "lat": SHANGYU[0], "lon": SHANGYU[1]},
        headers=commander,
    )
    [batch] = client.get("/api/batches", headers=commander).json()["data"]
    client.post(f"/api/batches/{batch['id']}/dispatch", headers=commander)
    team = login(client, make_user(database, clock, Role.TRANSFER, world.district.province))

    outcome = client.post(
        f"/api/vehicles/{batch['vehicle_id']}/failure", json={"reason": "engine fault"}, headers=team
    ).json()

    assert outcome["returned"] == 2 and outcome["cancelled_batches"] == [batch["id"]]
    assert outcome["plan"]["placed"] == 2
    statuses = client.get("/api/batches", headers=commander).json()["data"]
    assert sorted(b["status"] for b in statuses) == ["cancelled", "planned"]


def test_a_user_of_another_county_sees_neither_the_queue_nor_the_batches_of_this_one(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    _queue(database, clock, world, (2,))
    client.post("/api/transfer-plans", json={}, headers=commander)
    [batch] = client.get("/api/batches", headers=commander).json()["data"]
    other = login(client, make_user(database, clock, Role.COMMANDER, world.district.county_b))

    assert client.get("/api/transfer-queue", headers=other).json()["count"] == 0
    assert client.get("/api/batches", headers=other).json()["count"] == 0
    assert client.get(f"/api/batches/{batch['id']}", headers=other).status_code == 404


def test_a_transfer_team_may_not_plan(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld
) -> None:
    team = login(client, make_user(database, clock, Role.TRANSFER, world.district.province))
    assert client.post("/api/transfer-plans", json={}, headers=team).status_code == 403


def test_listing_batches_costs_the_same_statements_for_one_or_many(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    _queue(database, clock, world, (1,))
    client.post("/api/transfer-plans", json={}, headers=commander)
    with count_statements(database) as few:
        assert client.get("/api/batches", headers=commander).json()["count"] == 1
    _queue(database, clock, world, (20, 20, 20))  # three more coach trips (22 places each)
    client.post("/api/transfer-plans", json={}, headers=commander)
    with count_statements(database) as many:
        assert client.get("/api/batches", headers=commander).json()["count"] == 4
    assert len(few) == len(many)


def test_a_team_of_one_county_cannot_hand_over_a_person_of_another_on_a_shared_batch(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    [ours] = make_household(database, clock, world.district.building_b, 1)
    [theirs] = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, [ours, theirs], CLOSE)
    client.post("/api/transfer-plans", json={}, headers=commander)
    [batch] = client.get("/api/batches", headers=commander).json()["data"]
    client.post(f"/api/batches/{batch['id']}/dispatch", headers=commander)
    county_b = login(client, make_user(database, clock, Role.COMMANDER, world.district.county_b))

    shown = client.get(f"/api/batches/{batch['id']}", headers=county_b).json()
    refused = client.post(f"/api/batches/{batch['id']}/members/{theirs}/pickup", headers=county_b)
    allowed = client.post(f"/api/batches/{batch['id']}/members/{ours}/pickup", headers=county_b)

    assert [m["person_id"] for m in shown["members"]] == [ours]
    assert refused.status_code == 404
    assert allowed.json()["status"] == "picked_up"


def test_a_county_sees_only_its_own_pickups_on_a_batch_shared_with_another(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    ours = make_household(database, clock, world.district.building_b, 1, where=(SHANGYU[0] + 0.005, SHANGYU[1]))
    theirs = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, ours + theirs, CLOSE)
    client.post("/api/transfer-plans", json={}, headers=commander)
    [shared] = client.get("/api/batches", headers=commander).json()["data"]
    assert len(shared["route"]) == 2
    county_b = login(client, make_user(database, clock, Role.COMMANDER, world.district.county_b))

    [listed] = client.get("/api/batches", headers=county_b).json()["data"]
    shown = client.get(f"/api/batches/{shared['id']}", headers=county_b).json()

    [our_stop] = [s for s in shared["route"] if s["people"] == 1]
    assert listed["route"] == [our_stop] and listed["people"] == 1
    assert [s["person_ids"] for s in shown["stops"]] == [ours]
    assert shown["route"] == [our_stop]
    assert [m["stop_index"] for m in shown["members"]] == [0]


def test_vehicles_registered_without_categories_carry_what_the_profile_gives_their_kind(
    app: FastAPI,
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    world: TransferWorld,
    commander: Headers,
) -> None:
    profile = app.state.profile
    by_kind = {**profile.transfer.vehicle_categories, "van": (TransferCategory.CONFIRMED,)}
    transfer = profile.transfer.model_copy(update={"vehicle_categories": by_kind})
    app.state.profile = profile.model_copy(update={"transfer": transfer})  # this city's vans carry cases
    where = {"lat": SHANGYU[0], "lon": SHANGYU[1]}

    van = client.post("/api/vehicles", json={"code": "VAN-1", "kind": "van", "seats": 6, **where}, headers=commander)
    bus = client.post("/api/vehicles", json={"code": "BUS-1", "kind": "bus", "seats": 30, **where}, headers=commander)

    assert van.status_code == 201, van.text
    assert van.json()["categories"] == ["confirmed"]
    assert "confirmed" not in bus.json()["categories"] and "close_contact" in bus.json()["categories"]


def test_listing_plans_costs_the_same_statements_for_one_or_many(
    client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld, commander: Headers
) -> None:
    _queue(database, clock, world, (23,))  # larger than any vehicle's 22 places: left unplaced
    client.post("/api/transfer-plans", json={}, headers=commander)
    with count_statements(database) as few:
        [plan] = client.get("/api/transfer-plans", headers=commander).json()["data"]
    _queue(database, clock, world, (24,))
    client.post("/api/transfer-plans", json={}, headers=commander)
    with count_statements(database) as many:
        plans = client.get("/api/transfer-plans", headers=commander).json()["data"]
    assert len(plan["unplaced"]) == 23
    assert [len(p["unplaced"]) for p in plans] == [47, 23]
    assert len(few) == len(many)
