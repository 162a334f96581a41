"""The tracing pages (流调), driven through the TestClient as an investigator's browser would."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories import login, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.tracing.factories import World, confirm_case, make_world, scan, utc, world_scans, write_scans

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.tracing.models import Investigation, TracingRun, TrajectoryVisit
from bihuan.tracing.service.runtime import runtime_for

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]


def english(headers: Headers) -> Headers:
    return {**headers, "Accept-Language": "en"}


@pytest.fixture
def world(app: FastAPI, database: Database, clock: SimulatedClock) -> World:
    """The small traced world, its scans in the app's store, and the case confirmed (so traced at once)."""
    world = make_world(database, clock)
    runtime = runtime_for(app.state.database)
    assert runtime is not None
    write_scans(runtime, world_scans(world))
    confirm_case(database, clock, world.case_person, world.district.building_a)
    return world


@pytest.fixture
def investigator(client: TestClient, database: Database, clock: SimulatedClock, world: World) -> Headers:
    return login(client, make_user(database, clock, Role.INVESTIGATOR, world.district.county_a))


@pytest.fixture
def investigation_id(database: Database, world: World) -> int:
    with database.session() as session:
        found = session.scalar(select(Investigation.id))
    assert found is not None
    return found


def _visits(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(TrajectoryVisit)) or 0


def test_the_list_shows_a_traced_case_with_its_contacts_in_both_languages(
    client: TestClient, investigator: Headers, investigation_id: int
) -> None:
    chinese = client.get("/tracing/investigations", headers=investigator)
    assert chinese.status_code == 200
    assert "流调" in chinese.text and "张伟" in chinese.text and "密接" in chinese.text
    assert f'href="/tracing/investigations/{investigation_id}"' in chinese.text
    page = client.get("/tracing/investigations?status=open", headers=english(investigator))
    assert "Investigations" in page.text and "Close contact" in page.text and "Open" in page.text
    assert "张伟" not in client.get("/tracing/investigations?status=closed", headers=investigator).text


def test_the_case_page_shows_the_timeline_and_the_contacts_with_their_reasons(
    client: TestClient, investigator: Headers, investigation_id: int
) -> None:
    page = client.get(f"/tracing/investigations/{investigation_id}", headers=english(investigator))
    assert page.status_code == 200
    timeline = page.text[page.text.index('id="timeline"') : page.text.index('id="contacts"')]
    assert "Symptom onset" in timeline and "Close-contact window opens" in timeline
    assert timeline.index("百官写字楼") < timeline.index("龙山超市"), "visits in time order"
    assert 'data-source="venue_scan"' in timeline
    contacts = page.text[page.text.index('id="contacts"') : page.text.index('id="last-run"')]
    assert "Same household" in contacts and "Together at 百官写字楼" in contacts
    assert "Household of close contact 王强" in contacts  # the colleague's child, a secondary contact
    assert "Secondary contact" in contacts
    chinese = client.get(f"/tracing/investigations/{investigation_id}", headers=investigator)
    assert "活动轨迹" in chinese.text and "同住" in chinese.text and "次密接" in chinese.text


def test_a_clashing_visit_is_refused_with_the_reason_and_nothing_is_stored(
    client: TestClient, database: Database, investigator: Headers, investigation_id: int
) -> None:
    before = _visits(database)
    form = {"place_text": "朋友家", "starts_at": "2021-12-08T10:00", "ends_at": "2021-12-08T11:00", "note": "午饭"}
    refused = client.post(
        f"/tracing/investigations/{investigation_id}/visits", data=form, headers=english(investigator)
    )
    assert refused.status_code == 422
    assert "overlaps visit" in refused.text and 'value="朋友家"' in refused.text, "the reason, and nothing lost"
    assert _visits(database) == before
    form |= {"starts_at": "2021-12-07T10:00", "ends_at": "2021-12-07T11:00"}
    added = client.post(f"/tracing/investigations/{investigation_id}/visits", data=form, headers=investigator)
    assert added.status_code == 200 and "朋友家" in added.text and "已添加" in added.text
    assert _visits(database) == before + 1
    found = re.search(r'data-visit="(\d+)">\s*<time[^>]*>[^<]*</time>\s*<span>朋友家', added.text)
    assert found is not None, "the added visit is on the timeline"
    visit_id = int(found.group(1))
    deleted = client.post(f"/tracing/investigations/{investigation_id}/visits/{visit_id}/delete", headers=investigator)
    assert deleted.status_code == 200 and "轨迹点已删除" in deleted.text
    assert _visits(database) == before


def test_a_refused_fact_shows_the_fields_error_and_keeps_what_was_typed(
    client: TestClient, investigator: Headers, investigation_id: int
) -> None:
    form = {"onset_date": "2021-12-20", "symptoms": "发热，咳嗽", "lineage": "BA.2", "notes": "密接已通知"}
    refused = client.post(f"/tracing/investigations/{investigation_id}/facts", data=form, headers=investigator)
    assert refused.status_code == 422
    assert "is after the case was confirmed" in refused.text and "密接已通知" in refused.text
    saved = client.post(
        f"/tracing/investigations/{investigation_id}/facts",
        data={**form, "onset_date": "2021-12-08"},
        headers=investigator,
    )
    assert saved.status_code == 200 and 'value="BA.2"' in saved.text and "发热, 咳嗽" in saved.text


def test_the_run_button_runs_the_engine_and_flashes_what_it_found(
    client: TestClient, database: Database, investigator: Headers, investigation_id: int
) -> None:
    with database.session() as session:
        runs = session.scalar(select(func.count()).select_from(TracingRun)) or 0
    page = client.post(f"/tracing/investigations/{investigation_id}/trace", headers=english(investigator))
    assert page.status_code == 200
    assert "Contact engine run: 0 new contacts, 0 changed." in page.text, "the same data again changes nothing"
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TracingRun)) == runs + 1
    assert "No bad rows" in page.text


def test_bad_scan_rows_are_flashed_and_reported_by_kind(
    app: FastAPI, client: TestClient, investigator: Headers, investigation_id: int, world: World
) -> None:
    runtime = runtime_for(app.state.database)
    assert runtime is not None
    exit_before_entry = scan(world.stranger, world.office, utc(2021, 12, 8, 12), utc(2021, 12, 8, 11))
    write_scans(runtime, [exit_before_entry])
    page = client.post(f"/tracing/investigations/{investigation_id}/trace", headers=english(investigator))
    assert "Bad scan rows left out: Exit before entry 1" in page.text
    report = page.text[page.text.index('id="last-run"') :]
    assert "Exit before entry" in report and "No bad rows" not in report
    assert (
        "离开时间早于进入时间" in client.get(f"/tracing/investigations/{investigation_id}", headers=investigator).text
    )


def test_a_contact_who_becomes_a_case_joins_the_chain_and_shares_the_office_as_a_source_lead(
    client: TestClient, database: Database, clock: SimulatedClock, investigator: Headers, world: World
) -> None:
    confirm_case(
        database,
        clock,
        world.colleague,
        world.district.building_a,
        onset=date(2021, 12, 10),
        sampled=date(2021, 12, 10),
    )
    page = client.get("/tracing/chains", headers=english(investigator))
    embedded = re.search(r'<script type="application/json" id="chain-data">(.*?)</script>', page.text, re.S)
    assert embedded is not None
    links = json.loads(embedded.group(1))["links"]
    assert {"source": str(world.case_person), "target": str(world.colleague), "value": "infection"} in links
    leads = page.text[page.text.index('id="source-tracing"') :]
    assert "百官写字楼" in leads and "张伟" in leads and "王强" in leads
    assert "No venue shared by cases" not in leads


def test_the_chains_page_carries_the_graph_data_with_the_case_nodes(
    client: TestClient, investigator: Headers, world: World
) -> None:
    page = client.get("/tracing/chains", headers=investigator)
    assert page.status_code == 200
    assert '<script src="/static/vendor/echarts/echarts.min.js" defer></script>' in page.text
    assert "传播链" in page.text and "聚集性疫情" in page.text and "溯源" in page.text
    embedded = re.search(r'<script type="application/json" id="chain-data">(.*?)</script>', page.text, re.S)
    assert embedded is not None
    graph = json.loads(embedded.group(1))
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert nodes[str(world.case_person)]["name"] == "张伟" and "url" in nodes[str(world.case_person)]
    assert nodes[str(world.colleague)]["name"] == "王强", "contacts are named too"
    assert "密接" in {c["name"] for c in graph["categories"]}
    assert "Clusters" in client.get("/tracing/chains", headers=english(investigator)).text


def test_an_investigator_of_another_county_gets_404_for_the_case_page(
    client: TestClient, database: Database, clock: SimulatedClock, world: World, investigation_id: int
) -> None:
    other = login(client, make_user(database, clock, Role.INVESTIGATOR, world.district.county_b))
    assert client.get(f"/tracing/investigations/{investigation_id}", headers=other).status_code == 404
    form = {"place_text": "x", "starts_at": "2021-12-07T10:00", "ends_at": "2021-12-07T11:00"}
    assert (
        client.post(f"/tracing/investigations/{investigation_id}/visits", data=form, headers=other).status_code == 404
    )
    assert "张伟" not in client.get("/tracing/investigations", headers=other).text


def test_closing_an_investigation_shows_it_closed_and_a_second_close_is_refused(
    client: TestClient, investigator: Headers, investigation_id: int
) -> None:
    closed = client.post(f"/tracing/investigations/{investigation_id}/close", headers=investigator)
    assert closed.status_code == 200 and "流调已结案" in closed.text and 'data-status="closed"' in closed.text
    again = client.post(f"/tracing/investigations/{investigation_id}/close", headers=english(investigator))
    assert again.status_code == 409 and "already closed" in again.text
