"""A day of a 2,000-room site driven through the API, as its staff would: the morning and evening
temperature rounds floor by floor, the day's tests listed and a floor's taken, both shifts'
checklists — and at the end of the day nothing is missing or overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories import login, make_user
from tests.isolation.factories import StayRef, give_plans, large_site
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation.models import HealthAlert, IsolationStay, SiteRoom, TemperatureReading
from bihuan.people.models import Jurisdiction

pytestmark = pytest.mark.usefixtures("cheap_argon2")
ROOMS, PER_FLOOR = 2000, 50
DAY = date(2021, 12, 10)  # day 1 of the plans: everyone is tested today


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2021, 12, 10, hour - 8, minute, tzinfo=UTC)  # local hour in Shaoxing (UTC+8)


def _by_floor(database: Database, stays: list[StayRef]) -> dict[int, list[StayRef]]:
    with database.session() as session:
        floors = dict(session.execute(select(SiteRoom.id, SiteRoom.floor_id)).all())
    grouped: dict[int, list[StayRef]] = {}
    for stay in stays:
        grouped.setdefault(floors[stay.room_id], []).append(stay)
    return grouped


def _county_of(database: Database) -> int:
    with database.session() as session:
        jurisdiction = session.scalar(select(IsolationStay.jurisdiction_id).limit(1))
        path = session.scalar(select(Jurisdiction.path).where(Jurisdiction.id == jurisdiction))
        county = session.scalar(select(Jurisdiction.id).where(Jurisdiction.path == "/".join(path.split("/")[:3]) + "/"))
    assert county is not None
    return county


def _round(client: TestClient, api: str, headers: dict[str, str], floor: list[StayRef], at: str) -> dict[str, Any]:
    readings = [{"stay_id": s.stay_id, "value": "36.6", "measured_at": at} for s in floor]
    response = client.post(f"{api}/temperatures", json={"readings": readings}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _checks(client: TestClient, api: str, headers: dict[str, str], shift: str) -> dict[str, Any]:
    sheet = client.get(f"{api}/checklists", params={"day": DAY.isoformat()}, headers=headers).json()
    entries = [
        {"template": line["template"], "item": line["item"], "day": DAY.isoformat(), "shift": shift}
        for line in sheet["lines"]
        if line["shift"] == shift
    ]
    response = client.post(f"{api}/checklists", json={"entries": entries}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_day_of_a_2000_room_site_through_the_api_leaves_nothing_missing_or_overdue(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    site, stays = large_site(database, clock, rooms=ROOMS, per_floor=PER_FLOOR)
    give_plans(database, clock, [s.stay_id for s in stays], date(2021, 12, 9))
    floors = _by_floor(database, stays)
    username = make_user(database, clock, Role.SITE_MANAGER, _county_of(database))
    api = f"/api/sites/{site}"

    clock.set(_at(8, 30))
    staff = login(client, username)
    morning = [_round(client, api, staff, floor, "2021-12-10T08:00") for floor in floors.values()]
    due = client.get(f"{api}/tests", params={"day": DAY.isoformat()}, headers=staff).json()
    first_floor = next(iter(floors))
    floor_tests = client.get(f"{api}/tests", params={"day": DAY.isoformat(), "floor_id": first_floor}, headers=staff)
    taken = [
        client.post(
            f"{api}/tests/{test['id']}/samples",
            json={"tubes": [{"barcode": f"Q-{test['id']:06d}", "reagent": "达安"}]},
            headers=staff,
        )
        for test in floor_tests.json()["data"]
    ]
    day_checks = _checks(client, api, staff, "day")

    clock.set(_at(20, 30))
    staff = login(client, username)  # the night shift
    evening = _round(client, api, staff, stays, "2021-12-10T20:00")  # the whole site in one request
    night_checks = _checks(client, api, staff, "night")

    clock.set(datetime(2021, 12, 11, 1, 30, tzinfo=UTC))  # 09:30 next morning: both shifts and their grace are over
    staff = login(client, username)
    missing = client.post(f"{api}/missing-checks", params={"day": DAY.isoformat()}, headers=staff)
    overdue = client.get(f"{api}/checklists/overdue", headers=staff).json()
    after = client.get(f"{api}/tests", params={"day": DAY.isoformat()}, headers=staff).json()["summary"]

    assert len(floors) == ROOMS // PER_FLOOR and sum(r["stored"] for r in morning) == ROOMS
    assert evening["stored"] == ROOMS and evening["alerts_raised"] == 0
    assert due["count"] == ROOMS and due["summary"]["due"] == ROOMS
    assert [r.status_code for r in taken] == [200] * PER_FLOOR
    assert (after["sampled"], after["due"]) == (PER_FLOOR, ROOMS - PER_FLOOR)
    assert day_checks["recorded"] > 0 and night_checks["recorded"] > 0
    assert missing.status_code == 200, missing.text
    assert missing.json()["raised"] == 0  # everyone measured twice
    assert overdue["count"] == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TemperatureReading)) == 2 * ROOMS
        assert session.scalar(select(func.count()).select_from(HealthAlert)) == 0
