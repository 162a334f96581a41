"""Recorded ends of the loop (闭环终点): a person hospitalised, dead or moved out leaves the loop with that end,
and what held them in the other links — a room, a place in the queue, a home phase — is given up with it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import login, make_person, make_user
from tests.isolation import release_factories
from tests.isolation.factories import StayRef
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import TransferWorld, identify_contacts, make_household

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import Event
from bihuan.grouping.models import TransferRequest
from bihuan.isolation.models import HomeMonitoring, HomeTask, IsolationStay, SiteRoom
from bihuan.protocol import TransferCategory

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Site = tuple[TransferWorld, list[StayRef]]
at_site, released = release_factories.at_site, release_factories.released  # the isolation tests' fixtures


def _user(client: TestClient, database: Database, clock: SimulatedClock, role: Role, where: int) -> dict[str, str]:
    return login(client, make_user(database, clock, role, where))


def _post(client: TestClient, person_id: int, headers: dict[str, str], **body: object) -> Any:
    return client.post(f"/api/people/{person_id}/outcomes", json=body, headers=headers)


def _ago(clock: SimulatedClock, minutes: int) -> str:
    return (clock.now() - timedelta(minutes=minutes)).isoformat()


def _timeline(client: TestClient, person_id: int, headers: dict[str, str]) -> dict[str, object]:
    response = client.get(f"/api/loop/people/{person_id}/timeline", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _events(database: Database, person_id: int, kind: str) -> list[Event]:
    with database.session() as session:
        return list(session.scalars(select(Event).where(Event.person_id == person_id, Event.kind == kind)))


def test_a_person_who_moves_out_of_a_site_closes_their_loop_and_frees_their_room(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: Site
) -> None:
    world, [first, *_] = at_site
    commander = _user(client, database, clock, Role.COMMANDER, world.district.county_a)
    clock.advance(timedelta(hours=3))

    recorded = client.post(
        f"/api/people/{first.person_id}/outcomes",
        json={"outcome": "moved_out", "occurred_at": _ago(clock, 30), "destination": "杭州市西湖区", "note": "返杭"},
        headers=commander,
    )

    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["ended_stay_id"] == first.stay_id
    timeline = _timeline(client, first.person_id, commander)
    assert (timeline["closed"], timeline["end"]) == (True, "moved_out")
    with database.session() as session:
        stay = session.get(IsolationStay, first.stay_id)
        room = session.get(SiteRoom, first.room_id)
        assert stay is not None and room is not None
        assert (stay.status, stay.open_person_id, room.status) == ("moved_out", None, "free")
    listed = client.get(f"/api/people/{first.person_id}/outcomes", headers=commander).json()
    assert [(o["outcome"], o["destination"], o["note"]) for o in listed["data"]] == [
        ("moved_out", "杭州市西湖区", "返杭")
    ]


def _queued_contact(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: Site
) -> tuple[int, dict[str, str]]:
    """A close contact waiting in the transfer queue for an hour, and an investigator of their county."""
    world, _ = at_site
    [person] = make_household(database, clock, world.district.building_a, 1)
    identify_contacts(database, clock, [person], TransferCategory.CLOSE_CONTACT)
    investigator = _user(client, database, clock, Role.INVESTIGATOR, world.district.county_a)
    clock.advance(timedelta(hours=1))
    return person, investigator


def test_a_contact_who_dies_waiting_in_the_queue_leaves_it_and_their_death_is_final(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: Site
) -> None:
    person, investigator = _queued_contact(client, database, clock, at_site)

    died = _post(client, person, investigator, outcome="died", occurred_at=_ago(clock, 10))
    again = _post(client, person, investigator, outcome="died", occurred_at=_ago(clock, 5))
    after = _post(client, person, investigator, outcome="hospitalised", occurred_at=_ago(clock, 1))

    assert died.status_code == again.status_code == 200
    assert again.json()["id"] == died.json()["id"]
    assert len(_events(database, person, "died")) == 1
    assert after.status_code == 422
    assert after.json()["detail"][0]["loc"] == ["body", "outcome"]
    with database.session() as session:
        request = session.scalar(select(TransferRequest).where(TransferRequest.person_id == person))
        assert request is not None and (request.status, request.open_person_id) == ("cancelled", None)
    timeline = _timeline(client, person, investigator)
    assert (timeline["closed"], timeline["end"]) == (True, "died")


def test_a_dead_person_traced_again_is_not_queued_again_and_their_loop_stays_closed(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: Site
) -> None:
    person, investigator = _queued_contact(client, database, clock, at_site)
    assert _post(client, person, investigator, outcome="died", occurred_at=_ago(clock, 10)).status_code == 200

    identify_contacts(database, clock, [person], TransferCategory.CLOSE_CONTACT)  # another case's investigation

    with database.session() as session:
        requests = list(session.scalars(select(TransferRequest.status).where(TransferRequest.person_id == person)))
    assert requests == ["cancelled"]  # the one their death ended; none new
    timeline = _timeline(client, person, investigator)
    assert (timeline["closed"], timeline["end"]) == (True, "died")


def test_hospitalised_from_a_central_quarantine_site_ends_the_stay_with_that_reason(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: Site
) -> None:
    world, [first, *_] = at_site
    manager = _user(client, database, clock, Role.SITE_MANAGER, world.district.county_a)
    clock.advance(timedelta(hours=2))

    not_a_hospital = _post(
        client,
        first.person_id,
        manager,
        outcome="hospitalised",
        occurred_at=_ago(clock, 20),
        hospital_site_id=world.near_site,
    )
    taken = _post(
        client,
        first.person_id,
        manager,
        outcome="hospitalised",
        occurred_at=_ago(clock, 20),
        hospital_site_id=world.hospital,
    )

    assert not_a_hospital.json()["detail"][0]["loc"] == ["body", "hospital_site_id"]
    assert taken.status_code == 200 and taken.json()["hospital_site_id"] == world.hospital
    with database.session() as session:
        stay = session.get(IsolationStay, first.stay_id)
        assert stay is not None and stay.status == "hospitalised"
    assert _timeline(client, first.person_id, manager)["end"] == "hospital"


@pytest.mark.parametrize(("outcome", "end"), [("died", "died"), ("hospitalised", "hospital")])
def test_a_death_or_a_hospital_admission_in_the_home_phase_stops_the_community_workers_tasks(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    released: StayRef,
    at_site: Site,
    outcome: str,
    end: str,
) -> None:
    world, _ = at_site
    worker = _user(client, database, clock, Role.COMMUNITY_WORKER, world.district.community_a)
    assert client.get("/api/home-tasks", headers=worker).json()["data"]

    recorded = _post(client, released.person_id, worker, outcome=outcome, occurred_at=_ago(clock, 60))

    assert recorded.status_code == 200, recorded.text
    assert client.get("/api/home-tasks", headers=worker).json()["data"] == []
    with database.session() as session:
        phases = session.scalars(select(HomeMonitoring).where(HomeMonitoring.person_id == released.person_id)).all()
        tasks = session.scalars(select(HomeTask).where(HomeTask.person_id == released.person_id)).all()
    assert {p.status for p in phases} == {"ended"}
    assert {t.status for t in tasks} == {"cancelled"}
    assert _timeline(client, released.person_id, worker)["end"] == end


def test_bad_input_names_the_field_and_records_nothing(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: Site
) -> None:
    world, [first, *_] = at_site
    commander = _user(client, database, clock, Role.COMMANDER, world.district.county_a)
    stranger = make_person(database, clock, world.district.building_a).id  # never in the loop
    clock.advance(timedelta(hours=1))
    entered = clock.now() - timedelta(hours=1)

    cases = {
        "destination": _post(client, first.person_id, commander, outcome="moved_out", occurred_at=_ago(clock, 5)),
        "occurred_at": _post(
            client,
            first.person_id,
            commander,
            outcome="died",
            occurred_at=(clock.now() + timedelta(hours=1)).isoformat(),
        ),
        "before": _post(
            client,
            first.person_id,
            commander,
            outcome="died",
            occurred_at=(entered - timedelta(days=1)).isoformat(),
        ),
        "naive": _post(client, first.person_id, commander, outcome="died", occurred_at="2021-12-10T08:30:00"),
        "outcome": _post(client, stranger, commander, outcome="died", occurred_at=_ago(clock, 5)),
        "kind": _post(client, first.person_id, commander, outcome="vanished", occurred_at=_ago(clock, 5)),
    }

    fields = {name: r.json()["detail"][0]["loc"][-1] for name, r in cases.items()}
    assert fields == {
        "destination": "destination",
        "occurred_at": "occurred_at",
        "before": "occurred_at",
        "naive": "occurred_at",
        "outcome": "outcome",
        "kind": "outcome",
    }
    assert all(r.status_code == 422 for r in cases.values())
    with database.session() as session:
        kinds = ["hospitalised", "died", "moved_out"]
        assert session.scalars(select(Event).where(Event.kind.in_(kinds))).all() == []
        stay = session.get(IsolationStay, first.stay_id)
        assert stay is not None and stay.status == "in_stay"


def test_resending_an_outcome_is_harmless_and_others_see_only_their_own_people(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: Site
) -> None:
    world, [first, *_] = at_site
    commander = _user(client, database, clock, Role.COMMANDER, world.district.county_a)
    elsewhere = _user(client, database, clock, Role.COMMANDER, world.district.county_b)
    analyst = _user(client, database, clock, Role.ANALYST, world.district.county_a)
    clock.advance(timedelta(hours=1))
    body = {"outcome": "moved_out", "occurred_at": _ago(clock, 15), "destination": "宁波"}

    sent = client.post(f"/api/people/{first.person_id}/outcomes", json=body, headers=commander)
    resent = client.post(f"/api/people/{first.person_id}/outcomes", json=body, headers=commander)
    hidden = client.post(f"/api/people/{first.person_id}/outcomes", json=body, headers=elsewhere)
    hidden_list = client.get(f"/api/people/{first.person_id}/outcomes", headers=elsewhere)
    refused = client.post(f"/api/people/{first.person_id}/outcomes", json=body, headers=analyst)

    assert sent.status_code == resent.status_code == 200
    assert resent.json()["id"] == sent.json()["id"] and resent.json()["ended_stay_id"] == first.stay_id
    assert len(_events(database, first.person_id, "moved_out")) == 1
    assert (hidden.status_code, hidden_list.status_code, refused.status_code) == (404, 404, 403)
