"""The situation pages (态势), read through the TestClient as a browser without JavaScript would: the
dashboard shows the API's numbers for the same user and day, in both languages, to its jurisdiction only;
a person's loop timeline shows the whole journey from traced to released and past the home phase."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.command.situation_factories import (
    case_at_site,
    case_in_community,
    held_at_site,
    pool_member_released,
    whole_loop,
)
from tests.factories import login, make_user
from tests.isolation.factories import StayRef
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import TransferWorld

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]


def _as(client: TestClient, database: Database, clock: SimulatedClock, role: Role, where: int) -> Headers:
    return {**login(client, make_user(database, clock, role, where)), "Accept": "text/html"}


def _section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


def _figures(html: str) -> dict[str, int]:
    """The dashboard's figures by their path in GET /api/situation, as the page shows them."""
    found = re.findall(r'data-figure="([a-z_.]+)">([0-9,]+)<', html)
    return {path: int(text.replace(",", "")) for path, text in found}


def _at(document: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        document = document[key]
    return document


def _rows(html: str, section: str, key: str, column: str) -> dict[str, str]:
    """One column of a section's table, by the row's data-{key}."""
    rows = re.findall(rf'<tr data-{key}="([a-z_:0-9-]+)"(.*?)</tr>', _section(html, section), re.S)
    cells = {row: re.search(rf'data-col="{column}">(.*?)</td>', body, re.S) for row, body in rows}
    return {row: re.sub(r"<[^>]+>", "", cell.group(1)).strip() for row, cell in cells.items() if cell}


@pytest.fixture
def outbreak(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, int, int]:
    """On 11 December: a contact held at the site in county A confirmed (found in quarantine), and a resident
    of county B confirmed who was under no control (found in the community)."""
    world, stays = held_at_site(database, clock)
    return world, case_at_site(database, clock, world, stays[0]), case_in_community(database, clock, world)


def test_the_dashboard_shows_the_numbers_of_the_api_for_the_same_user_and_day(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int]
) -> None:
    world, _, _ = outbreak
    analyst = _as(client, database, clock, Role.ANALYST, world.district.city)

    for params in ({}, {"day": "2021-12-10"}):
        html = client.get("/situation", params=params, headers=analyst).text
        api = client.get("/api/situation", params=params, headers=analyst).json()

        figures = _figures(html)
        assert len(figures) >= 14
        assert figures == {path: _at(api, path) for path in figures}
        funnel = _rows(html, "situation-funnel", "funnel-stage", "cumulative")
        assert funnel == {row["stage"]: str(row["cumulative"]) for row in api["funnel"]["stages"]}
        delays = _rows(html, "situation-delays", "delay", "count")
        assert delays == {row["stage"]: str(row["count"]) for row in api["delays"]["stages"]}
        epi = _rows(html, "situation-epi", "day", "report-community")
        assert epi == {d["day"]: str(d["by_report"]["community"]) for d in api["epi_curve"]["days"]}
        gauges = re.findall(r'data-gauge="([a-z_]+)" data-status="([a-z]+)"', html)
        assert gauges == [(g["resource"], g["status"]) for g in api["capacity"]["gauges"]]
    today = _figures(client.get("/situation", headers=analyst).text)
    assert (today["headline.new_cases.quarantine"], today["headline.new_cases.community"]) == (1, 1)


def test_the_live_fragment_has_the_same_numbers_without_the_page_around_them(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int]
) -> None:
    world, _, _ = outbreak
    analyst = _as(client, database, clock, Role.ANALYST, world.district.city)

    page = client.get("/situation", headers=analyst).text
    fragment = client.get("/situation", params={"fragment": "live"}, headers=analyst).text

    assert "<html" not in fragment and 'id="situation-data"' in fragment
    assert _figures(fragment) == _figures(page)
    latest = client.get("/api/situation", headers=analyst).json()["latest_event_id"]
    assert f'data-stream-url="/api/situation/stream?after={latest}"' in page
    past = client.get("/situation", params={"day": "2021-12-10"}, headers=analyst).text
    assert 'data-stream-url=""' in past  # a past day does not change: no stream


def test_the_dashboard_reads_in_chinese_and_in_english(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int]
) -> None:
    world, _, _ = outbreak
    analyst = _as(client, database, clock, Role.ANALYST, world.district.city)

    chinese = client.get("/situation", headers=analyst).text
    english = client.get("/situation", params={"lang": "en"}, headers=analyst).text

    assert "<h1>态势" in chinese and "流行曲线" in chinese and "在管控中发现" in chinese
    assert "<h1>Situation" in english and "Epidemic curve" in english and "Found in quarantine" in english
    assert _figures(chinese) == _figures(english)


def test_a_user_of_another_county_sees_only_their_own_cases(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int]
) -> None:
    world, _, _ = outbreak
    county_b = _as(client, database, clock, Role.COMMANDER, world.district.county_b)
    county_a = _as(client, database, clock, Role.COMMANDER, world.district.county_a)

    theirs = client.get("/situation", headers=county_b)
    narrowed = client.get("/situation", params={"jurisdiction_id": str(world.district.county_a)}, headers=county_b)
    mine = client.get("/situation", headers=county_a).text

    figures = _figures(theirs.text)
    assert (figures["headline.cumulative_cases"], figures["headline.new_cases.community"]) == (1, 1)
    assert figures["headline.new_cases.quarantine"] == 0
    assert "上虞区" not in _section(theirs.text, "situation-map-card")  # county A's site and case are not shown
    assert narrowed.status_code == 422 and "jurisdiction_id" in narrowed.text
    assert _figures(mine)["headline.new_cases.quarantine"] == 1


def test_a_day_that_is_not_a_date_is_refused_naming_the_field(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int]
) -> None:
    world, _, _ = outbreak
    analyst = _as(client, database, clock, Role.ANALYST, world.district.city)
    lab = _as(client, database, clock, Role.LAB, world.district.city)

    refused = client.get("/situation", params={"day": "yesterday"}, headers=analyst)

    assert refused.status_code == 422 and "day" in refused.text and "yesterday" in refused.text
    assert client.get("/situation", headers=lab).status_code == 403


@pytest.fixture
def journey_done(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, list[StayRef]]:
    """Three contacts held at the site; the first released and their home phase over (30 December)."""
    world, stays = held_at_site(database, clock)
    whole_loop(database, clock, world, stays[0])
    return world, stays


def test_a_persons_timeline_shows_the_whole_loop_from_traced_to_the_end_of_the_home_phase(
    client: TestClient, database: Database, clock: SimulatedClock, journey_done: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [done, held, _] = journey_done
    analyst = _as(client, database, clock, Role.ANALYST, world.district.city)
    elsewhere = _as(client, database, clock, Role.COMMANDER, world.district.county_b)

    page = client.get(f"/situation/people/{done.person_id}", headers=analyst)
    still_held = client.get(f"/situation/people/{held.person_id}", headers=analyst).text
    api = client.get(f"/api/loop/people/{done.person_id}/timeline", headers=analyst).json()

    assert page.status_code == 200
    state = page.text[page.text.index('id="loop-state"') :]
    assert 'data-closed="true"' in state[:80] and "已闭环" in state[:400]
    reached = re.findall(r'<li data-stage="([a-z_]+)"', _section(page.text, "loop-reached"))
    assert reached == [r["stage"] for r in api["reached"]]
    assert reached[0] == "identified" and reached[-2:] == ["released", "home_ended"]
    delays = _section(page.text, "loop-delays")
    assert [d["stage"] for d in api["delays"]] == re.findall(r'data-delay="([a-z_]+)"', delays)
    assert "排队到送达" in delays and "时限内" in delays
    assert len(re.findall(r"<tr data-kind=", _section(page.text, "loop-steps"))) == len(api["steps"])
    assert 'data-closed="false"' in still_held
    assert client.get(f"/situation/people/{done.person_id}", headers=elsewhere).status_code == 404


def test_a_pool_members_timeline_runs_from_the_positive_pool_to_release_from_control(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    world, _ = held_at_site(database, clock)
    member = pool_member_released(database, clock, world.district.building_b)
    analyst = _as(client, database, clock, Role.ANALYST, world.district.city)

    page = client.get(f"/situation/people/{member}", headers=analyst).text

    assert 'data-closed="true"' in page
    assert re.findall(r'<li data-stage="([a-z_]+)"', _section(page, "loop-reached")) == [
        "sampled",
        "pool_positive",
        "controlled",
        "cleared",
    ]
    assert "混管阳性" in page and "就地管控" in page
    delays = _rows(page, "loop-delays", "delay", "took")
    assert set(delays) == {"sample_to_result", "pool_positive_to_controlled"}


def test_an_overdue_loop_is_a_bottleneck_and_links_to_the_persons_timeline(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int]
) -> None:
    world, _, resident = outbreak
    analyst = _as(client, database, clock, Role.ANALYST, world.district.city)
    clock.advance(timedelta(hours=3))  # the community case still waits for the hospital, past its target

    page = client.get("/situation", headers=analyst).text
    api = client.get("/api/situation", headers=analyst).json()

    bottlenecks = _rows(page, "situation-bottlenecks", "bottleneck", "overdue")
    assert bottlenecks == {b["stage"]: str(b["overdue"]) for b in api["bottlenecks"]}
    assert bottlenecks["confirmed_to_transferred"] == "2"  # both cases (the site's and the community's)
    link = f'href="/situation/people/{resident}"'
    assert link in _section(page, "situation-bottlenecks")
    timeline = client.get(f"/situation/people/{resident}", headers=analyst).text
    assert 'data-closed="false"' in timeline and "逾期" in timeline and "确诊到转运入院" in timeline
