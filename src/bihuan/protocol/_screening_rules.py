"""Pure mass-testing rules (快检测): pool size, round deadline, street cadence, key-population schedules."""

from __future__ import annotations

from bihuan.core.errors import FieldError
from bihuan.protocol._profile import ProtocolProfile
from bihuan.protocol.choices import AreaKind, KeyPopulation


def pool_size(area_kind: AreaKind, profile: ProtocolProfile) -> int:
    """Samples per tube (N-in-1) for a testing round in this kind of area; 1 is a single tube."""
    return profile.screening.pool_size[area_kind]


def pools_by_household(area_kind: AreaKind, profile: ProtocolProfile) -> bool:
    """Whether this kind of area is pooled one tube per household instead (一户一管)."""
    return area_kind in profile.screening.household_pooling


def round_deadline_hours(population: int, profile: ProtocolProfile, *, delineated_area: bool = False) -> int:
    """Hours a whole-population round may take: by city size, or the delineated-area limit when set."""
    if population < 0:
        raise FieldError("population", "must not be negative")
    rounds = profile.screening.rounds
    if delineated_area and rounds.delineated_area_deadline_hours is not None:
        return rounds.delineated_area_deadline_hours
    if population >= rounds.large_city_population:
        return rounds.large_city_deadline_hours
    return rounds.deadline_hours


def min_early_rounds(profile: ProtocolProfile) -> int:
    """Whole-population rounds to run at least, early in an outbreak."""
    return profile.screening.rounds.min_early_rounds


def street_testing_interval_days(
    cases_in_last_rounds: int, days_since_last_case: int | None, profile: ProtocolProfile
) -> int:
    """Days until a street's next round: daily with cases in the recent rounds, slower as it quietens.

    `cases_in_last_rounds` counts cases found in the profile's number of recent rounds;
    `days_since_last_case` is None when the street never had one.
    """
    if cases_in_last_rounds < 0:
        raise FieldError("cases_in_last_rounds", "must not be negative")
    cadence = profile.screening.cadence
    if cases_in_last_rounds > 0:
        return cadence.recent_interval_days
    if days_since_last_case is not None and days_since_last_case <= cadence.case_window_days:
        return cadence.window_interval_days
    return cadence.quiet_interval_days


def key_population_interval_days(group: KeyPopulation, profile: ProtocolProfile) -> int | None:
    """Days between routine tests of a key population (重点人群), or None when it has no schedule."""
    return profile.screening.key_populations.get(group)
