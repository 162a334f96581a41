"""The pooling advisor wired to the profile (cn-8th-2021: sizes 5, 10, 20; precaution areas 20-in-1) and to rounds.

Round R1 holds 40 tested 10-in-1 tubes, 4 of them positive: q = 0.1, p̂ = 1 − 0.9^(1/10) = 0.0104807...
Untested tubes, tubes with only an invalid run and re-test tubes do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.conftest import DRILL_START
from tests.factories import context, login, make_user
from tests.screening.test_metrics_world import World, cheap_argon2  # noqa: F401 (fixture)

from bihuan.assessment import PoolCount, dorfman_tests_per_person, prevalence_from_pools
from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.protocol import load_profile
from bihuan.screening.choices import AreaKind, SampleKind, TestResult, TubeKind
from bihuan.screening.service import advisor

T0 = DRILL_START
H = timedelta(hours=1)
CN8 = load_profile("cn-8th-2021")
P_HAT = 1 - 0.9**0.1


@dataclass
class Rounds:
    world: World
    r1: int
    r2: int


def _pools(world: World, campaign: int, people: list[int], tubes: int, positive: int, at: timedelta) -> None:
    for i in range(tubes):
        tube = world.tube(campaign, people, T0 + at)
        world.result(tube, TestResult.POSITIVE if i < positive else TestResult.NEGATIVE, T0 + at + 6 * H)


@pytest.fixture
def rounds(database: Database, clock: SimulatedClock) -> Rounds:
    world = World(database, clock)
    d = world.district
    people = [world.person(d.building_a, f"居民{i}") for i in range(10)]
    r1 = world.round("R1", [d.community_a], T0, closed=True)
    _pools(world, r1, people, 40, 4, H)
    world.tube(r1, people, T0 + H)  # not tested yet
    invalid = world.tube(r1, people, T0 + H)
    world.result(invalid, TestResult.INVALID, T0 + 5 * H)
    retest = world.tube(r1, people[:1], T0 + 9 * H, kind=TubeKind.SINGLE, sample_kind=SampleKind.RETEST)
    world.result(retest, TestResult.POSITIVE, T0 + 12 * H)
    r2 = world.round("R2", [d.community_a], T0 + timedelta(days=1), pool_size=5)
    _pools(world, r2, people[:5], 20, 1, timedelta(days=1, hours=1))
    clock.set(T0 + timedelta(days=2))
    return Rounds(world, r1, r2)


def test_prevalence_from_one_round_is_the_dorfman_inversion_of_its_tubes(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        estimate = advisor.estimate_prevalence(ctx, [rounds.r1])
    assert [(c.pool_size, c.tubes, c.positive) for c in estimate.by_pool_size] == [(10, 40, 4)]
    assert (estimate.tubes, estimate.positive_tubes) == (40, 4)
    assert estimate.prevalence == pytest.approx(P_HAT, abs=1e-15)
    assert estimate.prevalence == pytest.approx(0.0104807, abs=1e-7)


def test_by_default_the_last_rounds_are_used_with_their_mixed_pool_sizes(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        advice = advisor.advise(ctx, CN8, population=10_000, lab_tests_per_hour=500)
    assert advice.prevalence_source == "rounds"
    assert advice.estimate is not None and advice.estimate.campaign_ids == [rounds.r1, rounds.r2]
    expected = prevalence_from_pools([PoolCount(5, 20, 1), PoolCount(10, 40, 4)])
    assert expected is not None and advice.prevalence == pytest.approx(expected)
    assert 1 - 0.95**0.2 < advice.prevalence < P_HAT  # between the two rounds' own estimates


def test_a_given_prevalence_prices_the_profile_size_against_the_recommended_one(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        advice = advisor.advise(
            ctx, CN8, population=100_000, lab_tests_per_hour=1_000, prevalence=0.01, area_kind=AreaKind.PRECAUTION
        )
    assert advice.prevalence_source == "given" and advice.estimate is None
    assert [o.pool_size for o in advice.options] == [1, 5, 10, 20]
    assert (advice.current_pool_size, advice.recommended_pool_size) == (20, 10)
    extra = 100_000 * (dorfman_tests_per_person(20, 0.01) - dorfman_tests_per_person(10, 0.01))
    assert advice.extra_tests == pytest.approx(extra)  # 0.232093 − 0.195618 per person: 3,647.5 tests
    assert advice.extra_tests == pytest.approx(3_647.5, abs=0.1)
    assert advice.extra_lab_hours == pytest.approx(extra / 1_000)


def test_single_tube_areas_are_told_what_pooling_would_save(rounds: Rounds) -> None:
    with context(rounds.world.database, rounds.world.clock) as ctx:
        advice = advisor.advise(
            ctx, CN8, population=1_000, lab_tests_per_hour=100, prevalence=0.001, area_kind=AreaKind.QUARANTINE_SITE
        )
    assert (advice.current_pool_size, advice.recommended_pool_size) == (1, 20)
    assert advice.extra_tests == pytest.approx(1_000 - 1_000 * dorfman_tests_per_person(20, 0.001))


def test_rounds_without_a_tested_tube_give_no_estimate(rounds: Rounds) -> None:
    empty = rounds.world.round("R3", [rounds.world.district.community_a], T0 + timedelta(days=2))
    with context(rounds.world.database, rounds.world.clock) as ctx, pytest.raises(FieldError) as error:
        advisor.advise(ctx, CN8, population=1_000, lab_tests_per_hour=100, campaign_ids=[empty])
    assert error.value.field == "prevalence"


@pytest.mark.usefixtures("cheap_argon2")
def test_advisor_api_takes_a_prevalence_or_rounds(rounds: Rounds, client: TestClient) -> None:
    headers = login(client, make_user(rounds.world.database, rounds.world.clock, Role.ANALYST, None))
    given = client.get(
        "/api/screening/advisor",
        params={"prevalence": 0.01, "population": 100_000, "lab_tests_per_hour": 1_000, "area_kind": "precaution"},
        headers=headers,
    )
    assert given.status_code == 200, given.text
    assert given.json()["recommended_pool_size"] == 10 and given.json()["current_pool_size"] == 20
    estimated = client.get(
        "/api/screening/advisor",
        params={"campaign_id": [rounds.r1], "population": 1_000, "lab_tests_per_hour": 100, "pool_size": 5},
        headers=headers,
    ).json()
    assert estimated["prevalence"] == pytest.approx(P_HAT)
    assert estimated["current_pool_size"] == 5 and estimated["estimate"]["tubes"] == 40
    missing = client.get("/api/screening/advisor", params={"prevalence": 0.01}, headers=headers)
    assert missing.status_code == 422
    wrong = client.get(
        "/api/screening/advisor",
        params={"prevalence": 2, "population": 10, "lab_tests_per_hour": 1},
        headers=headers,
    )
    assert wrong.status_code == 422


@pytest.mark.usefixtures("cheap_argon2")
def test_advisor_page_shows_the_table_and_the_recommendation(rounds: Rounds, client: TestClient) -> None:
    headers = login(client, make_user(rounds.world.database, rounds.world.clock, Role.COMMANDER, None))
    page = client.get(
        "/screening/advisor",
        params={"lang": "en", "prevalence_percent": "1", "area_kind": "precaution", "population": "100000"},
        headers=headers,
    )
    assert page.status_code == 200, page.text
    assert "Recommended" in page.text and "0.1956" in page.text and "3,648" in page.text
    from_rounds = client.get("/screening/advisor", params={"lang": "zh-CN", "source": "rounds"}, headers=headers)
    assert from_rounds.status_code == 200 and "混采" in from_rounds.text
    bad = client.get("/screening/advisor", params={"lang": "en", "population": "many"}, headers=headers)
    assert bad.status_code == 422 and "population" in bad.text
