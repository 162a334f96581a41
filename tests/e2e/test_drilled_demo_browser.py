"""The dashboard (态势) on a drilled demo: a small district drilled for three simulated days through the API, as
`bihuan demo` does, then served on a clock carrying on from the drill's end. The dashboard shows the API's
numbers in Chinese and, after the language switch, in English; a case's journey from their sample to the
hospital is whole on their timeline, and so is a positive pool's member's, from the pool to the re-test that
cleared them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.loop.models import LoopReached, LoopStanding
from bihuan.protocol import load_profile
from bihuan.sim import generate_district
from bihuan.sim.demo import DEMO_PASSWORD
from bihuan.sim.drill import run_drill
from bihuan.sim.load import load_district

pytestmark = pytest.mark.browser

DRILL_DAYS = 3


@dataclass(frozen=True)
class Drilled:
    database: Database
    end: datetime
    cases: int


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Drilled:
    """1,500 residents whose first cases come forward on the outbreak's sixth day, drilled for three days."""
    root = tmp_path_factory.mktemp("drilled-demo")
    district = generate_district(
        root / "district", people=1500, seed=7, days=9, index_cases=6, attack=1.5, progress=False
    )
    database = Database(f"sqlite:///{root / 'demo.sqlite3'}")
    database.migrate()
    load_district(database, SimulatedClock(datetime.combine(district.start_date, time(), tzinfo=UTC)), district.out_dir)
    summary = run_drill(
        database,
        district.out_dir,
        load_profile("cn-8th-2021"),
        days=DRILL_DAYS,
        seed=5,
        data_dir=root / "data",
        round_people=300,
        prefix="DEMO",
    )
    return Drilled(database, summary.end, summary.cases)


@pytest.fixture
def database(drilled: Drilled) -> Database:
    return drilled.database


@pytest.fixture
def clock(drilled: Drilled) -> SimulatedClock:
    """The served clock: an hour after the drill ended, as a demo started again would be."""
    return SimulatedClock(drilled.end + timedelta(hours=1))


def _log_in(page, live_server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form#login-form button[type=submit]")


def _figures(page) -> dict[str, int]:  # type: ignore[no-untyped-def]
    shown = page.eval_on_selector_all(
        "[data-figure]", "nodes => nodes.map(n => [n.dataset.figure, n.textContent.trim()])"
    )
    return {path: int(text.replace(",", "")) for path, text in shown if text.replace(",", "").isdigit()}


def _api(page, live_server: str, query: str = "") -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = page.request.get(f"{live_server}/api/situation{query}")
    assert response.ok, response.text()
    return dict(json.loads(response.text()))


def _at(document: dict, path: str) -> object:  # type: ignore[type-arg]
    value: object = document
    for key in path.split("."):
        assert isinstance(value, dict)
        value = value[key]
    return value


def test_the_drilled_dashboard_shows_the_apis_numbers_of_a_living_outbreak(
    drilled: Drilled,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    _log_in(page, live_server, "commander")
    page.goto(f"{live_server}/situation")

    expect(page.locator("h1")).to_contain_text("态势")
    figures = _figures(page)
    api = _api(page, live_server)
    assert figures == {path: _at(api, path) for path in figures}
    assert api["loops"]["entered"] == api["loops"]["closed"] + api["loops"]["open"] > drilled.cases > 0
    reported = api["epi_curve"]["reported"]
    assert reported["quarantine"] + reported["community"] == drilled.cases  # the drill's cases, all on the curve
    expect(page.locator("#epi-chart canvas").first).to_be_attached()
    assert page.locator("#situation-map .leaflet-interactive").count() > 0


def test_the_language_switch_shows_the_same_drilled_numbers_in_english(
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    _log_in(page, live_server, "analyst")
    page.goto(f"{live_server}/situation")
    expect(page.locator("#situation-epi-title")).to_have_text("流行曲线")
    chinese = _figures(page)

    with page.expect_navigation():
        page.click(".lang-switch a[hreflang=en]")

    expect(page.locator("#situation-epi-title")).to_have_text("Epidemic curve")
    assert _figures(page) == chinese
    assert chinese == {path: _at(_api(page, live_server), path) for path in chinese}


def _first_reaching(database: Database, stage: str, *, case: bool) -> int:
    """The first drilled person (a case, or not) whose loop reached `stage`."""
    with database.session() as session:
        return int(
            session.scalars(
                select(LoopStanding.person_id)
                .join(LoopReached, LoopReached.person_id == LoopStanding.person_id)
                .where(LoopStanding.is_case.is_(case), LoopReached.stage == stage)
                .order_by(LoopStanding.person_id)
            ).first()
            or 0
        )


def _reached(page) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.eval_on_selector_all("#loop-reached li[data-stage]", "nodes => nodes.map(n => n.dataset.stage)"))


def test_a_drilled_cases_journey_from_their_sample_to_hospital_is_whole_on_their_timeline(
    drilled: Drilled,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    _log_in(page, live_server, "analyst")
    page.goto(f"{live_server}/situation")  # the dashboard's read brings the read model up to the log
    person = _first_reaching(drilled.database, "hospital", case=True)
    assert person, "the drill should take at least one case to hospital"

    page.goto(f"{live_server}/situation/people/{person}")

    expect(page.locator("#loop-state")).to_have_attribute("data-closed", "true")
    journey = ["sampled", "diagnosed", "confirmed", "investigated", "first_findings", "hospital"]
    assert [s for s in _reached(page) if s in journey] == journey
    expect(page.locator("#loop-delays tr[data-delay]").first).to_be_visible()
    timeline = page.request.get(f"{live_server}/api/loop/people/{person}/timeline")
    assert timeline.ok
    assert json.loads(timeline.text())["end"] == "hospital"  # their recorded end, as the page says


def test_a_drilled_positive_pool_is_followed_on_its_members_timeline_until_the_retest_clears_them(
    drilled: Drilled,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    _log_in(page, live_server, "analyst")
    page.goto(f"{live_server}/situation")
    person = _first_reaching(drilled.database, "cleared", case=False)
    assert person, "the drill should clear at least one member of a positive pool by their re-test"

    page.goto(f"{live_server}/situation/people/{person}")

    journey = ["pool_positive", "controlled", "cleared"]
    assert [s for s in _reached(page) if s in journey] == journey
