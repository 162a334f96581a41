"""The command dashboard (态势) in the browser: its figures are the API's, the epi curve is drawn, the
language switch turns it into English, a new case recorded meanwhile shows up without a reload; and a
person's timeline shows their whole loop, from traced to the end of the home phase."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from tests.command.situation_factories import case_at_site, case_in_community, held_at_site, whole_loop
from tests.factories import PASSWORD, make_user
from tests.transfer.factories import TransferWorld

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.browser


def _log_in(page, live_server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form#login-form button[type=submit]")


def _figures(page) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The figures the dashboard shows, by their path in GET /api/situation."""
    shown = page.eval_on_selector_all(
        "[data-figure]", "nodes => nodes.map(n => [n.dataset.figure, n.textContent.trim()])"
    )
    return {path: int(text.replace(",", "")) for path, text in shown if text.replace(",", "").isdigit()}


def _api(page, live_server: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = page.request.get(f"{live_server}/api/situation")  # the browser's own session
    assert response.ok, response.text()
    return dict(json.loads(response.text()))


def _at(document: dict, path: str) -> object:  # type: ignore[type-arg]
    value: object = document
    for key in path.split("."):
        assert isinstance(value, dict)
        value = value[key]
    return value


@pytest.fixture
def outbreak(database: Database, clock: SimulatedClock) -> TransferWorld:
    """On 11 December: a contact held at the site confirmed (found in quarantine)."""
    world, stays = held_at_site(database, clock)
    case_at_site(database, clock, world, stays[0])
    return world


def test_the_dashboard_shows_the_apis_figures_draws_the_curve_and_updates_itself_live(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    outbreak: TransferWorld,
    page,  # type: ignore[no-untyped-def]
) -> None:
    commander = make_user(database, clock, Role.COMMANDER, outbreak.district.city)
    _log_in(page, live_server, commander)
    page.goto(f"{live_server}/situation")

    expect(page.locator("h1")).to_contain_text("态势")
    figures = _figures(page)
    api = _api(page, live_server)
    assert len(figures) >= 14
    assert figures == {path: _at(api, path) for path in figures}
    assert figures["headline.new_cases.quarantine"] == 1
    expect(page.locator("#epi-chart canvas").first).to_be_attached()  # ECharts drew the curve
    expect(page.locator("#funnel-chart canvas").first).to_be_attached()
    assert page.locator("#situation-map .leaflet-interactive").count() > 0  # the case and the site
    page.click("[data-epi-basis=report]")
    expect(page.locator("[data-epi-basis=report]")).to_have_attribute("aria-pressed", "true")

    expect(page.locator("#situation-live")).to_have_attribute("data-live", "true")  # the stream is open
    case_in_community(database, clock, outbreak)

    community = page.locator('[data-figure="headline.new_cases.community"]')
    expect(community).to_have_text("1", timeout=15_000)  # without a reload
    expect(page.locator("#situation-updated")).to_contain_text("更新于")
    expect(page.locator("#epi-chart canvas").first).to_be_attached()  # drawn again over the new numbers
    assert _figures(page) == {path: _at(_api(page, live_server), path) for path in _figures(page)}


def test_the_language_switch_turns_the_dashboard_into_english(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    outbreak: TransferWorld,
    page,  # type: ignore[no-untyped-def]
) -> None:
    analyst = make_user(database, clock, Role.ANALYST, outbreak.district.city)
    _log_in(page, live_server, analyst)
    page.goto(f"{live_server}/situation")
    expect(page.locator("#situation-epi-title")).to_have_text("流行曲线")
    chinese = _figures(page)

    with page.expect_navigation():
        page.click(".lang-switch a[hreflang=en]")

    expect(page.locator("h1")).to_contain_text("Situation")
    expect(page.locator("#situation-epi-title")).to_have_text("Epidemic curve")
    expect(page.locator("#situation-funnel-title")).to_have_text("The loop's funnel")
    assert _figures(page) == chinese
    expect(page.locator("#epi-chart canvas").first).to_be_attached()


def test_a_persons_timeline_shows_their_whole_loop_to_the_end_of_the_home_phase(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    world, [done, *_] = held_at_site(database, clock)
    whole_loop(database, clock, world, done)
    analyst = make_user(database, clock, Role.ANALYST, world.district.city)
    _log_in(page, live_server, analyst)

    page.goto(f"{live_server}/situation/people/{done.person_id}")

    expect(page.locator("#loop-state")).to_have_attribute("data-closed", "true")
    expect(page.locator("#loop-state")).to_contain_text("已闭环")
    stages = page.eval_on_selector_all("#loop-reached li[data-stage]", "nodes => nodes.map(n => n.dataset.stage)")
    journey = ["identified", "queued", "planned", "dispatched", "picked_up", "arrived", "isolated", "released"]
    assert [s for s in stages if s in journey] == journey
    assert stages[-1] == "home_ended"
    expect(page.locator("#loop-delays tr[data-delay]").first).to_be_visible()
    assert page.locator("#loop-delays .badge-danger").count() == 0  # every timed stage within its target
