"""One shared CRUD and permission suite for the register's resources (after NetBox's APIViewTestCases).

Each resource declares only its URL, a factory of valid create payloads, an update payload and what
the API should answer; it inherits the list / get / create / update / unauthenticated / out-of-scope
tests of the verbs it supports. List endpoints have a pinned number of SQL statements: listing 5 or
50 rows costs the same (no N+1).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from tests.factories import count_statements, login, make_user
from tests.people.scenario import TwoCounties, make_two_counties

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.resident_id import make_resident_id

Headers = dict[str, str]


class Resource:
    """What a resource's test declares; the mixins below hold the tests."""

    url: ClassVar[str]
    required_field: ClassVar[str] = "name"

    @pytest.fixture
    def world(self, database: Database, clock: SimulatedClock) -> TwoCounties:
        return make_two_counties(database, clock)

    @pytest.fixture
    def admin(self, client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties) -> Headers:
        """A province-wide administrator: may do everything, everywhere."""
        return login(client, make_user(database, clock, Role.ADMIN, world.district.province))

    @pytest.fixture
    def county_a_admin(
        self, client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties
    ) -> Headers:
        """An administrator of county A only: every permission, one county."""
        return login(client, make_user(database, clock, Role.ADMIN, world.a.id))

    def create_payload(self, world: TwoCounties, n: int, county: str = "a") -> dict[str, Any]:
        """A valid new object number n, inside county a or b."""
        raise NotImplementedError

    def expected(self, payload: dict[str, Any]) -> dict[str, Any]:
        """What the API answers for a payload (masked numbers, defaults...)."""
        return payload

    def create(self, client: TestClient, headers: Headers, world: TwoCounties, n: int, county: str = "a") -> int:
        response = client.post(self.url, json=self.create_payload(world, n, county), headers=headers)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def assert_shows(self, body: dict[str, Any], payload: dict[str, Any]) -> None:
        expected = self.expected(payload)
        assert {k: body[k] for k in expected} == expected


class GetTests(Resource):
    def test_get_answers_what_was_created(self, client: TestClient, admin: Headers, world: TwoCounties) -> None:
        object_id = self.create(client, admin, world, 1)
        response = client.get(f"{self.url}/{object_id}", headers=admin)
        assert response.status_code == 200
        assert response.json()["id"] == object_id
        self.assert_shows(response.json(), self.create_payload(world, 1))

    def test_get_of_an_unknown_id_is_404(self, client: TestClient, admin: Headers) -> None:
        assert client.get(f"{self.url}/987654", headers=admin).status_code == 404

    def test_get_needs_a_login(self, client: TestClient, admin: Headers, world: TwoCounties) -> None:
        object_id = self.create(client, admin, world, 1)
        assert client.get(f"{self.url}/{object_id}").status_code == 401

    def test_get_of_another_countys_object_is_404(
        self, client: TestClient, admin: Headers, county_a_admin: Headers, world: TwoCounties
    ) -> None:
        theirs = self.create(client, admin, world, 1, county="b")
        assert client.get(f"{self.url}/{theirs}", headers=county_a_admin).status_code == 404


class CreateTests(Resource):
    def test_create_answers_201_with_the_object(self, client: TestClient, admin: Headers, world: TwoCounties) -> None:
        payload = self.create_payload(world, 1)
        response = client.post(self.url, json=payload, headers=admin)
        assert response.status_code == 201, response.text
        self.assert_shows(response.json(), payload)

    def test_the_same_object_twice_is_a_409_conflict(
        self, client: TestClient, admin: Headers, world: TwoCounties
    ) -> None:
        self.create(client, admin, world, 1)
        response = client.post(self.url, json=self.create_payload(world, 1), headers=admin)
        assert response.status_code == 409, response.text

    def test_create_without_a_required_field_is_422(
        self, client: TestClient, admin: Headers, world: TwoCounties
    ) -> None:
        payload = self.create_payload(world, 1)
        payload.pop(self.required_field)
        response = client.post(self.url, json=payload, headers=admin)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][-1] == self.required_field

    def test_create_needs_a_login(self, client: TestClient, world: TwoCounties) -> None:
        assert client.post(self.url, json=self.create_payload(world, 1)).status_code == 401

    def test_create_in_another_county_is_refused(
        self, client: TestClient, county_a_admin: Headers, world: TwoCounties
    ) -> None:
        response = client.post(self.url, json=self.create_payload(world, 1, county="b"), headers=county_a_admin)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][-1] in ("jurisdiction_id", "parent_id")


class ListTests(Resource):
    list_statements: ClassVar[int]
    """Statements one list request costs: 2 for the session and its actor, 1 count, 1 page of rows."""

    def ids(self, client: TestClient, headers: Headers, **params: Any) -> list[int]:
        response = client.get(self.url, params={"page_size": 200, **params}, headers=headers)
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["data"]]

    def test_list_holds_what_was_created(self, client: TestClient, admin: Headers, world: TwoCounties) -> None:
        created = [self.create(client, admin, world, n) for n in range(1, 4)]
        listing = client.get(self.url, params={"page_size": 200}, headers=admin).json()
        assert set(created) <= {row["id"] for row in listing["data"]}
        assert listing["count"] == len(listing["data"])

    def test_list_pages(self, client: TestClient, admin: Headers, world: TwoCounties) -> None:
        for n in range(1, 4):
            self.create(client, admin, world, n)
        every = self.ids(client, admin)
        first = client.get(self.url, params={"page_size": 2, "page": 1}, headers=admin).json()
        second = client.get(self.url, params={"page_size": 2, "page": 2}, headers=admin).json()
        assert [r["id"] for r in first["data"] + second["data"]] == every[:4]
        assert first["count"] == second["count"] == len(every)

    def test_list_needs_a_login(self, client: TestClient) -> None:
        assert client.get(self.url).status_code == 401

    def test_list_leaves_out_another_countys_objects(
        self, client: TestClient, admin: Headers, county_a_admin: Headers, world: TwoCounties
    ) -> None:
        ours, theirs = self.create(client, admin, world, 1), self.create(client, admin, world, 2, county="b")
        visible = self.ids(client, county_a_admin)
        assert ours in visible
        assert theirs not in visible
        assert theirs in self.ids(client, admin)

    def test_listing_5_or_50_costs_the_same_pinned_statements(
        self, client: TestClient, database: Database, admin: Headers, world: TwoCounties
    ) -> None:
        for n in range(1, 6):
            self.create(client, admin, world, n)
        with count_statements(database) as few:
            assert len(self.ids(client, admin, page_size=50)) >= 5
        for n in range(6, 51):
            self.create(client, admin, world, n)
        with count_statements(database) as many:
            assert len(self.ids(client, admin, page_size=50)) == 50
        assert len(few) == len(many) == self.list_statements, many


class UpdateTests(Resource):
    def update_payload(self) -> dict[str, Any]:
        raise NotImplementedError

    def test_update_changes_only_the_fields_given(self, client: TestClient, admin: Headers, world: TwoCounties) -> None:
        object_id = self.create(client, admin, world, 1)
        response = client.patch(f"{self.url}/{object_id}", json=self.update_payload(), headers=admin)
        assert response.status_code == 200, response.text
        self.assert_shows(response.json(), self.update_payload())
        kept = {k: v for k, v in self.create_payload(world, 1).items() if k not in self.update_payload()}
        self.assert_shows(client.get(f"{self.url}/{object_id}", headers=admin).json(), kept)

    def test_update_of_an_unknown_id_is_404(self, client: TestClient, admin: Headers) -> None:
        assert client.patch(f"{self.url}/987654", json=self.update_payload(), headers=admin).status_code == 404

    def test_update_needs_a_login(self, client: TestClient, admin: Headers, world: TwoCounties) -> None:
        object_id = self.create(client, admin, world, 1)
        assert client.patch(f"{self.url}/{object_id}", json=self.update_payload()).status_code == 401

    def test_update_of_another_countys_object_is_404_and_changes_nothing(
        self, client: TestClient, admin: Headers, county_a_admin: Headers, world: TwoCounties
    ) -> None:
        theirs = self.create(client, admin, world, 1, county="b")
        before = client.get(f"{self.url}/{theirs}", headers=admin).json()
        response = client.patch(f"{self.url}/{theirs}", json=self.update_payload(), headers=county_a_admin)
        assert response.status_code == 404
        assert client.get(f"{self.url}/{theirs}", headers=admin).json() == before


# -- the resources --------------------------------------------------------------------------------


def _building(world: TwoCounties, county: str) -> int:
    return world.a.building if county == "a" else world.b.building


class TestPersons(ListTests, GetTests, CreateTests, UpdateTests):
    url = "/api/persons"
    list_statements = 4

    def create_payload(self, world: TwoCounties, n: int, county: str = "a") -> dict[str, Any]:
        region = "330604" if county == "a" else "330602"
        return {
            "name": f"测试{n}",
            "resident_id": make_resident_id(region, date(1990, 1, 1) + timedelta(days=n), n % 500, "F"),
            "phone": f"138{n:08d}",
            "jurisdiction_id": _building(world, county),
        }

    def expected(self, payload: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in payload.items() if k not in ("resident_id", "phone")}
        if "resident_id" in payload:
            shown["resident_id_masked"] = payload["resident_id"][:4] + "*" * 10 + payload["resident_id"][-4:]
        if "phone" in payload:
            shown["phone_masked"] = payload["phone"][:3] + "****" + payload["phone"][-4:]
        return shown

    def update_payload(self) -> dict[str, Any]:
        return {"name": "王芳芳", "phone": "13911112222"}


class TestVenues(ListTests, GetTests, CreateTests, UpdateTests):
    url = "/api/venues"
    list_statements = 4

    def create_payload(self, world: TwoCounties, n: int, county: str = "a") -> dict[str, Any]:
        return {
            "code": f"330604-V{n:04d}-{county}",
            "name": f"菜场{n}",
            "kind": "market",
            "jurisdiction_id": _building(world, county),
            "address_text": f"百官街道{n}号",
            "capacity": 100 + n,
        }

    def update_payload(self) -> dict[str, Any]:
        return {"name": "百官农贸市场", "capacity": 250, "kind": "supermarket"}


class TestHouseholds(ListTests, GetTests, CreateTests):
    url = "/api/households"
    required_field = "code"
    list_statements = 4

    def create_payload(self, world: TwoCounties, n: int, county: str = "a") -> dict[str, Any]:
        return {"code": f"HH-{county}-{n:04d}", "jurisdiction_id": _building(world, county)}


class TestJurisdictions(ListTests, GetTests, CreateTests):
    url = "/api/jurisdictions"
    list_statements = 4

    def create_payload(self, world: TwoCounties, n: int, county: str = "a") -> dict[str, Any]:
        code = "330604" if county == "a" else "330602"
        return {
            "code": f"{code}{100 + n:03d}",
            "name": f"第{n}街道",
            "name_en": f"Street {n}",
            "level": "street",
            "parent_id": world.a.id if county == "a" else world.b.id,
        }


class TestAddresses(GetTests, CreateTests):
    url = "/api/addresses"
    required_field = "text"

    def create_payload(self, world: TwoCounties, n: int, county: str = "a") -> dict[str, Any]:
        return {"code": f"ADDR-{county}-{n:04d}", "jurisdiction_id": _building(world, county), "text": f"{n}幢101室"}
