"""The audit view (审计): every change with who and when, inside the reader's jurisdiction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import login, make_user
from tests.people.scenario import TwoCounties, make_two_counties

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.people.models import Jurisdiction

Headers = dict[str, str]
BROWSER = {"Accept": "text/html"}


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> TwoCounties:
    return make_two_counties(database, clock)


@pytest.fixture
def admin(client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties) -> Headers:
    return login(client, make_user(database, clock, Role.ADMIN, world.district.province, username="sheng.admin"))


def events(client: TestClient, headers: Headers, **params: object) -> list[dict]:
    response = client.get("/api/audit/events", params={"page_size": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"])
    return body["data"]


def test_every_change_appears_with_its_actor_and_time(
    client: TestClient, clock: SimulatedClock, world: TwoCounties, admin: Headers
) -> None:
    def at(minutes: int) -> str:
        clock.set(clock.now().replace(hour=2, minute=minutes))
        return clock.now().isoformat().replace("+00:00", "Z")

    times = {"person_created": at(1)}
    person = client.post(
        "/api/persons",
        json={"name": "赵敏", "resident_id": "11010519491231002X", "jurisdiction_id": world.a.building},
        headers=admin,
    ).json()
    times["person_updated"] = at(2)
    client.patch(f"/api/persons/{person['id']}", json={"name": "赵敏敏"}, headers=admin)
    times["venue_created"] = at(3)
    client.post(
        "/api/venues",
        json={"code": "V-audit", "name": "超市", "kind": "supermarket", "jurisdiction_id": world.a.building},
        headers=admin,
    )
    times["import_completed"] = at(4)
    csv = "name,resident_id,jurisdiction_code\n钱多多,110101199003074477,330604001001001\n".encode()
    report = client.post("/api/persons/import", files={"file": ("p.csv", csv)}, headers=admin).json()

    log = events(client, admin, since=times["person_created"])
    assert [e["kind"] for e in log] == [
        "import_completed",
        "person_created",
        "venue_created",
        "person_updated",
        "person_created",
    ]  # newest first
    assert [e["occurred_at"] for e in log] == [
        times["import_completed"],
        times["import_completed"],  # the imported person
        times["venue_created"],
        times["person_updated"],
        times["person_created"],
    ]
    assert {(e["actor_name"], e["actor_id"] is not None) for e in log} == {("sheng.admin", True)}
    assert log[0]["subject_id"] == report["id"]
    assert log[0]["payload"] | {"filename": "p.csv"} == {"filename": "p.csv", "created": 1, "updated": 0, "rejected": 0}
    assert log[1]["refs"] == {"import_report": report["id"]}
    assert log[3]["payload"]["changes"] == {"name": ["赵敏", "赵敏敏"]}
    assert log[4]["person_id"] == person["id"]


def test_a_county_commander_sees_only_their_countys_events(
    client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties, admin: Headers
) -> None:
    client.patch(f"/api/persons/{world.b.person}", json={"phone": "13900000001"}, headers=admin)
    client.patch(f"/api/persons/{world.a.person}", json={"phone": "13900000002"}, headers=admin)
    commander = login(client, make_user(database, clock, Role.COMMANDER, world.a.id))
    seen = events(client, commander)
    assert seen
    assert world.b.person not in {e["person_id"] for e in seen}
    assert world.a.person in {e["person_id"] for e in seen}
    with database.session() as session:
        county_a = set(session.scalars(select(Jurisdiction.id).where(Jurisdiction.path.startswith("33/3306/330604/"))))
    assert {e["jurisdiction_id"] for e in seen} <= county_a
    assert [e["person_id"] for e in events(client, commander, kind="person_updated")] == [world.a.person]
    everything = events(client, admin)
    assert len(everything) > len(seen)
    assert world.b.person in {e["person_id"] for e in everything}


def test_a_county_commander_cannot_read_another_countys_person_history(
    client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties
) -> None:
    commander = login(client, make_user(database, clock, Role.COMMANDER, world.a.id))
    assert events(client, commander, person_id=world.b.person) == []
    assert [e["kind"] for e in events(client, commander, person_id=world.a.person)] == ["person_created"]


@pytest.mark.parametrize(("role", "status"), [(Role.ANALYST, 200), (Role.COMMANDER, 200), (Role.LAB, 403)])
def test_who_may_read_the_audit(
    client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties, role: Role, status: int
) -> None:
    headers = login(client, make_user(database, clock, role, world.a.id))
    assert client.get("/api/audit/events", headers=headers).status_code == status
    page = client.get("/audit", headers=headers | BROWSER)
    assert page.status_code == status
    if status == 200:
        assert "<code>person_created</code>" in page.text
        assert f'href="/people/{world.a.person}"' in page.text
        assert f'href="/people/{world.b.person}"' not in page.text


def test_the_audit_filters_by_kind_actor_and_time(
    client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties, admin: Headers
) -> None:
    analyst_name = make_user(database, clock, Role.ANALYST, world.district.province, username="yanpan")
    analyst = login(client, analyst_name)
    start = clock.now()
    clock.advance(timedelta(hours=1))
    client.post(f"/api/persons/{world.a.person}/reveal", json={"reason": "核对身份信息"}, headers=admin)
    later = clock.now()
    assert [e["kind"] for e in events(client, analyst, kind="resident_id_revealed")] == ["resident_id_revealed"]
    assert {e["actor_name"] for e in events(client, analyst, actor_name="sheng.admin")} == {"sheng.admin"}
    assert [e["kind"] for e in events(client, analyst, since=later.isoformat(), actor_name="sheng.admin")] == [
        "resident_id_revealed"
    ]
    before = events(client, analyst, until=(start + timedelta(seconds=1)).isoformat())
    assert before
    assert "resident_id_revealed" not in {e["kind"] for e in before}


def test_a_time_without_a_zone_is_refused_naming_the_parameter(
    client: TestClient, database: Database, clock: SimulatedClock, world: TwoCounties
) -> None:
    analyst = login(client, make_user(database, clock, Role.ANALYST, world.district.province))
    response = client.get("/api/audit/events", params={"since": "2021-12-10T08:00:00"}, headers=analyst)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "since"
