"""Mass-testing rules (快检测): pool sizes by area, round deadlines, street cadence, key populations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bihuan.core.errors import FieldError
from bihuan.protocol import (
    AreaKind,
    KeyPopulation,
    load_profile,
    min_early_rounds,
    pool_size,
    pools_by_household,
    round_deadline_hours,
    street_testing_interval_days,
)

EIGHTH = load_profile("cn-8th-2021")
NINTH = load_profile("cn-9th-2022")


@pytest.mark.parametrize(
    ("area_kind", "size"),
    [
        (AreaKind.QUARANTINE_SITE, 1),
        (AreaKind.KEY_GROUP, 1),
        (AreaKind.SEALED, 1),
        (AreaKind.CONTROLLED, 10),
        (AreaKind.PRECAUTION, 20),
        (AreaKind.OTHER, 20),
    ],
)
def test_single_tubes_for_sites_key_groups_and_sealed_areas_10_in_1_controlled_20_in_1_elsewhere(
    area_kind: AreaKind, size: int
) -> None:
    assert pool_size(area_kind, EIGHTH) == size


def test_sealed_areas_pool_single_tubes_unless_the_profile_chooses_one_per_household() -> None:
    assert not pools_by_household(AreaKind.SEALED, EIGHTH)
    per_household = EIGHTH.screening.model_copy(update={"household_pooling": (AreaKind.SEALED,)})
    profile = EIGHTH.model_copy(update={"screening": per_household})
    assert pools_by_household(AreaKind.SEALED, profile)


def test_a_round_takes_two_days_under_five_million_people_and_three_from_five_million() -> None:
    assert round_deadline_hours(4_999_999, EIGHTH) == 48
    assert round_deadline_hours(5_000_000, EIGHTH) == 72
    assert round_deadline_hours(12_000_000, EIGHTH) == 72


def test_9th_edition_gives_a_delineated_area_24_hours() -> None:
    assert round_deadline_hours(300_000, NINTH, delineated_area=True) == 24
    assert round_deadline_hours(300_000, NINTH) == 48
    assert round_deadline_hours(300_000, EIGHTH, delineated_area=True) == 48  # no such limit in 2021


def test_a_negative_population_is_refused() -> None:
    with pytest.raises(FieldError):
        round_deadline_hours(-1, EIGHTH)


def test_an_outbreak_starts_with_at_least_three_rounds() -> None:
    assert min_early_rounds(EIGHTH) == 3


def test_streets_test_daily_with_cases_in_the_last_three_rounds_every_2_days_within_14_days_else_every_5() -> None:
    assert EIGHTH.screening.cadence.recent_rounds == 3
    assert street_testing_interval_days(2, 1, EIGHTH) == 1
    assert street_testing_interval_days(0, 14, EIGHTH) == 2
    assert street_testing_interval_days(0, 15, EIGHTH) == 5
    assert street_testing_interval_days(0, None, EIGHTH) == 5


@settings(database=None)
@given(st.integers(0, 50), st.one_of(st.none(), st.integers(0, 60)), st.integers(0, 60))
def test_a_street_never_tests_more_often_as_it_quietens(cases: int, since: int | None, later: int) -> None:
    now = street_testing_interval_days(cases, since, EIGHTH)
    quieter = street_testing_interval_days(0, None if since is None else since + later, EIGHTH)
    assert quieter >= now


def test_quarantine_site_staff_are_tested_daily() -> None:
    assert EIGHTH.screening.key_populations[KeyPopulation.QUARANTINE_SITE_STAFF] == 1
    assert set(EIGHTH.screening.key_populations) == set(KeyPopulation)
