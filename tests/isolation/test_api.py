"""The sites API as a site manager uses it: register a site, add a floor of rooms, read occupancy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.factories import login, make_district, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.usefixtures("cheap_argon2")
SITE = {
    "code": "HOTEL-7",
    "name": "百官隔离酒店",
    "kind": "central_quarantine",
    "city": "上虞",
    "lat": 30.03,
    "lon": 120.87,
    "places": [{"category": "close_contact", "places": 0}],
}


def test_a_site_manager_adds_a_floor_and_its_rooms_become_the_sites_places(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, district.county_a))
    site = client.post("/api/sites", json=SITE, headers=manager).json()

    floors = client.post(
        f"/api/sites/{site['id']}/floors",
        json={"building": "A", "number": 2, "category": "close_contact", "room_count": 12},
        headers=manager,
    )
    again = client.post(
        f"/api/sites/{site['id']}/floors",
        json={"building": "A", "number": 2, "category": "close_contact", "room_count": 12},
        headers=manager,
    )

    assert floors.status_code == 201, floors.text
    assert floors.json() == again.json()
    assert [(f["number"], f["free"]) for f in again.json()] == [(2, 12)]
    shown = client.get(f"/api/sites/{site['id']}", headers=manager).json()
    assert [(p["places"], p["free"]) for p in shown["places"]] == [(12, 12)]


def test_a_floor_with_rooms_and_a_room_count_is_refused(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, district.county_a))
    site = client.post("/api/sites", json=SITE, headers=manager).json()
    response = client.post(
        f"/api/sites/{site['id']}/floors",
        json={"building": "A", "number": 2, "category": "close_contact", "room_count": 2, "rooms": [{"number": "1"}]},
        headers=manager,
    )
    assert response.status_code == 422 and "not both" in response.text
