"""The lab results and follow-up API and pages: thin routes, scoped to the user's jurisdiction."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.factories import District, login, make_district, make_user
from tests.screening.lab_factories import lab_csv, lab_xlsx, make_people, make_tube, new_barcode, result_row

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.usefixtures("cheap_argon2")
from tests.screening.lab_factories import cheap_argon2  # noqa: E402, F401  (fixture)

API = "/api/screening"


@pytest.fixture
def district(database: Database, clock: SimulatedClock) -> District:
    return make_district(database, clock)


def headers_for(client: TestClient, database: Database, clock: SimulatedClock, role: Role, place: int | None):  # type: ignore[no-untyped-def]
    return login(client, make_user(database, clock, role, place))


def test_a_lab_posts_results_as_json_and_gets_the_report(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    lab = headers_for(client, database, clock, Role.LAB, None)
    pool = make_tube(database, clock, make_people(database, clock, district.building_a, 3))
    items = [
        result_row(pool.barcode, "positive", ct_orf1ab=25.2, ct_n="23"),
        result_row(new_barcode(), "negative"),
        result_row(new_barcode(), "阴性", ct_e=60),
    ]
    response = client.post(f"{API}/lab-results", json=items, headers=lab)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows_total"], body["rows_created"], body["rows_rejected"]) == (3, 2, 1)
    assert (body["held"], body["positive"], body["kind"]) == (1, 1, "lab_results")
    assert body["errors"] == [{"row": 3, "field": "ct_e", "reason": "60 is outside 0–45"}]
    again = client.post(f"{API}/lab-results", json=items, headers=lab).json()
    assert (again["rows_created"], again["rows_unchanged"]) == (0, 2)
    assert client.get(f"{API}/lab-results/uploads/{body['id']}", headers=lab).json()["rows_created"] == 2
    held = client.get(f"{API}/lab-results/held", headers=lab).json()
    assert held["count"] == 1 and held["data"][0]["tube_barcode"] == items[1]["tube_barcode"]


def test_an_xlsx_upload_returns_the_kept_report(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    commander = headers_for(client, database, clock, Role.COMMANDER, district.city)
    pool = make_tube(database, clock, make_people(database, clock, district.building_a, 2))
    content = lab_xlsx([result_row(pool.barcode, "阳性"), result_row("", "negative")])
    files = {"file": ("results.xlsx", content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    response = client.post(f"{API}/lab-results/upload", files=files, headers=commander)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["filename"], report["rows_created"], report["positive"]) == ("results.xlsx", 1, 1)
    assert report["errors"] == [{"row": 3, "field": "tube_barcode", "reason": "is required"}]
    retests = client.get(f"{API}/retests", params={"status": "open"}, headers=commander).json()
    assert retests["count"] == 2


def test_follow_up_through_the_api_is_scoped_and_ends_in_a_case(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    lab = headers_for(client, database, clock, Role.LAB, None)
    ours = make_people(database, clock, district.building_a, 2)
    theirs = make_people(database, clock, district.building_b, 2)
    rows = [result_row(make_tube(database, clock, group).barcode, "positive") for group in (ours, theirs)]
    client.post(f"{API}/lab-results", json=rows, headers=lab)
    worker = headers_for(client, database, clock, Role.COMMUNITY_WORKER, district.county_a)
    investigator = headers_for(client, database, clock, Role.INVESTIGATOR, district.county_a)
    other_county = headers_for(client, database, clock, Role.INVESTIGATOR, district.county_b)

    listed = client.get(f"{API}/retests", headers=worker).json()
    assert listed["count"] == 2 and {r["person_id"] for r in listed["data"]} == set(ours)
    first = listed["data"][0]
    assert first["resident_id_masked"].count("*") == 10 and first["age_hours"] == 0 and not first["overdue"]
    assert first["jurisdiction_name"] == "1幢"

    sampled = client.post(f"{API}/retests/{first['id']}/sample", json={"barcode": "RT-9"}, headers=worker)
    assert sampled.status_code == 200, sampled.text
    assert sampled.json()["status"] == "sampled" and sampled.json()["hours_to_sample"] == 0
    foreign = client.get(f"{API}/retests", headers=other_county).json()["data"][0]["id"]
    assert client.post(f"{API}/retests/{foreign}/sample", json={"barcode": "RT-10"}, headers=worker).status_code == 404

    client.post(f"{API}/lab-results", json=[result_row("RT-9", "positive", run_id="R2")], headers=lab)
    pending = client.get(f"{API}/confirmations", params={"status": "pending"}, headers=investigator).json()
    assert pending["count"] == 1
    assert client.get(f"{API}/confirmations", headers=other_county).json()["count"] == 0
    cid = pending["data"][0]["id"]
    refused = client.post(f"{API}/confirmations/{cid}/decide", json={"outcome": "confirmed"}, headers=worker)
    assert refused.status_code == 403
    hidden = client.post(f"{API}/confirmations/{cid}/decide", json={"outcome": "confirmed"}, headers=other_county)
    assert hidden.status_code == 404
    decided = client.post(f"{API}/confirmations/{cid}/decide", json={"outcome": "confirmed"}, headers=investigator)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "confirmed" and decided.json()["case_id"] is not None
    assert client.post(f"{API}/lab-results", json=[result_row("X", "negative")], headers=worker).status_code == 403


def test_the_lab_upload_page_shows_the_error_report(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    lab = headers_for(client, database, clock, Role.LAB, None)
    content = lab_csv([result_row(new_barcode()), result_row(new_barcode(), "maybe")])
    response = client.post(
        "/screening/lab", files={"file": ("lab.csv", content, "text/csv")}, headers=lab, follow_redirects=True
    )
    assert response.status_code == 200
    page = response.text
    assert "lab.csv" in page and "&#39;maybe&#39; is not a result" in page and '<td class="num">3</td>' in page
    english = client.get("/screening/lab?lang=en", headers=lab).text
    assert "Held results" in english and "Upload a lab export" in english
    chinese = client.get("/screening/lab?lang=zh-CN", headers=lab).text
    assert "上传" in chinese
    refused = client.post("/screening/lab", files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}, headers=lab)
    assert refused.status_code == 422 and "missing column(s)" in refused.text


def test_the_follow_up_page_lists_tasks_and_decides(
    client: TestClient, database: Database, clock: SimulatedClock, district: District
) -> None:
    commander = headers_for(client, database, clock, Role.COMMANDER, None)
    members = make_people(database, clock, district.building_a, 2)
    pool = make_tube(database, clock, members)
    client.post(f"{API}/lab-results", json=[result_row(pool.barcode, "positive")], headers=commander)
    page = client.get("/screening/followup?lang=en", headers=commander)
    assert page.status_code == 200 and "Re-tests to sample" in page.text and pool.barcode in page.text
    retest = client.get(f"{API}/retests", headers=commander).json()["data"][0]["id"]
    done = client.post(
        f"/screening/retests/{retest}/sample", data={"barcode": "RT-77"}, headers=commander, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/screening/followup?done=sampled"
    again = client.post(f"/screening/retests/{retest}/sample", data={"barcode": "RT-78"}, headers=commander)
    assert again.status_code == 409
    client.post(f"{API}/lab-results", json=[result_row("RT-77", "positive", run_id="R9")], headers=commander)
    page = client.get("/screening/followup?lang=en", headers=commander).text
    assert "Confirmations to decide" in page and "RT-77" in page
    cid = client.get(f"{API}/confirmations", headers=commander).json()["data"][0]["id"]
    decided = client.post(
        f"/screening/confirmations/{cid}/decide",
        data={"outcome": "confirmed", "note": "CT"},
        headers=commander,
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert client.get(f"{API}/confirmations", params={"status": "confirmed"}, headers=commander).json()["count"] == 1
