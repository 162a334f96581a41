"""Who sees what: a county user sees their county only, through every door; roles limit what they do."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from tests.factories import login, make_user, new_resident_id
from tests.people.scenario import County, TwoCounties, make_two_counties

from bihuan.core import auth
from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
REASON = {"reason": "流调需要联系本人"}


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at the smallest cost: these tests are about scope, not password strength."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> TwoCounties:
    return make_two_counties(database, clock)


@pytest.fixture
def county_a_commander(client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties) -> dict:
    return login(client, make_user(database, clock, Role.COMMANDER, world.a.id))


def _person_doors(county: County) -> list[tuple[str, str, dict | None]]:
    """Every API route that reads or changes one object of a county."""
    return [
        ("GET", f"/api/persons/{county.person}", None),
        ("PATCH", f"/api/persons/{county.person}", {"phone": "13700001111"}),
        ("POST", f"/api/persons/{county.person}/reveal", REASON),
        ("GET", f"/api/households/{county.household}", None),
        ("GET", f"/api/addresses/{county.address}", None),
        ("GET", f"/api/venues/{county.venue}", None),
        ("PATCH", f"/api/venues/{county.venue}", {"capacity": 80}),
        ("GET", f"/api/jurisdictions/{county.id}", None),
        ("GET", f"/api/jurisdictions/{county.building}", None),
    ]


def _list_filters(county: County) -> list[dict[str, object]]:
    return [
        {},
        {"q": county.person_name[:1]},
        {"resident_id": county.resident_id},
        {"phone": county.phone},
        {"jurisdiction_id": county.id},
        {"jurisdiction_id": county.building},
        {"household_id": county.household},
        {"sex": "M"},
    ]


def test_a_county_user_is_refused_every_object_of_another_county_as_not_found(
    client: TestClient, world: TwoCounties, county_a_commander: dict
) -> None:
    for method, url, body in _person_doors(world.b):
        response = client.request(method, url, json=body, headers=county_a_commander)
        assert response.status_code == 404, (method, url, response.text)


def test_a_county_user_reaches_every_object_of_their_own_county(
    client: TestClient, world: TwoCounties, county_a_commander: dict
) -> None:
    for method, url, body in _person_doors(world.a):
        response = client.request(method, url, json=body, headers=county_a_commander)
        assert response.status_code == 200, (method, url, response.text)
    revealed = client.post(f"/api/persons/{world.a.person}/reveal", json=REASON, headers=county_a_commander).json()
    assert revealed["resident_id"] == world.a.resident_id


def test_no_filter_of_the_person_list_lets_another_county_through(
    client: TestClient, world: TwoCounties, county_a_commander: dict
) -> None:
    for params in _list_filters(world.b):
        listing = client.get("/api/persons", params=params, headers=county_a_commander).json()
        assert world.b.person not in [p["id"] for p in listing["data"]], params
        if params and "sex" not in params:  # every other filter names something of county B only
            assert listing["count"] == 0, params


def test_every_filter_of_the_person_list_finds_the_users_own_people(
    client: TestClient, world: TwoCounties, county_a_commander: dict
) -> None:
    for params in _list_filters(world.a):
        listing = client.get("/api/persons", params=params, headers=county_a_commander).json()
        assert [p["id"] for p in listing["data"]] == [world.a.person], params
        assert listing["count"] == 1


@pytest.mark.parametrize(
    ("url", "key"), [("/api/households", "id"), ("/api/venues", "id"), ("/api/jurisdictions", "id")]
)
def test_the_other_lists_hold_only_the_users_subtree(
    client: TestClient, world: TwoCounties, county_a_commander: dict, url: str, key: str
) -> None:
    rows = client.get(url, headers=county_a_commander).json()["data"]
    assert rows
    if url == "/api/jurisdictions":
        assert {r["path"].split("/")[2] for r in rows} == {"330604"}
    else:
        assert {r["jurisdiction_id"] for r in rows} == {world.a.building}


def test_a_province_wide_user_sees_both_counties(client: TestClient, database: Database, clock, world) -> None:  # type: ignore[no-untyped-def]
    headers = login(client, make_user(database, clock, Role.ANALYST, world.district.province))
    listing = client.get("/api/persons", headers=headers).json()
    assert sorted(p["id"] for p in listing["data"]) == sorted([world.a.person, world.b.person])


def test_a_county_user_cannot_put_people_or_places_into_another_county(
    client: TestClient, world: TwoCounties, county_a_commander: dict
) -> None:
    attempts = [
        ("/api/persons", {"name": "王五", "resident_id": new_resident_id("330602"), "jurisdiction_id": world.b.id}),
        ("/api/venues", {"code": "V-x", "name": "超市", "kind": "supermarket", "jurisdiction_id": world.b.id}),
    ]
    for url, body in attempts:
        response = client.post(url, json=body, headers=county_a_commander)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][-1] == "jurisdiction_id"
    moved = client.patch(
        f"/api/persons/{world.a.person}", json={"jurisdiction_id": world.b.building}, headers=county_a_commander
    )
    assert moved.status_code == 422
    assert client.get(f"/api/persons/{world.a.person}", headers=county_a_commander).json()["jurisdiction_id"] == (
        world.a.building
    )


def test_a_county_user_cannot_hang_their_own_records_on_another_countys_household(
    client: TestClient, world: TwoCounties, county_a_commander: dict
) -> None:
    response = client.patch(
        f"/api/persons/{world.a.person}", json={"household_id": world.b.household}, headers=county_a_commander
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "household_id"


def test_the_people_pages_show_only_the_users_county(
    client: TestClient, world: TwoCounties, county_a_commander: dict
) -> None:
    headers = county_a_commander | BROWSER
    search = client.get("/people", headers=headers)
    assert search.status_code == 200
    assert world.a.person_name in search.text
    assert world.b.person_name not in search.text
    by_number = client.get("/people", params={"resident_id": world.b.resident_id}, headers=headers)
    assert world.b.person_name not in by_number.text
    assert client.get(f"/people/{world.a.person}", headers=headers).status_code == 200
    card = client.get(f"/people/{world.b.person}", headers=headers)
    assert card.status_code == 404
    assert world.b.person_name not in card.text
    reveal = client.post(f"/people/{world.b.person}/reveal", data=REASON, headers=headers)
    assert reveal.status_code == 404
    assert world.b.resident_id not in reveal.text


@pytest.mark.parametrize(
    ("role", "method", "url_template", "body"),
    [
        ("analyst", "POST", "/api/persons", {"name": "王五", "jurisdiction_id": 0}),
        ("analyst", "PATCH", "/api/persons/{person}", {"phone": "13700001111"}),
        ("lab", "POST", "/api/persons/{person}/reveal", REASON),
        ("analyst", "POST", "/api/venues", {"code": "V-9", "name": "x", "kind": "gym", "jurisdiction_id": 0}),
        ("commander", "POST", "/api/jurisdictions", {"code": "99", "name": "x", "level": "province"}),
        ("lab", "GET", "/api/audit/events", None),
        ("investigator", "GET", "/api/audit/events", None),
    ],
)
def test_a_role_without_the_permission_gets_403(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    world: TwoCounties,
    role: str,
    method: str,
    url_template: str,
    body: dict | None,
) -> None:
    headers = login(client, make_user(database, clock, Role(role), world.a.id))
    url = url_template.format(person=world.a.person)
    if body and "jurisdiction_id" in body:
        body = body | {"jurisdiction_id": world.a.building}
    response = client.request(method, url, json=body, headers=headers)
    assert response.status_code == 403, response.text
    assert role in response.json()["detail"]


def test_a_lab_user_cannot_import_persons(client: TestClient, database: Database, clock, world) -> None:  # type: ignore[no-untyped-def]
    headers = login(client, make_user(database, clock, Role.LAB, world.a.id))
    csv = f"name,resident_id,jurisdiction_code\n王五,{new_resident_id()},330604001001001\n".encode()
    response = client.post("/api/persons/import", files={"file": ("p.csv", csv, "text/csv")}, headers=headers)
    assert response.status_code == 403


def test_the_person_card_offers_reveal_only_to_roles_that_may(
    client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties
) -> None:
    lab = login(client, make_user(database, clock, Role.LAB, world.a.id)) | BROWSER
    page = client.get(f"/people/{world.a.person}", headers=lab)
    assert page.status_code == 200
    assert world.a.resident_id not in page.text
    refused = client.post(f"/people/{world.a.person}/reveal", data=REASON, headers=lab)
    assert refused.status_code == 403
    assert world.a.resident_id not in refused.text


OPEN_API_ROUTES = {("POST", "/api/auth/login"), ("POST", "/api/auth/logout")}


def _api_routes(client: TestClient) -> set[tuple[str, str]]:
    """Every API route the app declares, path parameters filled with 1."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {(method.upper(), re.sub(r"\{[a-z_]+\}", "1", path)) for path, ops in paths.items() for method in ops}
    return {r for r in routes if r[1].startswith("/api/")}


def test_every_api_route_needs_a_login(client: TestClient, world: TwoCounties) -> None:
    routes = _api_routes(client)
    assert {("GET", "/api/persons"), ("POST", "/api/persons/1/reveal"), ("GET", "/api/audit/events")} <= routes
    for method, url in sorted(routes - OPEN_API_ROUTES):
        response = client.request(method, url, json={})
        assert response.status_code == 401, (method, url, response.status_code)


def test_an_unknown_or_expired_token_is_401_not_a_fallback_to_anonymous(client: TestClient) -> None:
    assert client.get("/api/persons", headers={"Authorization": "Bearer forged"}).status_code == 401


@pytest.mark.parametrize("url", ["/people", "/people/1", "/audit"])
def test_pages_send_a_visitor_without_a_login_to_the_login_page(client: TestClient, url: str) -> None:
    response = client.get(url, headers=BROWSER, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={url}"
