"""The HTTP API of rounds, sites, tubes and scans: thin routes, 422s that name the field, scope."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.factories import count_statements, login, make_user, new_resident_id
from tests.screening.campaign_factories import Round, cheap_argon2, make_round  # noqa: F401

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.usefixtures("cheap_argon2")
API = "/api/screening"
Headers = dict[str, str]


@pytest.fixture
def round_(database: Database, clock: SimulatedClock) -> Round:
    return make_round(database, clock, people_a=11, people_b=2)


@pytest.fixture
def admin(client: TestClient, database: Database, clock: SimulatedClock, round_: Round) -> Headers:
    return login(client, make_user(database, clock, Role.ADMIN, round_.district.province))


def field_of(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [".".join(str(part) for part in error["loc"][1:]) for error in response.json()["detail"]]


def test_a_round_is_created_listed_and_read(client: TestClient, admin: Headers, round_: Round) -> None:
    district = round_.district
    body = {
        "code": "R2",
        "name": "第二轮",
        "units": [
            {"jurisdiction_id": district.county_a, "area_kind": "precaution"},
            {"jurisdiction_id": district.building_b, "area_kind": "quarantine_site"},
        ],
    }
    created = client.post(f"{API}/campaigns", json=body, headers=admin)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "running"
    assert {u["jurisdiction_id"]: (u["pool_size"], u["target"]) for u in campaign["units"]} == {
        district.county_a: (20, 11),
        district.building_b: (1, 2),
    }
    assert campaign["target"] == 13
    listed = client.get(f"{API}/campaigns", headers=admin).json()
    assert listed["count"] == 2 and [c["code"] for c in listed["data"]] == ["R2", "R1"]
    assert client.get(f"{API}/campaigns/{campaign['id']}", headers=admin).json() == campaign
    assert client.get(f"{API}/campaigns?status=closed", headers=admin).json()["count"] == 0


def test_listing_rounds_costs_the_same_however_many(
    client: TestClient, admin: Headers, round_: Round, database: Database
) -> None:
    def listing() -> int:
        with count_statements(database) as statements:
            assert client.get(f"{API}/campaigns", headers=admin).status_code == 200
        return len(statements)

    one = listing()
    for n in range(3):
        body = {
            "code": f"X{n}",
            "name": "x",
            "units": [
                {"jurisdiction_id": round_.district.building_a, "area_kind": "controlled"},
                {"jurisdiction_id": round_.district.building_b, "area_kind": "other"},
            ],
        }
        assert client.post(f"{API}/campaigns", json=body, headers=admin).status_code == 201
    assert listing() == one


def test_refusals_are_422s_naming_the_field(client: TestClient, admin: Headers, round_: Round) -> None:
    district = round_.district
    unit = {"jurisdiction_id": district.building_a, "area_kind": "controlled"}
    post = client.post
    assert field_of(post(f"{API}/campaigns", json={"code": "Z", "name": "z", "units": []}, headers=admin)) == ["units"]
    overlapping = {"code": "Z", "name": "z", "units": [{**unit, "jurisdiction_id": district.county_a}, unit]}
    assert field_of(post(f"{API}/campaigns", json=overlapping, headers=admin)) == ["units.1.jurisdiction_id"]
    bad_kind = {"code": "Z", "name": "z", "units": [{**unit, "area_kind": "downtown"}]}
    assert field_of(post(f"{API}/campaigns", json=bad_kind, headers=admin)) == ["units.0.area_kind"]
    taken = {"code": "R1", "name": "z", "units": [unit]}
    assert field_of(post(f"{API}/campaigns", json=taken, headers=admin)) == ["code"]
    naive = {"code": "Z", "name": "z", "units": [unit], "starts_at": "2021-12-10T08:00:00"}
    assert field_of(post(f"{API}/campaigns", json=naive, headers=admin)) == ["starts_at"]

    site = {
        "code": "S9",
        "name": "广场",
        "jurisdiction_id": district.building_a,
        "opens_at": "2021-12-10T08:00:00+08:00",
        "closes_at": "2021-12-10T07:00:00+08:00",
        "capacity_per_hour": 50,
    }
    assert field_of(post(f"{API}/campaigns/{round_.campaign}/sites", json=site, headers=admin)) == ["closes_at"]
    no_capacity = {**site, "closes_at": "2021-12-10T18:00:00+08:00", "capacity_per_hour": 0}
    assert field_of(post(f"{API}/campaigns/{round_.campaign}/sites", json=no_capacity, headers=admin)) == [
        "capacity_per_hour"
    ]

    tubes = f"{API}/campaigns/{round_.campaign}/tubes"
    assert field_of(post(tubes, json={"site_id": round_.site_a, "barcode": "T 1"}, headers=admin)) == ["barcode"]
    assert field_of(post(tubes, json={"site_id": 999_999, "barcode": "T1"}, headers=admin)) == ["site_id"]
    tube = post(tubes, json={"site_id": round_.site_a, "barcode": "T1"}, headers=admin).json()
    assert field_of(post(tubes, json={"site_id": round_.site_b, "barcode": "T1"}, headers=admin)) == ["barcode"]
    samples = f"{API}/tubes/{tube['id']}/samples"
    assert field_of(post(samples, json={"resident_id": "12345"}, headers=admin)) == ["resident_id"]
    unknown = post(samples, json={"resident_id": new_resident_id()}, headers=admin)
    assert field_of(unknown) == ["resident_id"]
    assert "registered" in unknown.json()["detail"][0]["msg"]


def test_a_sampler_fills_a_tube_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock, round_: Round
) -> None:
    sampler = login(client, make_user(database, clock, Role.COMMUNITY_WORKER, round_.district.county_a))
    opened = client.post(
        f"{API}/campaigns/{round_.campaign}/tubes",
        json={"site_id": round_.site_a, "barcode": "SX0001"},
        headers=sampler,
    )
    assert opened.status_code == 201, opened.text
    tube = opened.json()
    assert (tube["kind"], tube["capacity"], tube["fill"]) == ("pooled", 10, 0)
    resumed = client.post(
        f"{API}/campaigns/{round_.campaign}/tubes",
        json={"site_id": round_.site_a, "barcode": "SX0001"},
        headers=sampler,
    )
    assert (resumed.status_code, resumed.json()["id"]) == (200, tube["id"])
    samples = f"{API}/tubes/{tube['id']}/samples"
    first = client.post(samples, json={"resident_id": round_.residents_a[0]}, headers=sampler)
    assert first.status_code == 201
    assert client.post(samples, json={"resident_id": round_.residents_a[0]}, headers=sampler).status_code == 200
    for number in round_.residents_a[1:10]:
        last = client.post(samples, json={"resident_id": number}, headers=sampler)
    assert last.json()["tube"]["fill"] == 10 and last.json()["tube"]["closed_at"] is not None
    full = client.post(samples, json={"resident_id": round_.residents_a[10]}, headers=sampler)
    assert full.status_code == 409 and "scan a new tube" in full.json()["detail"]
    listed = client.get(samples, headers=sampler).json()
    assert listed["count"] == 10
    assert not any(number in full.text + str(listed) for number in round_.residents_a)
    assert listed["data"][0]["resident_id_masked"].count("*") == 10
    progress = client.get(f"{API}/campaigns/{round_.campaign}/progress", headers=sampler).json()
    assert (progress["sampled"], progress["target"]) == (10, 11)
    assert [u["sampled"] for u in progress["units"]] == [10]
    assert progress["hours_left"] == 48


def test_closing_a_tube_and_a_round(
    client: TestClient, admin: Headers, round_: Round, database: Database, clock: SimulatedClock
) -> None:
    tube = client.post(
        f"{API}/campaigns/{round_.campaign}/tubes", json={"site_id": round_.site_b, "barcode": "B1"}, headers=admin
    ).json()
    client.post(f"{API}/tubes/{tube['id']}/samples", json={"resident_id": round_.residents_b[0]}, headers=admin)
    closed = client.post(f"{API}/tubes/{tube['id']}/close", headers=admin).json()
    assert (closed["fill"], closed["closed_at"] is not None) == (1, True)
    clock.advance(timedelta(hours=50))
    admin = login(client, make_user(database, clock, Role.ADMIN, round_.district.province))  # the session expired
    ended = client.post(f"{API}/campaigns/{round_.campaign}/close", headers=admin).json()
    assert ended["status"] == "closed"
    progress = client.get(f"{API}/campaigns/{round_.campaign}/progress", headers=admin).json()
    assert progress["overdue"] is True and progress["status"] == "closed"


def test_scope_roles_and_login_are_enforced(
    client: TestClient, database: Database, clock: SimulatedClock, round_: Round
) -> None:
    assert client.get(f"{API}/campaigns").status_code == 401
    district = round_.district
    other = make_district_b_round(client, database, clock, round_)
    county_a = login(client, make_user(database, clock, Role.ANALYST, district.county_a))
    assert client.get(f"{API}/campaigns/{other}", headers=county_a).status_code == 404
    assert [c["id"] for c in client.get(f"{API}/campaigns", headers=county_a).json()["data"]] == [round_.campaign]
    sites = client.get(f"{API}/campaigns/{round_.campaign}/sites", headers=county_a).json()
    assert [s["code"] for s in sites["data"]] == ["SA"]
    body = {"code": "Q", "name": "q", "units": [{"jurisdiction_id": district.building_a, "area_kind": "other"}]}
    assert client.post(f"{API}/campaigns", json=body, headers=county_a).status_code == 403
    lab = login(client, make_user(database, clock, Role.LAB, district.county_a))
    assert client.post(f"{API}/campaigns", json=body, headers=lab).status_code == 403


def make_district_b_round(client: TestClient, database: Database, clock: SimulatedClock, round_: Round) -> int:
    admin = login(client, make_user(database, clock, Role.ADMIN, round_.district.province))
    body = {
        "code": "RB",
        "name": "越城",
        "units": [{"jurisdiction_id": round_.district.county_b, "area_kind": "other"}],
    }
    response = client.post(f"{API}/campaigns", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])
