"""Dorfman pooling maths: hand-computed values, the known optimum, monotonicity, and the inversion round trip."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bihuan.assessment import (
    PoolCount,
    advise_pooling,
    best_pool_size,
    dorfman_tests_per_person,
    expected_tests,
    pool_positivity,
    prevalence_from_pool_positivity,
    prevalence_from_pools,
)
from bihuan.core.errors import FieldError

ASSESSMENT = Path(__file__).resolve().parents[2] / "src" / "bihuan" / "assessment"

pool_sizes = st.integers(min_value=2, max_value=100)
prevalences = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
small_prevalences = st.floats(min_value=0.0, max_value=0.3, allow_nan=False)


# -- hand-computed values --------------------------------------------------------------------------


def test_ten_in_one_at_one_in_a_thousand_costs_eleven_tests_per_hundred_people() -> None:
    # 1/10 + 1 − 0.999^10 = 0.1 + 1 − 0.990044880209748... = 0.109955119790251...
    assert dorfman_tests_per_person(10, 0.001) == pytest.approx(0.10995511979025, abs=1e-13)


@pytest.mark.parametrize(
    ("k", "p", "expected"),
    [
        (5, 0.0, 0.2),  # nobody infected: one test per pool
        (20, 0.0, 0.05),
        (2, 0.5, 0.5 + 1 - 0.25),  # 1.25
        (5, 0.01, 0.2 + 1 - 0.99**5),  # 0.2490099501
        (20, 0.01, 0.05 + 1 - 0.99**20),  # 0.2320693884
        (10, 1.0, 1.1),  # every pool positive: the pool test is wasted
        (1, 0.3, 1.0),  # a single tube is one test, whatever the prevalence
    ],
)
def test_expected_tests_per_person_match_the_formula_by_hand(k: int, p: float, expected: float) -> None:
    assert dorfman_tests_per_person(k, p) == pytest.approx(expected, abs=1e-12)


def test_a_city_round_in_ten_in_one_pools_needs_about_110_thousand_tests_per_million() -> None:
    assert expected_tests(1_000_000, 10, 0.001) == pytest.approx(109_955.11979, abs=1e-4)


def test_the_optimum_at_one_percent_is_eleven_among_one_to_twenty() -> None:
    assert best_pool_size(0.01, range(1, 21)) == 11
    # 11 beats its neighbours by a hair: 0.195571 against 0.195618 (10) and 0.196948 (12)
    assert dorfman_tests_per_person(11, 0.01) < dorfman_tests_per_person(10, 0.01) < dorfman_tests_per_person(12, 0.01)


def test_the_optimum_at_one_percent_among_the_allowed_sizes_is_ten() -> None:
    assert best_pool_size(0.01, (5, 10, 20)) == 10


def test_without_infection_the_largest_pool_wins_and_above_thirty_percent_a_single_tube_wins() -> None:
    assert best_pool_size(0.0, (5, 10, 20)) == 20
    assert best_pool_size(0.31, range(2, 101)) == 1  # pooling never pays above 1 − 3^(−1/3) ≈ 30.7 %
    assert best_pool_size(0.30, range(2, 101)) == 3


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_a_prevalence_outside_zero_to_one_is_refused_by_name(bad: float) -> None:
    with pytest.raises(FieldError) as error:
        dorfman_tests_per_person(10, bad)
    assert error.value.field == "prevalence"


def test_a_pool_size_below_one_is_refused() -> None:
    with pytest.raises(FieldError) as error:
        dorfman_tests_per_person(0, 0.01)
    assert error.value.field == "pool_size"


# -- the advice ------------------------------------------------------------------------------------


def test_advice_prices_the_profile_size_against_the_recommended_one() -> None:
    advice = advise_pooling(0.05, (5, 10, 20), current_size=20, population=100_000, lab_tests_per_hour=500)
    assert [o.pool_size for o in advice.options] == [1, 5, 10, 20]
    # E(5, .05) = 0.2 + 1 − .95^5 = 0.4262191; E(20, .05) = 0.05 + 1 − .95^20 = 0.6915141
    assert advice.recommended.pool_size == 5
    assert advice.recommended.expected_tests == pytest.approx(42_621.91, abs=0.01)
    assert advice.current.expected_tests == pytest.approx(69_151.41, abs=0.01)
    assert advice.extra_tests == pytest.approx(26_529.50, abs=0.01)
    assert advice.extra_lab_hours == pytest.approx(26_529.50 / 500, abs=1e-4)
    assert advice.current.expected_positive_pools == pytest.approx(5_000 * (1 - 0.95**20))


def test_advice_at_the_recommended_size_costs_nothing_extra() -> None:
    advice = advise_pooling(0.001, (5, 10, 20), current_size=20, population=1_000, lab_tests_per_hour=100)
    assert advice.recommended.pool_size == 20
    assert advice.extra_tests == 0
    assert advice.extra_lab_hours == 0


def test_advice_needs_a_positive_lab_throughput() -> None:
    with pytest.raises(FieldError) as error:
        advise_pooling(0.01, (10,), current_size=10, population=1_000, lab_tests_per_hour=0)
    assert error.value.field == "lab_tests_per_hour"


# -- properties ------------------------------------------------------------------------------------


@given(k=pool_sizes, p=prevalences, q=prevalences)
def test_more_infection_never_means_fewer_tests(k: int, p: float, q: float) -> None:
    low, high = sorted((p, q))
    assert dorfman_tests_per_person(k, low) <= dorfman_tests_per_person(k, high) + 1e-15


@given(k=pool_sizes, p=prevalences)
def test_a_pool_costs_between_one_test_per_pool_and_a_full_retest(k: int, p: float) -> None:
    tests = dorfman_tests_per_person(k, p)
    assert 1 / k - 1e-15 <= tests <= 1 / k + 1 + 1e-15


@given(p=prevalences, sizes=st.sets(pool_sizes, min_size=1, max_size=8))
def test_the_recommended_size_is_never_beaten_by_another_candidate(p: float, sizes: set[int]) -> None:
    best = dorfman_tests_per_person(best_pool_size(p, sizes), p)
    assert all(best <= dorfman_tests_per_person(k, p) + 1e-12 for k in sizes | {1})


@given(p=small_prevalences, q=small_prevalences, sizes=st.sets(pool_sizes, min_size=1, max_size=8))
def test_the_recommended_size_shrinks_as_prevalence_grows(p: float, q: float, sizes: set[int]) -> None:
    low, high = sorted((p, q))
    assert best_pool_size(high, sizes) <= best_pool_size(low, sizes)


@given(k=pool_sizes, p=prevalences)
def test_dorfman_inversion_recovers_the_prevalence(k: int, p: float) -> None:
    assume(pool_positivity(p, k) < 0.999)  # beyond, 1 − q keeps too few digits to invert (ill-conditioned)
    recovered = prevalence_from_pool_positivity(pool_positivity(p, k), k)
    assert recovered == pytest.approx(p, abs=1e-9)


@given(k=pool_sizes, q=prevalences)
def test_the_inverted_prevalence_gives_back_the_positive_fraction(k: int, q: float) -> None:
    assert pool_positivity(prevalence_from_pool_positivity(q, k), k) == pytest.approx(q, abs=1e-9)


# -- prevalence from stored rounds -----------------------------------------------------------------


def test_prevalence_from_ten_in_one_pools_is_the_dorfman_inversion() -> None:
    # 10 positive pools of 1,000: q = 0.01, p̂ = 1 − 0.99^(1/10) = 0.00100452...
    estimate = prevalence_from_pools([PoolCount(10, 1_000, 10)])
    assert estimate == pytest.approx(1 - 0.99**0.1, abs=1e-15)
    assert estimate == pytest.approx(0.0010045, abs=1e-7)


def test_single_tubes_estimate_the_plain_positive_fraction() -> None:
    assert prevalence_from_pools([PoolCount(1, 200, 3)]) == pytest.approx(0.015)


def test_mixed_pool_sizes_agreeing_on_a_prevalence_give_it_back() -> None:
    p = 0.02
    counts = [PoolCount(k, 1_000_000, round(1_000_000 * pool_positivity(p, k))) for k in (1, 5, 10, 20)]
    assert prevalence_from_pools(counts) == pytest.approx(p, rel=1e-4)


def test_no_tested_tube_gives_no_estimate_and_no_positive_gives_zero() -> None:
    assert prevalence_from_pools([]) is None
    assert prevalence_from_pools([PoolCount(10, 0, 0)]) is None
    assert prevalence_from_pools([PoolCount(10, 50, 0), PoolCount(5, 20, 0)]) == 0.0
    assert prevalence_from_pools([PoolCount(10, 5, 5), PoolCount(5, 2, 2)]) == 1.0


def test_an_impossible_count_is_refused() -> None:
    with pytest.raises(FieldError):
        PoolCount(10, 5, 6)


# -- the pure core stays pure ----------------------------------------------------------------------


def test_assessment_imports_nothing_of_bihuan_but_core() -> None:
    offenders = []
    for path in ASSESSMENT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith("bihuan.") and not n.startswith(("bihuan.core", "bihuan.assessment"))
            ]
    assert offenders == []
