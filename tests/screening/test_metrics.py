"""Metrics of fast testing, checked against rounds built by hand: every expected number is worked out below.

People: a1..a4 live in county A's building (under community A), b1, b2 in county B's building.
T0 = 2021-12-10 00:00 UTC. Round 1 covers community A and building B:

    tube  kind    people        sampled (h)  received (h)  results (h)                   sample → result (h)
    P1    pooled  a1, a2        0, 1         3             negative 6                    6, 5
    P2    pooled  a3, a4        2, 3         4             invalid 5, then positive 10    8, 7
    P3    pooled  b1, b2 (+a1   1            —             none yet                      pending
                  duplicate)
    S1    single  a3 (re-test)  12           13            positive 15                   3
    S2    single  a4 (re-test)  12           —             negative 16                   4

Screening sample → result: [5, 6, 7, 8] → median 6.5, p90 7 + 0.7 × 1 = 7.7 (linear interpolation).
Sample → received: [3, 2, 2, 1] → median 2, p90 2.7. Received → result: [3, 3, 6, 6] → median 4.5, p90 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.conftest import DRILL_START
from tests.factories import context, count_statements, login, make_user
from tests.screening.test_metrics_world import World, cheap_argon2  # noqa: F401 (fixture)

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.core.errors import NotFound
from bihuan.protocol import load_profile
from bihuan.screening.choices import SampleKind, TestResult, TubeKind
from bihuan.screening.service import metrics

T0 = DRILL_START
H = timedelta(hours=1)
D = timedelta(days=1)
NEG, POS, INVALID = TestResult.NEGATIVE, TestResult.POSITIVE, TestResult.INVALID
CN8 = load_profile("cn-8th-2021")


@dataclass
class Rounds:
    world: World
    r1: int
    r2: int
    r3: int
    r4: int
    a: list[int]
    b: list[int]
    pending_tube: int  # round 4's tube of a3, a4 without a result


def build_round_one(world: World, a: list[int], b: list[int], r1: int) -> None:
    p1 = world.tube(r1, a[:2], [T0, T0 + H])
    world.result(p1, NEG, T0 + 6 * H, received_at=T0 + 3 * H)
    p2 = world.tube(r1, a[2:], [T0 + 2 * H, T0 + 3 * H])
    world.result(p2, INVALID, T0 + 5 * H, received_at=T0 + 4 * H, run="r1")
    world.result(p2, POS, T0 + 10 * H, received_at=T0 + 4 * H, run="r2")
    world.tube(r1, [*b, a[0]], T0 + H, duplicates=(a[0],))
    s1 = world.tube(r1, [a[2]], T0 + 12 * H, kind=TubeKind.SINGLE, sample_kind=SampleKind.RETEST)
    positive = world.result(s1, POS, T0 + 15 * H, received_at=T0 + 13 * H)
    s2 = world.tube(r1, [a[3]], T0 + 12 * H, kind=TubeKind.SINGLE, sample_kind=SampleKind.RETEST)
    world.result(s2, NEG, T0 + 16 * H)
    world.case(a[2], positive, world.district.building_a, T0 + 20 * H)


@pytest.fixture
def rounds(database: Database, clock: SimulatedClock) -> Rounds:
    """Four rounds: 1 (positive in community A), 2 (positive in building B), 3 (city-wide, clean), 4 (running)."""
    world = World(database, clock)
    d = world.district
    a = [world.person(d.building_a, f"甲{i}") for i in range(1, 5)]
    b = [world.person(d.building_b, f"乙{i}") for i in range(1, 3)]
    r1 = world.round("R1", [d.community_a, d.building_b], T0, closed=True)
    r2 = world.round("R2", [d.community_a, d.building_b], T0 + D, closed=True)
    r3 = world.round("R3", [d.city], T0 + 2 * D, closed=True)
    r4 = world.round("R4", [d.community_a], T0 + 3 * D)
    build_round_one(world, a, b, r1)
    p4 = world.tube(r2, a, T0 + D + H)
    world.result(p4, NEG, T0 + D + 5 * H, received_at=T0 + D + 2 * H)
    s3 = world.tube(r2, [b[0]], T0 + D + H, kind=TubeKind.SINGLE)
    world.result(s3, POS, T0 + D + 6 * H, received_at=T0 + D + 2 * H)
    s4 = world.tube(r2, [b[1]], T0 + D + H, kind=TubeKind.SINGLE)
    world.result(s4, NEG, T0 + D + 6 * H, received_at=T0 + D + 2 * H)
    for people in ([a[0], a[1], *b], a[2:]):
        tube = world.tube(r3, people, T0 + 2 * D + H)
        world.result(tube, NEG, T0 + 2 * D + 7 * H, received_at=T0 + 2 * D + 3 * H)
    p7 = world.tube(r4, a[:2], T0 + 3 * D + H)
    world.result(p7, NEG, T0 + 3 * D + 6 * H, received_at=T0 + 3 * D + 2 * H)
    pending = world.tube(r4, a[2:], T0 + 3 * D + H)
    clock.set(T0 + 3 * D + 12 * H)
    return Rounds(world, r1, r2, r3, r4, a, b, pending)


def county_b_actor(rounds: Rounds) -> Actor:
    return Actor(
        user_id=None,
        username="county-b",
        role=Role.COMMANDER,
        jurisdiction_id=rounds.world.district.county_b,
        jurisdiction_path="33/3306/330602/",
    )


# -- turnaround ------------------------------------------------------------------------------------


def test_turnaround_of_a_round_is_the_median_and_p90_of_its_samples(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        found = metrics.campaign_metrics(ctx, rounds.r1)
    by_kind = {t.kind: t for t in found.turnaround}
    screening = by_kind["screening"]
    assert (screening.samples, screening.resulted, screening.pending) == (6, 4, 2)  # a1 duplicate left out
    assert screening.sample_to_result.count == 4
    assert screening.sample_to_result.median_hours == pytest.approx(6.5)
    assert screening.sample_to_result.p90_hours == pytest.approx(7.7)
    assert screening.sample_to_result.max_hours == pytest.approx(8.0)
    assert screening.sample_to_received.median_hours == pytest.approx(2.0)
    assert screening.sample_to_received.p90_hours == pytest.approx(2.7)
    assert screening.received_to_result.median_hours == pytest.approx(4.5)
    assert screening.received_to_result.p90_hours == pytest.approx(6.0)


def test_retests_have_their_own_turnaround_and_a_missing_receipt_is_not_guessed(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        retest = {t.kind: t for t in metrics.campaign_metrics(ctx, rounds.r1).turnaround}["retest"]
    assert (retest.samples, retest.resulted, retest.pending) == (2, 2, 0)
    assert retest.sample_to_result.median_hours == pytest.approx(3.5)  # [3, 4]
    assert retest.sample_to_result.p90_hours == pytest.approx(3.9)
    assert retest.sample_to_received.count == 1  # S2 has no received time
    assert retest.received_to_result.median_hours == pytest.approx(2.0)


def test_the_histogram_counts_each_screening_turnaround_once(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        bins = metrics.campaign_metrics(ctx, rounds.r1).histogram
    assert sum(b.count for b in bins) == 4
    assert {(b.lower_hours, b.upper_hours) for b in bins if b.count} == {(5, 6), (6, 7), (7, 8), (8, 9)}
    assert all(b.upper_hours - b.lower_hours == 1 for b in bins)


def test_histogram_widens_its_bins_to_keep_at_most_24() -> None:
    bins = metrics.histogram(np.array([0.5, 30.0, 47.9, 100.0]))
    assert len(bins) <= 24
    assert bins[0].lower_hours == 0
    assert sum(b.count for b in bins) == 4
    assert metrics.histogram(np.array([])) == []


def test_turnaround_without_any_result_shows_nothing_rather_than_zero(rounds: Rounds) -> None:
    empty = rounds.world.round("R5", [rounds.world.district.community_a], T0 + 3 * D)
    rounds.world.tube(empty, rounds.a[:1], T0 + 3 * D + H)
    with context(rounds.world.database, rounds.world.clock) as ctx:
        found = metrics.campaign_metrics(ctx, empty)
    (screening,) = found.turnaround
    assert screening.pending == 1
    assert screening.sample_to_result.median_hours is None
    assert found.histogram == []


# -- positives per round ---------------------------------------------------------------------------


def test_positives_per_round_count_positive_pools_individual_positives_and_cases(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        found = metrics.positives_by_round(ctx)
    table = {r.code: (r.sampled, r.tested_tubes, r.positive_pools, r.individual_positives, r.cases) for r in found}
    assert [r.code for r in found] == ["R1", "R2", "R3", "R4"]  # oldest first
    assert table == {
        "R1": (6, 4, 1, 1, 1),  # P1 P2 S1 S2 tested; P2 positive; a3 positive on re-test; a3 confirmed
        "R2": (6, 3, 0, 1, 0),  # b1 positive on a single tube, not confirmed
        "R3": (6, 2, 0, 0, 0),
        "R4": (4, 1, 0, 0, 0),  # the tube of a3, a4 is still at the lab
    }


def test_a_county_user_counts_only_their_own_people(rounds: Rounds) -> None:
    db, clock = rounds.world.database, rounds.world.clock
    with context(db, clock, county_b_actor(rounds)) as ctx:
        found = {r.code: r for r in metrics.positives_by_round(ctx)}
        with pytest.raises(NotFound):
            metrics.campaign_metrics(ctx, rounds.r4)  # community A only: not theirs
    assert set(found) == {"R1", "R2"}  # R3's unit is the city, above the county: not listed (campaign scope rule)
    assert (found["R1"].sampled, found["R1"].positive_pools, found["R1"].cases) == (2, 0, 0)
    assert found["R2"].individual_positives == 1


# -- rounds and clean streaks per unit -------------------------------------------------------------


def test_units_count_their_rounds_and_their_clean_streak(rounds: Rounds) -> None:
    d = rounds.world.district
    with context(rounds.world.database, rounds.world.clock) as ctx:
        units = {u.jurisdiction_id: u for u in metrics.unit_round_status(ctx, CN8)}
    assert set(units) == {d.city, d.community_a, d.building_b}
    community = units[d.community_a]
    assert [(h.code, h.state) for h in community.history] == [
        ("R4", "pending"),  # running, a3 and a4 not resulted yet
        ("R3", "clean"),  # covered through the city
        ("R2", "clean"),
        ("R1", "positive"),
    ]
    assert (community.rounds, community.clean_streak, community.clean) == (4, 2, False)
    assert community.last_positive_campaign_id == rounds.r1
    building_b = units[d.building_b]
    assert [(h.code, h.state) for h in building_b.history] == [("R3", "clean"), ("R2", "positive"), ("R1", "clean")]
    assert (building_b.rounds, building_b.clean_streak, building_b.clean) == (3, 1, False)
    assert building_b.history[-1].unresulted_samples == 2  # P3 never resulted, but R1 is closed
    city = units[d.city]
    assert (city.rounds, city.clean_streak) == (1, 1)
    assert city.history[0].sampled == 6


def test_the_third_clean_round_makes_a_unit_clean(rounds: Rounds) -> None:
    rounds.world.result(rounds.pending_tube, NEG, T0 + 3 * D + 9 * H)
    with context(rounds.world.database, rounds.world.clock) as ctx:
        community = {u.jurisdiction_id: u for u in metrics.unit_round_status(ctx, CN8)}[
            rounds.world.district.community_a
        ]
    assert community.history[0].state == "clean"
    assert (community.clean_streak, community.clean) == (3, True)


def test_a_positive_in_the_running_round_breaks_the_streak_at_once(rounds: Rounds) -> None:
    rounds.world.result(rounds.pending_tube, POS, T0 + 3 * D + 9 * H)
    with context(rounds.world.database, rounds.world.clock) as ctx:
        community = {u.jurisdiction_id: u for u in metrics.unit_round_status(ctx, CN8)}[
            rounds.world.district.community_a
        ]
    assert community.history[0].state == "positive"
    assert (community.clean_streak, community.last_positive_campaign_id) == (0, rounds.r4)


def test_a_county_user_sees_only_units_in_their_county(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock, county_b_actor(rounds)) as ctx:
        units = metrics.unit_round_status(ctx, CN8)
    assert [u.jurisdiction_id for u in units] == [rounds.world.district.building_b]
    assert units[0].history[1].positive_samples == 1


def test_metrics_cost_the_same_number_of_queries_however_many_rounds_and_units(rounds: Rounds) -> None:
    db, clock, d = rounds.world.database, rounds.world.clock, rounds.world.district

    def statements() -> int:
        with context(db, clock) as ctx, count_statements(db) as sent:
            metrics.positives_by_round(ctx)
            metrics.unit_round_status(ctx, CN8)
        return len(sent)

    before = statements()
    for i in range(3):
        extra = rounds.world.round(f"R{5 + i}", [d.community_a, d.building_a, d.building_b], T0 + 3 * D)
        rounds.world.tube(extra, rounds.a, T0 + 3 * D + H)
    assert statements() == before


# -- API -------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("cheap_argon2")
def test_metrics_api_serves_a_round_the_units_and_the_rounds(rounds: Rounds, client: TestClient) -> None:
    db, clock = rounds.world.database, rounds.world.clock
    headers = login(client, make_user(db, clock, Role.ANALYST, rounds.world.district.province))
    found = client.get(f"/api/screening/campaigns/{rounds.r1}/metrics", headers=headers)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["positives"]["positive_pools"] == 1
    assert body["turnaround"][0]["sample_to_result"]["p90_hours"] == pytest.approx(7.7)
    units = client.get("/api/screening/metrics/units", headers=headers).json()
    assert units["count"] == 3 and units["clean_rounds"] == 3
    listed = client.get("/api/screening/metrics/rounds", headers=headers).json()
    assert [r["code"] for r in listed["data"]] == ["R1", "R2", "R3", "R4"]
    assert client.get("/api/screening/campaigns/999999/metrics", headers=headers).status_code == 404
    assert client.get("/api/screening/metrics/units").status_code == 401


@pytest.mark.usefixtures("cheap_argon2")
def test_metrics_pages_render_in_both_languages(rounds: Rounds, client: TestClient) -> None:
    db, clock = rounds.world.database, rounds.world.clock
    headers = login(client, make_user(db, clock, Role.COMMANDER, rounds.world.district.province))
    page = client.get(f"/screening/campaigns/{rounds.r1}/metrics?lang=zh-CN", headers=headers)
    assert page.status_code == 200, page.text
    assert "周转" in page.text and "echarts.min.js" in page.text and "R1" in page.text
    page = client.get(f"/screening/campaigns/{rounds.r1}/metrics?lang=en", headers=headers)
    assert "Turnaround" in page.text
    units = client.get("/screening/metrics/units?lang=en", headers=headers)
    assert units.status_code == 200, units.text
    assert "Clean streak" in units.text and "R4" in units.text
