"""The round pages and the sampler's phone page, driven through the TestClient as a browser would."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from tests.factories import login, make_user, new_resident_id
from tests.screening.campaign_factories import Round, cheap_argon2, make_round  # noqa: F401

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def round_(database: Database, clock: SimulatedClock) -> Round:
    return make_round(database, clock, people_a=11, people_b=2)


@pytest.fixture
def sampler(client: TestClient, database: Database, clock: SimulatedClock, round_: Round) -> Headers:
    return login(client, make_user(database, clock, Role.COMMUNITY_WORKER, round_.district.county_a))


def english(headers: Headers) -> Headers:
    return {**headers, "Accept-Language": "en"}


def test_the_round_list_shows_the_rounds_in_both_languages(client: TestClient, sampler: Headers, round_: Round) -> None:
    chinese = client.get("/screening/campaigns", headers=sampler)
    assert chinese.status_code == 200
    assert "核酸检测轮次" in chinese.text and "第R1轮全员核酸" in chinese.text and "进行中" in chinese.text
    page = client.get("/screening/campaigns", headers=english(sampler))
    assert "Testing rounds" in page.text and "Running" in page.text
    assert f'href="/screening/campaigns/{round_.campaign}"' in page.text


def test_the_round_page_charts_progress_by_unit_and_site_from_data_in_the_page(
    client: TestClient, sampler: Headers, round_: Round
) -> None:
    tube = client.post(
        f"/api/screening/campaigns/{round_.campaign}/tubes",
        json={"site_id": round_.site_a, "barcode": "TA1"},
        headers=sampler,
    ).json()
    for number in round_.residents_a[:3]:
        client.post(f"/api/screening/tubes/{tube['id']}/samples", json={"resident_id": number}, headers=sampler)
    page = client.get(f"/screening/campaigns/{round_.campaign}", headers=english(sampler))
    assert page.status_code == 200
    assert '<script src="/static/vendor/echarts/echarts.min.js" defer></script>' in page.text
    assert not re.search(r"""(src|href)=["']https?://""", page.text), "nothing is fetched from elsewhere"
    assert "fetch(" not in page.text
    embedded = re.search(r'<script type="application/json" id="progress-data">(.*?)</script>', page.text, re.S)
    assert embedded is not None
    chart = json.loads(embedded.group(1))
    assert chart["units"] == {"names": ["1幢"], "target": [11], "sampled": [3]}  # county A sees its unit only
    assert chart["sites"]["sampled"] == [3] and chart["labels"]["sampled"] == "Sampled"
    assert "48.0 h left" in page.text and "3 / 11" in page.text
    assert "Controlled area" in page.text and "10-in-1" in page.text
    chinese = client.get(f"/screening/campaigns/{round_.campaign}", headers=sampler)
    assert "管控区" in chinese.text and "10混1" in chinese.text


def test_a_sampler_fills_a_tube_from_the_phone_page(client: TestClient, sampler: Headers, round_: Round) -> None:
    headers = english(sampler)
    start = client.get("/screening/sampler", headers=headers)
    assert start.status_code == 200 and f'<option value="{round_.campaign}">' in start.text
    pick_site = client.get(f"/screening/sampler?campaign_id={round_.campaign}", headers=headers)
    assert f'<option value="{round_.site_a}">' in pick_site.text
    assert f'<option value="{round_.site_b}">' not in pick_site.text, "county B's site is not this sampler's"
    at_site = client.get(f"/screening/sampler?campaign_id={round_.campaign}&site_id={round_.site_a}", headers=headers)
    assert 'name="barcode"' in at_site.text and 'name="viewport"' in at_site.text

    opened = client.post(
        "/screening/sampler/tube",
        data={"campaign_id": round_.campaign, "site_id": round_.site_a, "barcode": "sx-0001"},
        headers={**headers, **HTMX},
    )
    assert opened.status_code == 200
    assert "<html" not in opened.text, "htmx gets the panel alone"
    assert "Tube opened" in opened.text and '<span id="tube-fill">0/10</span>' in opened.text
    tube_id = re.search(r'name="tube_id" value="(\d+)"', opened.text).group(1)  # type: ignore[union-attr]

    for count, number in enumerate(round_.residents_a[:9], start=1):
        scanned = client.post(
            "/screening/sampler/scan", data={"tube_id": tube_id, "resident_id": number}, headers={**headers, **HTMX}
        )
        assert f'<span id="tube-fill">{count}/10</span>' in scanned.text
    assert number not in scanned.text and number[-4:] in scanned.text, "the scanned ID shows masked"

    unknown = client.post(
        "/screening/sampler/scan",
        data={"tube_id": tube_id, "resident_id": new_resident_id()},
        headers={**headers, **HTMX},
    )
    assert unknown.status_code == 200 and "Not in the register of your jurisdiction" in unknown.text
    assert '<span id="tube-fill">9/10</span>' in unknown.text, "the tube stays open for the next person"

    full = client.post(
        "/screening/sampler/scan",
        data={"tube_id": tube_id, "resident_id": round_.residents_a[9]},
        headers={**headers, **HTMX},
    )
    assert "Tube full — scan a new tube" in full.text
    assert 'name="barcode"' in full.text and 'name="resident_id"' not in full.text
    assert "SX-0001" in full.text and "10/10" in full.text

    late = client.post(
        "/screening/sampler/scan", data={"tube_id": tube_id, "resident_id": round_.residents_a[10]}, headers=headers
    )
    assert late.status_code == 409 and "Tube full — scan a new tube" in late.text


def test_the_sampler_page_speaks_chinese_and_refuses_clearly(
    client: TestClient, sampler: Headers, round_: Round
) -> None:
    bad = client.post(
        "/screening/sampler/tube",
        data={"campaign_id": round_.campaign, "site_id": round_.site_a, "barcode": "管 1"},
        headers=sampler,
    )
    assert bad.status_code == 422 and "条码被拒绝" in bad.text
    opened = client.post(
        "/screening/sampler/tube",
        data={"campaign_id": round_.campaign, "site_id": round_.site_a, "barcode": "T1"},
        headers={**sampler, **HTMX},
    )
    tube_id = re.search(r'name="tube_id" value="(\d+)"', opened.text).group(1)  # type: ignore[union-attr]
    invalid = client.post("/screening/sampler/scan", data={"tube_id": tube_id, "resident_id": "123"}, headers=sampler)
    assert invalid.status_code == 422 and "身份证号被拒绝" in invalid.text
    client.post(
        "/screening/sampler/scan", data={"tube_id": tube_id, "resident_id": round_.residents_a[0]}, headers=sampler
    )
    closed = client.post("/screening/sampler/close", data={"tube_id": tube_id}, headers=sampler)
    assert closed.status_code == 200 and "已封管" in closed.text and 'name="barcode"' in closed.text
