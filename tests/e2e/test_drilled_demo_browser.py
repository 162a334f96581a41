"""The dashboard (态势) on a drilled demo: a small district drilled for some simulated days through the API, as
`bihuan demo` does, then served on a clock carrying on from the drill's end. The dashboard shows the API's
numbers in Chinese and, after the language switch, in English; a case's journey from their sample to the
hospital is whole on their timeline, and so is a positive pool's member's, from the pool through the re-test
that cleared them and their transfer as a contact to their release from the site.

The drill runs a local profile (policy is data): the shipped one with central quarantine cut to two days, so
that a few drilled days reach releases; everything else is the shipped protocol."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from importlib import resources
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.loop.models import LoopReached, LoopStanding
from bihuan.protocol import load_profile
from bihuan.sim import generate_district
from bihuan.sim.demo import DEMO_PASSWORD
from bihuan.sim.drill import run_drill
from bihuan.sim.load import load_district

pytestmark = pytest.mark.browser

DRILL_DAYS = 7
SHORT_QUARANTINE = {  # the shipped schedule → the drill's local one (two days central, tests on both)
    "central_days = 14\nhome_monitoring_days = 7\ncentral_test_days = [1, 4, 7, 14]": (
        "central_days = 2\nhome_monitoring_days = 7\ncentral_test_days = [1, 2]"
    ),
    "central_days = 7\ncentral_test_days = [1, 4, 7]": "central_days = 2\ncentral_test_days = [1, 2]",
}


@dataclass(frozen=True)
class Drilled:
    database: Database
    end: datetime
    cases: int
    profile: str  # the local profile's path, served as the drill ran


def _short_quarantine_profile(path: Path) -> str:
    """The shipped profile with the close and secondary contacts' central quarantine cut to two days."""
    text = (resources.files("bihuan.protocol") / "profiles" / "cn-8th-2021.toml").read_text(encoding="utf-8")
    for shipped, local in SHORT_QUARANTINE.items():
        assert shipped in text, f"the shipped profile no longer reads {shipped!r}"
        text = text.replace(shipped, local, 1)
    path.write_text(text.replace('name = "cn-8th-2021"', 'name = "cn-8th-2021-drill"', 1), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> Drilled:
    """1,500 residents whose first cases come forward on the outbreak's sixth day, drilled for a week."""
    root = tmp_path_factory.mktemp("drilled-demo")
    profile = _short_quarantine_profile(root / "drill-profile.toml")
    district = generate_district(
        root / "district", people=1500, seed=7, days=6 + DRILL_DAYS, index_cases=6, attack=1.5, progress=False
    )
    database = Database(f"sqlite:///{root / 'demo.sqlite3'}")
    database.migrate()
    load_district(database, SimulatedClock(datetime.combine(district.start_date, time(), tzinfo=UTC)), district.out_dir)
    summary = run_drill(
        database,
        district.out_dir,
        load_profile(profile),
        days=DRILL_DAYS,
        seed=5,
        data_dir=root / "data",
        round_people=300,
        prefix="DEMO",
    )
    return Drilled(database, summary.end, summary.cases, profile)


@pytest.fixture
def database(drilled: Drilled) -> Database:
    return drilled.database


@pytest.fixture
def served_profile(drilled: Drilled) -> str:
    return drilled.profile


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


def _first_reaching(database: Database, *stages: str, case: bool) -> int:
    """The first drilled person (a case, or not) whose loop reached every one of `stages`."""
    with database.session() as session:
        reached = (
            select(LoopReached.person_id)
            .where(LoopReached.stage.in_(stages))
            .group_by(LoopReached.person_id)
            .having(func.count(LoopReached.stage.distinct()) == len(stages))
        )
        return int(
            session.scalars(
                select(LoopStanding.person_id)
                .where(LoopStanding.is_case.is_(case), LoopStanding.person_id.in_(reached))
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


POOL = ["pool_positive", "controlled", "cleared"]
CONTACT = ["identified", "queued", "planned", "dispatched", "picked_up", "arrived", "isolated", "site_test_resulted"]


def test_a_drilled_positive_pools_member_is_followed_on_their_timeline_from_the_pool_to_release(
    drilled: Drilled,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    _log_in(page, live_server, "analyst")
    page.goto(f"{live_server}/situation")  # the dashboard's read brings the read model up to the log
    person = _first_reaching(drilled.database, *POOL, "identified", "released", case=False)
    assert person, "the drill should release a contact whose pool was positive and whose re-test cleared them"

    page.goto(f"{live_server}/situation/people/{person}")

    stages = _reached(page)  # in the order they were reached
    assert [s for s in stages if s in POOL] == POOL
    assert [s for s in stages if s in CONTACT] == CONTACT
    assert stages.index("released") > max(stages.index(s) for s in CONTACT)
    timeline = json.loads(page.request.get(f"{live_server}/api/loop/people/{person}/timeline").text())
    assert [r["stage"] for r in timeline["reached"]] == stages  # the page shows the API's timeline
