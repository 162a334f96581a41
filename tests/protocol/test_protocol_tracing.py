"""Tracing rules (快流调): exposure windows, vehicles, venues, spatiotemporal companions, incubation and clusters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

import bihuan.protocol as protocol
from bihuan.core.errors import FieldError
from bihuan.protocol import (
    CaseFacts,
    ExposureWindow,
    ProfileError,
    Seat,
    VehicleKind,
    VenueKind,
    close_contact_window,
    companion_rule,
    incubation_window,
    is_cluster,
    is_companion,
    load_profile,
    secondary_contact_window,
    vehicle_close_contact,
    venue_co_presence_minutes,
)

EIGHTH = load_profile("cn-8th-2021")
NINTH = load_profile("cn-9th-2022")
ISOLATED = datetime(2021, 12, 9, 15, 30)


def test_window_starts_two_days_before_onset() -> None:
    case = CaseFacts(onset_date=date(2021, 12, 8), first_positive_sampling_date=date(2021, 12, 9), isolated_at=ISOLATED)
    assert close_contact_window(case, EIGHTH) == ExposureWindow(start=date(2021, 12, 6), end=ISOLATED)


def test_asymptomatic_window_starts_two_days_before_sampling() -> None:
    case = CaseFacts(onset_date=None, first_positive_sampling_date=date(2021, 12, 9))
    window = close_contact_window(case, EIGHTH)
    assert window.start == date(2021, 12, 7)
    assert window.end is None  # not isolated yet: the window is still open


def test_9th_edition_looks_back_four_days() -> None:
    case = CaseFacts(onset_date=date(2022, 7, 10), first_positive_sampling_date=date(2022, 7, 11))
    assert close_contact_window(case, NINTH).start == date(2022, 7, 6)


def test_9th_edition_starts_a_serially_screened_cases_window_at_the_last_negative_test() -> None:
    case = CaseFacts(
        onset_date=None, first_positive_sampling_date=date(2022, 7, 11), last_negative_test_date=date(2022, 7, 9)
    )
    assert close_contact_window(case, NINTH).start == date(2022, 7, 9)
    assert close_contact_window(case, EIGHTH).start == date(2022, 7, 9)  # 2 days back is the same day


def test_a_last_negative_test_before_the_look_back_does_not_widen_the_window() -> None:
    case = CaseFacts(
        onset_date=None, first_positive_sampling_date=date(2022, 7, 11), last_negative_test_date=date(2022, 7, 1)
    )
    assert close_contact_window(case, NINTH).start == date(2022, 7, 7)


def test_8th_edition_ignores_the_last_negative_test() -> None:
    case = CaseFacts(
        onset_date=date(2021, 12, 8),
        first_positive_sampling_date=date(2021, 12, 9),
        last_negative_test_date=date(2021, 12, 7),
    )
    assert close_contact_window(case, EIGHTH).start == date(2021, 12, 6)


def test_a_contact_counts_only_inside_the_window() -> None:
    window = ExposureWindow(start=date(2021, 12, 6), end=ISOLATED)
    assert not window.contains(date(2021, 12, 5))
    assert window.contains(datetime(2021, 12, 6, 0, 1))
    assert window.contains(date(2021, 12, 9))
    assert not window.contains(datetime(2021, 12, 9, 16, 0))  # after the case was isolated
    assert ExposureWindow(start=date(2021, 12, 6)).contains(date(2022, 1, 1))


def test_secondary_window_runs_from_first_contact_until_the_close_contact_is_isolated() -> None:
    window = secondary_contact_window(datetime(2021, 12, 5, 19, 0), datetime(2021, 12, 10, 8, 0))
    assert window == ExposureWindow(start=date(2021, 12, 5), end=datetime(2021, 12, 10, 8, 0))
    assert secondary_contact_window(date(2021, 12, 5), None).end is None


def test_secondary_window_refuses_an_isolation_before_the_first_contact() -> None:
    with pytest.raises(FieldError) as refused:
        secondary_contact_window(date(2021, 12, 5), datetime(2021, 12, 4, 8, 0))
    assert refused.value.field == "close_contact_isolated_at"


def test_on_a_plane_three_rows_either_side_and_the_crew_are_close_contacts() -> None:
    case = Seat(row=20)
    assert vehicle_close_contact(VehicleKind.PLANE, case, Seat(row=17), EIGHTH)
    assert vehicle_close_contact(VehicleKind.PLANE, case, Seat(row=23), EIGHTH)
    assert not vehicle_close_contact(VehicleKind.PLANE, case, Seat(row=24), EIGHTH)
    assert vehicle_close_contact(VehicleKind.PLANE, case, Seat(crew=True), EIGHTH)


def test_on_a_sealed_train_the_whole_car_but_in_a_soft_sleeper_only_the_compartment() -> None:
    assert vehicle_close_contact(VehicleKind.TRAIN, Seat(car="5"), Seat(car="5", row=1), EIGHTH)
    assert not vehicle_close_contact(VehicleKind.TRAIN, Seat(car="5"), Seat(car="6"), EIGHTH)
    sleeper = Seat(car="9", compartment="3")
    assert vehicle_close_contact(VehicleKind.TRAIN, sleeper, Seat(car="9", compartment="3"), EIGHTH)
    assert not vehicle_close_contact(VehicleKind.TRAIN, sleeper, Seat(car="9", compartment="4"), EIGHTH)


def test_on_a_coach_everyone_on_a_bus_three_rows_and_on_a_ship_the_cabin() -> None:
    assert vehicle_close_contact(VehicleKind.COACH, Seat(row=1), Seat(row=12), EIGHTH)
    assert vehicle_close_contact(VehicleKind.BUS, Seat(row=5), Seat(row=2), EIGHTH)
    assert not vehicle_close_contact(VehicleKind.BUS, Seat(row=5), Seat(row=9), EIGHTH)
    assert not vehicle_close_contact(VehicleKind.BUS, Seat(row=5), Seat(crew=True), EIGHTH)
    assert vehicle_close_contact(VehicleKind.SHIP, Seat(cabin="B12"), Seat(cabin="B12"), EIGHTH)
    assert not vehicle_close_contact(VehicleKind.SHIP, Seat(cabin="B12"), Seat(cabin="B14"), EIGHTH)


def test_venue_co_presence_minutes_by_kind_with_a_default() -> None:
    assert venue_co_presence_minutes(VenueKind.RESTAURANT, EIGHTH) == 15
    assert venue_co_presence_minutes(VenueKind.OFFICE, EIGHTH) == 15
    assert venue_co_presence_minutes(VenueKind.CLASSROOM, EIGHTH) == 15
    assert venue_co_presence_minutes(VenueKind.OTHER, EIGHTH) == EIGHTH.tracing.venues.default_minutes


def test_companion_rule_is_800_m_cells_10_minutes_14_days_30_hours_and_2_tests_24_h_apart() -> None:
    rule = companion_rule(EIGHTH)
    assert (rule.grid_metres, rule.min_minutes, rule.window_days, rule.long_stay_hours) == (800, 10, 14, 30)
    assert (rule.tests, rule.test_interval_hours) == (2, 24)


def test_a_companion_shares_a_cell_more_than_ten_minutes_within_fourteen_days_where_someone_stayed_long() -> None:
    assert is_companion(11, days_ago=3, longest_stay_hours=31, profile=EIGHTH)
    assert not is_companion(10, days_ago=3, longest_stay_hours=31, profile=EIGHTH)  # more than 10 minutes
    assert not is_companion(11, days_ago=14, longest_stay_hours=31, profile=EIGHTH)  # outside 14 days
    assert not is_companion(11, days_ago=3, longest_stay_hours=30, profile=EIGHTH)  # more than 30 h
    assert not is_companion(11, days_ago=3, longest_stay_hours=None, profile=EIGHTH)


def test_five_linked_cases_make_a_cluster() -> None:
    assert not is_cluster(4, EIGHTH)
    assert is_cluster(5, EIGHTH)


def test_8th_edition_infection_lies_1_to_14_days_before_onset_mostly_3_to_7() -> None:
    assert incubation_window(date(2021, 12, 15), EIGHTH) == (date(2021, 12, 1), date(2021, 12, 14))
    assert incubation_window(date(2021, 12, 15), EIGHTH, typical=True) == (date(2021, 12, 8), date(2021, 12, 12))


def test_9th_edition_omicron_is_mostly_2_to_4_days_within_the_same_outer_range() -> None:
    assert incubation_window(date(2022, 7, 15), NINTH) == (date(2022, 7, 1), date(2022, 7, 14))
    assert incubation_window(date(2022, 7, 15), NINTH, typical=True) == (date(2022, 7, 11), date(2022, 7, 13))


def test_the_incubation_window_crosses_month_and_year_ends() -> None:
    assert incubation_window(date(2022, 1, 3), EIGHTH) == (date(2021, 12, 20), date(2022, 1, 2))


SHIPPED = Path(str(protocol.__file__)).parent / "profiles"
INCUBATION_8TH = "min_days = 1              # shortest incubation: 1 day"


def _problems_with(tmp_path: Path, old: str, new: str) -> dict[str, str]:
    """The problems reported for a user's copy of the 8th edition with one change."""
    text = (SHIPPED / "cn-8th-2021.toml").read_text(encoding="utf-8")
    assert old in text, f"the shipped profile no longer holds {old!r}"
    path = tmp_path / "my-city.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        protocol.load_profile(path)
    return dict(refused.value.problems)


def test_an_incubation_shortest_beyond_its_longest_is_refused_naming_the_field(tmp_path: Path) -> None:
    problems = _problems_with(tmp_path, INCUBATION_8TH, "min_days = 15")
    assert problems == {"tracing.incubation.min_days": "15 is more than max_days (14)"}


def test_a_negative_incubation_is_refused_naming_the_field(tmp_path: Path) -> None:
    problems = _problems_with(tmp_path, INCUBATION_8TH, "min_days = -1")
    assert "greater than or equal to 0" in problems["tracing.incubation.min_days"]


def test_a_typical_incubation_outside_the_range_or_half_given_is_refused(tmp_path: Path) -> None:
    outside = _problems_with(tmp_path, "typical_max_days = 7", "typical_max_days = 15")
    assert outside == {"tracing.incubation.typical_max_days": "15 is more than max_days (14)"}
    reversed_ = _problems_with(tmp_path, "typical_min_days = 3", "typical_min_days = 8")
    assert reversed_ == {"tracing.incubation.typical_min_days": "8 is more than typical_max_days (7)"}
    half = _problems_with(tmp_path, "typical_min_days = 3", "")
    assert "give both" in half["tracing.incubation.typical_max_days"]


def test_a_profile_without_an_incubation_rule_is_refused(tmp_path: Path) -> None:
    problems = _problems_with(tmp_path, "[tracing.incubation]", "[tracing.incubation_period]")
    assert "tracing.incubation" in problems
