"""Persons in the register: identity from the resident ID, masked everywhere, revealed only for a logged reason."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from tests.factories import District, login, make_district, make_user

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.resident_id import check_character, make_resident_id

Headers = dict[str, str]
NUMBER = make_resident_id("330604", date(1985, 3, 4), 123, "M")  # 330604198503042xx: a man born 4 March 1985


@pytest.fixture
def district(database: Database, clock: SimulatedClock) -> District:
    return make_district(database, clock)


@pytest.fixture
def commander(client: TestClient, database: Database, clock: SimulatedClock, district: District) -> Headers:
    return login(client, make_user(database, clock, Role.COMMANDER, district.county_a, username="chen.commander"))


def _create(client: TestClient, headers: Headers, district: District, **fields: object):  # type: ignore[no-untyped-def]
    body = {"name": "陈建国", "resident_id": NUMBER, "jurisdiction_id": district.building_a} | fields
    return client.post("/api/persons", json=body, headers=headers)


def _events(client: TestClient, headers: Headers, kind: str) -> list[dict]:
    response = client.get("/api/audit/events", params={"kind": kind}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _refusal(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    detail = response.json()["detail"][0]
    return detail["loc"][-1], detail["msg"]


def test_birth_date_and_sex_come_from_the_resident_id(client: TestClient, commander: Headers, district) -> None:  # type: ignore[no-untyped-def]
    person = _create(client, commander, district, phone="138 1234 5678").json()
    assert (person["birth_date"], person["sex"]) == ("1985-03-04", "M")
    assert person["nationality"] == "CHN"
    assert person["jurisdiction_name"] == "1幢"


def test_a_sex_that_contradicts_the_resident_id_is_refused_naming_sex(
    client: TestClient, commander: Headers, district: District
) -> None:
    field, message = _refusal(_create(client, commander, district, sex="女"))
    assert field == "sex"
    assert "contradicts" in message


def test_a_birth_date_that_contradicts_the_resident_id_is_refused_naming_birth_date(
    client: TestClient, commander: Headers, district: District
) -> None:
    field, message = _refusal(_create(client, commander, district, birth_date="1985-04-03"))
    assert field == "birth_date"
    assert "1985-03-04" in message


def test_matching_sex_and_birth_date_are_accepted(client: TestClient, commander: Headers, district: District) -> None:
    assert _create(client, commander, district, sex="男", birth_date="1985-03-04").status_code == 201


def test_a_wrong_check_digit_is_refused_naming_resident_id_and_the_expected_digit(
    client: TestClient, commander: Headers, district: District
) -> None:
    expected = NUMBER[17]
    wrong = "0" if expected != "0" else "1"
    field, message = _refusal(_create(client, commander, district, resident_id=NUMBER[:17] + wrong))
    assert field == "resident_id"
    assert message == f"check digit is {wrong}, expected {expected}"


def test_a_birth_date_after_the_simulated_today_is_refused(
    client: TestClient, commander: Headers, district: District
) -> None:
    tomorrow = make_resident_id("330604", date(2021, 12, 11), 5, "F")  # the drill clock says 10 December 2021
    field, message = _refusal(_create(client, commander, district, resident_id=tomorrow))
    assert (field, "impossible" in message) == ("resident_id", True)


def test_an_impossible_date_inside_the_number_is_refused(
    client: TestClient, commander: Headers, district: District
) -> None:
    first17 = "33060419850230123"
    field, message = _refusal(_create(client, commander, district, resident_id=first17 + check_character(first17)))
    assert (field, message) == ("resident_id", "birth date 19850230 is not a real date")


def test_a_passport_holder_needs_a_foreign_nationality(
    client: TestClient, commander: Headers, district: District
) -> None:
    body = {"resident_id": None, "passport_no": "E12345678", "sex": "F", "birth_date": "1990-06-01"}
    assert _refusal(_create(client, commander, district, **body))[0] == "nationality"
    created = _create(client, commander, district, **body, nationality="kor")
    assert created.status_code == 201, created.text
    person = created.json()
    assert (person["nationality"], person["passport_masked"], person["resident_id_masked"]) == (
        "KOR",
        "E123*5678",
        None,
    )


def test_a_person_with_neither_resident_id_nor_passport_is_refused(
    client: TestClient, commander: Headers, district: District
) -> None:
    assert _refusal(_create(client, commander, district, resident_id=None))[0] == "resident_id"


def test_the_same_resident_id_twice_is_a_conflict(client: TestClient, commander: Headers, district: District) -> None:
    assert _create(client, commander, district).status_code == 201
    again = _create(client, commander, district, name="陈建民", resident_id=f" {NUMBER.lower()} ")
    assert again.status_code == 409
    assert len(client.get("/api/persons", headers=commander).json()["data"]) == 1


def test_lists_and_cards_show_masked_numbers_only(client: TestClient, commander: Headers, district: District) -> None:
    person_id = _create(client, commander, district, phone="13812345678").json()["id"]
    browser = commander | {"Accept": "text/html"}
    answers = [
        client.get("/api/persons", headers=commander),
        client.get(f"/api/persons/{person_id}", headers=commander),
        client.get("/api/persons", params={"resident_id": NUMBER}, headers=commander),
        client.get("/people", headers=browser),
        client.get(f"/people/{person_id}", headers=browser),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert f"{NUMBER[:4]}**********{NUMBER[-4:]}" in answer.text
        assert "138****5678" in answer.text
        assert NUMBER not in answer.text
        assert "13812345678" not in answer.text


def test_a_reveal_needs_a_reason(client: TestClient, commander: Headers, district: District) -> None:
    person_id = _create(client, commander, district).json()["id"]
    for body in ({}, {"reason": ""}, {"reason": "ok"}):
        assert client.post(f"/api/persons/{person_id}/reveal", json=body, headers=commander).status_code == 422
    assert (
        client.post(f"/api/persons/{person_id}/reveal", json={"reason": "    x   "}, headers=commander).status_code
        == 422
    )
    assert _events(client, commander, "resident_id_revealed") == []


def test_a_reveal_returns_the_full_number_and_is_logged_with_reason_and_actor(
    client: TestClient, commander: Headers, district: District, clock: SimulatedClock
) -> None:
    person_id = _create(client, commander, district, phone="13812345678").json()["id"]
    reason = "密接转运需要核对身份"
    revealed = client.post(f"/api/persons/{person_id}/reveal", json={"reason": reason}, headers=commander)
    assert revealed.status_code == 200
    assert revealed.json() == {"id": person_id, "resident_id": NUMBER, "passport_no": None, "phone": "13812345678"}
    [event] = _events(client, commander, "resident_id_revealed")
    assert (event["person_id"], event["actor_name"], event["payload"]["reason"]) == (
        person_id,
        "chen.commander",
        reason,
    )
    assert event["actor_id"] is not None
    assert event["occurred_at"].startswith(clock.now().date().isoformat())


def test_a_reveal_on_the_person_card_is_logged_too(client: TestClient, commander: Headers, district: District) -> None:
    person_id = _create(client, commander, district).json()["id"]
    browser = commander | {"Accept": "text/html"}
    refused = client.post(f"/people/{person_id}/reveal", data={"reason": ""}, headers=browser)
    assert refused.status_code == 422
    assert NUMBER not in refused.text
    shown = client.post(f"/people/{person_id}/reveal", data={"reason": "核对转运名单"}, headers=browser)
    assert shown.status_code == 200
    assert NUMBER in shown.text
    assert [e["payload"]["reason"] for e in _events(client, commander, "resident_id_revealed")] == ["核对转运名单"]


def test_an_update_is_logged_with_what_changed_and_masks_phones_in_the_log(
    client: TestClient, commander: Headers, district: District
) -> None:
    person_id = _create(client, commander, district, phone="13812345678").json()["id"]
    updated = client.patch(
        f"/api/persons/{person_id}",
        json={"name": "陈建国", "phone": "139-1111-2222", "jurisdiction_id": district.community_a},
        headers=commander,
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["phone_masked"], updated.json()["jurisdiction_id"]) == ("139****2222", district.community_a)
    [event] = _events(client, commander, "person_updated")
    assert event["person_id"] == person_id
    assert event["actor_name"] == "chen.commander"
    assert event["payload"]["changes"] == {
        "phone": ["138****5678", "139****2222"],
        "jurisdiction_id": [district.building_a, district.community_a],
    }  # the name did not change, so it is not in the log


def test_an_update_that_changes_nothing_writes_no_event(
    client: TestClient, commander: Headers, district: District
) -> None:
    person_id = _create(client, commander, district, phone="13812345678").json()["id"]
    assert (
        client.patch(f"/api/persons/{person_id}", json={"phone": "13812345678"}, headers=commander).status_code == 200
    )
    assert _events(client, commander, "person_updated") == []


def test_an_update_with_a_bad_phone_is_refused_naming_phone(
    client: TestClient, commander: Headers, district: District
) -> None:
    person_id = _create(client, commander, district).json()["id"]
    response = client.patch(f"/api/persons/{person_id}", json={"phone": "12345"}, headers=commander)
    assert _refusal(response)[0] == "phone"


def test_creating_a_person_logs_person_created(client: TestClient, commander: Headers, district: District) -> None:
    person_id = _create(client, commander, district).json()["id"]
    [event] = _events(client, commander, "person_created")
    assert (event["person_id"], event["jurisdiction_id"], event["actor_name"]) == (
        person_id,
        district.building_a,
        "chen.commander",
    )
