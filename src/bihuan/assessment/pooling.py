"""Pooled testing maths (混采研判): Dorfman expected tests, the best pool size, prevalence from pool positivity.

Two-stage Dorfman pooling: a pool of k samples is tested once; when it is positive each of its k
members is re-tested on a single tube. With independent infections at prevalence p the expected
number of tests per person is E(k, p) = 1/k + 1 − (1 − p)^k. A single tube (k = 1) costs exactly one
test per person. Dilution and test error are not modelled: the numbers are those of a perfect assay.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bihuan.core.errors import FieldError

SINGLE_TUBE = 1
_TIE = 1e-12  # expected tests closer than this are a tie, and the smaller pool wins it


def _check_pool_size(k: int, field: str = "pool_size") -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise FieldError(field, f"{k!r} is not a pool size: a whole number of samples per tube, at least 1")


def _check_fraction(value: float, field: str) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0) or math.isnan(value):
        raise FieldError(field, f"{value!r} is not a fraction between 0 and 1")


def dorfman_tests_per_person(k: int, p: float) -> float:
    """Expected tests per person, E(k, p) = 1/k + 1 − (1 − p)^k, for pools of k at prevalence p (k = 1: one test)."""
    _check_pool_size(k)
    _check_fraction(p, "prevalence")
    if k == SINGLE_TUBE:
        return 1.0
    return 1.0 / k + 1.0 - (1.0 - p) ** k


def expected_tests(population: int, k: int, p: float) -> float:
    """Expected tests (pool tests plus single-tube re-tests) to screen a population in pools of k."""
    if population < 0:
        raise FieldError("population", "must not be negative")
    return population * dorfman_tests_per_person(k, p)


def pool_positivity(p: float, k: int) -> float:
    """The chance that a pool of k is positive at prevalence p: q = 1 − (1 − p)^k."""
    _check_pool_size(k)
    _check_fraction(p, "prevalence")
    return 1.0 if p == 1.0 else -math.expm1(k * math.log1p(-p))


def prevalence_from_pool_positivity(q: float, k: int) -> float:
    """Dorfman inversion: the prevalence that makes a fraction q of pools of k positive, p̂ = 1 − (1 − q)^(1/k)."""
    _check_pool_size(k)
    _check_fraction(q, "positive_fraction")
    return 1.0 if q == 1.0 else -math.expm1(math.log1p(-q) / k)


def best_pool_size(p: float, sizes: Iterable[int]) -> int:
    """The size among `sizes` (a single tube is always a candidate) with the fewest expected tests per person.

    On a tie the smaller pool wins: it dilutes less and re-tests fewer people at once.
    """
    candidates = _candidates(sizes)
    best = candidates[0]
    best_tests = dorfman_tests_per_person(best, p)
    for k in candidates[1:]:
        tests = dorfman_tests_per_person(k, p)
        if tests < best_tests - _TIE:
            best, best_tests = k, tests
    return best


def _candidates(sizes: Iterable[int]) -> list[int]:
    chosen = set()
    for k in sizes:
        _check_pool_size(k, "allowed_pool_sizes")
        chosen.add(k)
    chosen.add(SINGLE_TUBE)
    return sorted(chosen)


@dataclass(frozen=True, slots=True)
class PoolCount:
    """Tested tubes of one pool size in some rounds, and how many of them were positive."""

    pool_size: int
    tubes: int
    positive: int

    def __post_init__(self) -> None:
        _check_pool_size(self.pool_size)
        if self.tubes < 0 or not 0 <= self.positive <= self.tubes:
            raise FieldError("positive", f"{self.positive} positive of {self.tubes} tubes is impossible")


def prevalence_from_pools(counts: Sequence[PoolCount]) -> float | None:
    """The maximum-likelihood prevalence behind tested pools of one or several sizes; None without any tube.

    With a single pool size this is exactly the Dorfman inversion of the positive fraction; with
    mixed sizes it solves the likelihood equation (concave in p) by bisection.
    """
    used = [c for c in counts if c.tubes > 0]
    if not used:
        return None
    if len({c.pool_size for c in used}) == 1:
        tubes = sum(c.tubes for c in used)
        positive = sum(c.positive for c in used)
        return prevalence_from_pool_positivity(positive / tubes, used[0].pool_size)
    if all(c.positive == 0 for c in used):
        return 0.0
    if all(c.positive == c.tubes for c in used):
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if _score(used, middle) > 0.0:
            low = middle
        else:
            high = middle
        if high - low < 1e-15:
            break
    return (low + high) / 2.0


def _score(counts: Sequence[PoolCount], p: float) -> float:
    """d/dp of the log-likelihood of the pool results at prevalence p (decreasing in p)."""
    s = 1.0 - p
    total = 0.0
    for c in counts:
        k = c.pool_size
        negative = c.tubes - c.positive
        if c.positive:
            total += c.positive * k * s ** (k - 1) / (1.0 - s**k)
        if negative:
            total -= negative * k / s
    return total


@dataclass(frozen=True, slots=True)
class PoolOption:
    """What screening a population in pools of one size is expected to cost."""

    pool_size: int
    tests_per_person: float
    expected_tests: float
    lab_hours: float
    expected_positive_pools: float


@dataclass(frozen=True, slots=True)
class PoolingAdvice:
    """Expected cost of each candidate size, the recommended one and what the current size costs more."""

    prevalence: float
    population: int
    lab_tests_per_hour: float
    options: tuple[PoolOption, ...]
    current: PoolOption
    recommended: PoolOption

    @property
    def extra_tests(self) -> float:
        """Tests the current size needs beyond the recommended one (never negative)."""
        return self.current.expected_tests - self.recommended.expected_tests

    @property
    def extra_lab_hours(self) -> float:
        """Lab hours the current size needs beyond the recommended one."""
        return self.current.lab_hours - self.recommended.lab_hours


def pool_option(k: int, p: float, population: int, lab_tests_per_hour: float) -> PoolOption:
    """The expected tests and lab hours of pools of k for this population."""
    if not lab_tests_per_hour > 0 or math.isinf(lab_tests_per_hour):
        raise FieldError("lab_tests_per_hour", "must be a positive number of tests per hour")
    tests = expected_tests(population, k, p)
    pools = population / k
    return PoolOption(
        pool_size=k,
        tests_per_person=dorfman_tests_per_person(k, p),
        expected_tests=tests,
        lab_hours=tests / lab_tests_per_hour,
        expected_positive_pools=pools * pool_positivity(p, k),
    )


def advise_pooling(
    prevalence: float, sizes: Iterable[int], current_size: int, population: int, lab_tests_per_hour: float
) -> PoolingAdvice:
    """Compare every candidate size (and a single tube) at this prevalence; recommend the cheapest.

    `current_size` is the size in use (the profile's for the area kind); it joins the candidates.
    """
    _check_pool_size(current_size, "current_pool_size")
    candidates = _candidates([*sizes, current_size])
    options = tuple(pool_option(k, prevalence, population, lab_tests_per_hour) for k in candidates)
    by_size = {option.pool_size: option for option in options}
    return PoolingAdvice(
        prevalence=prevalence,
        population=population,
        lab_tests_per_hour=lab_tests_per_hour,
        options=options,
        current=by_size[current_size],
        recommended=by_size[best_pool_size(prevalence, candidates)],
    )
