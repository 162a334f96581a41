"""Zones (分区分级) step down on plain-data criteria; health codes (亮码) and loop targets come from the profile."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bihuan.core.errors import FieldError
from bihuan.protocol import (
    CodeColour,
    HealthState,
    LoopStage,
    ZoneFacts,
    ZoneLevel,
    code_colour,
    load_profile,
    loop_target_hours,
    next_zone_level,
    unlock_criteria,
    zone_can_step_down,
)

EIGHTH = load_profile("cn-8th-2021")
NINTH = load_profile("cn-9th-2022")

READY_2021 = ZoneFacts(
    level=ZoneLevel.SEALED,
    days_without_new_infection=14,
    last_close_contact_days_past_exposure=15,
    last_close_contact_negative=True,
    last_all_negative_round_days_ago=1,
)


def test_2021_zones_step_down_sealed_then_controlled_then_precaution_then_lifted() -> None:
    assert EIGHTH.zones.step_order == (ZoneLevel.SEALED, ZoneLevel.CONTROLLED, ZoneLevel.PRECAUTION, ZoneLevel.LIFTED)
    assert next_zone_level(ZoneLevel.SEALED, EIGHTH) is ZoneLevel.CONTROLLED
    assert next_zone_level(ZoneLevel.PRECAUTION, EIGHTH) is ZoneLevel.LIFTED
    assert next_zone_level(ZoneLevel.LIFTED, EIGHTH) is None


def test_a_sealed_area_unlocks_when_all_three_2021_criteria_hold() -> None:
    check = zone_can_step_down(READY_2021, EIGHTH)
    assert check.allowed and check.next_level is ZoneLevel.CONTROLLED and check.unmet == ()


@pytest.mark.parametrize(
    ("change", "unmet"),
    [
        ({"days_without_new_infection": 13}, "14 days without new infection"),
        ({"last_close_contact_days_past_exposure": 14}, "more than 14 days past exposure"),
        ({"last_close_contact_negative": False}, "not tested negative"),
        ({"last_all_negative_round_days_ago": 3}, "within the last 2 days"),
        ({"last_all_negative_round_days_ago": None}, "within the last 2 days"),
    ],
)
def test_a_sealed_area_stays_sealed_while_any_criterion_is_unmet(change: dict[str, Any], unmet: str) -> None:
    facts = replace(READY_2021, **change)
    check = zone_can_step_down(facts, EIGHTH)
    assert not check.allowed
    assert len(check.unmet) == 1 and unmet in check.unmet[0]


def test_a_controlled_area_unlocks_on_the_same_criteria() -> None:
    facts = replace(READY_2021, level=ZoneLevel.CONTROLLED)
    assert zone_can_step_down(facts, EIGHTH).next_level is ZoneLevel.PRECAUTION
    assert zone_can_step_down(facts, EIGHTH).allowed


def test_the_precaution_area_lifts_only_when_every_sealed_and_controlled_area_of_its_county_has() -> None:
    waiting = ZoneFacts(level=ZoneLevel.PRECAUTION, days_without_new_infection=0, county_areas_still_locked=2)
    assert not zone_can_step_down(waiting, EIGHTH).allowed
    done = ZoneFacts(level=ZoneLevel.PRECAUTION, days_without_new_infection=0, county_areas_still_locked=0)
    assert zone_can_step_down(done, EIGHTH).allowed


def test_a_lifted_zone_cannot_step_further() -> None:
    check = zone_can_step_down(ZoneFacts(level=ZoneLevel.LIFTED, days_without_new_infection=30), EIGHTH)
    assert not check.allowed and check.next_level is None


def test_a_level_of_the_other_edition_is_refused() -> None:
    with pytest.raises(FieldError, match="not a level of cn-8th-2021"):
        unlock_criteria(ZoneLevel.HIGH, EIGHTH)


def test_9th_edition_high_risk_steps_to_medium_after_7_days_and_an_all_negative_round_on_day_7() -> None:
    ready = ZoneFacts(level=ZoneLevel.HIGH, days_without_new_infection=7, last_all_negative_round_days_ago=0)
    assert zone_can_step_down(ready, NINTH).next_level is ZoneLevel.MEDIUM
    assert zone_can_step_down(ready, NINTH).allowed
    early_round = ZoneFacts(level=ZoneLevel.HIGH, days_without_new_infection=7, last_all_negative_round_days_ago=2)
    assert not zone_can_step_down(early_round, NINTH).allowed  # the round was on day 5
    too_soon = ZoneFacts(level=ZoneLevel.HIGH, days_without_new_infection=6, last_all_negative_round_days_ago=0)
    assert not zone_can_step_down(too_soon, NINTH).allowed


def test_9th_edition_medium_steps_to_low_after_7_days_or_3_more_if_it_came_down_from_high() -> None:
    medium = ZoneFacts(level=ZoneLevel.MEDIUM, days_without_new_infection=7, days_at_level=7)
    assert zone_can_step_down(medium, NINTH).allowed
    assert not zone_can_step_down(ZoneFacts(level=ZoneLevel.MEDIUM, days_without_new_infection=6), NINTH).allowed
    from_high = ZoneFacts(
        level=ZoneLevel.MEDIUM, days_without_new_infection=10, days_at_level=3, stepped_down_from=ZoneLevel.HIGH
    )
    assert zone_can_step_down(from_high, NINTH).allowed
    not_yet = ZoneFacts(
        level=ZoneLevel.MEDIUM, days_without_new_infection=9, days_at_level=2, stepped_down_from=ZoneLevel.HIGH
    )
    assert not zone_can_step_down(not_yet, NINTH).allowed


@pytest.mark.parametrize(
    "state",
    [
        HealthState.CONFIRMED,
        HealthState.SUSPECTED,
        HealthState.ASYMPTOMATIC,
        HealthState.CENTRAL_ISOLATION,
        HealthState.HOME_ISOLATION,
        HealthState.UNEXPLAINED_FEVER,
    ],
)
def test_cases_suspects_people_under_isolation_and_unexplained_fever_get_a_red_code(state: HealthState) -> None:
    assert code_colour([state], EIGHTH) is CodeColour.RED


@pytest.mark.parametrize(
    "state",
    [
        HealthState.SELF_REPORTED_SYMPTOMS,
        HealthState.HOME_MONITORING,
        HealthState.MISSED_TESTING_ROUND,
        HealthState.SPATIOTEMPORAL_COMPANION,
    ],
)
def test_symptoms_home_monitoring_a_missed_round_or_a_companion_get_a_yellow_code(state: HealthState) -> None:
    assert code_colour([state], EIGHTH) is CodeColour.YELLOW


def test_everyone_else_is_green_and_red_wins_over_yellow() -> None:
    assert code_colour([], EIGHTH) is CodeColour.GREEN
    assert code_colour([HealthState.HOME_MONITORING, HealthState.CONFIRMED], EIGHTH) is CodeColour.RED


def test_red_turns_yellow_then_green_as_isolation_and_monitoring_end() -> None:
    assert code_colour([HealthState.CENTRAL_ISOLATION], EIGHTH) is CodeColour.RED
    assert code_colour([HealthState.HOME_MONITORING], EIGHTH) is CodeColour.YELLOW
    assert code_colour([], EIGHTH) is CodeColour.GREEN


def test_report_within_2_hours_first_findings_in_4_contacts_controlled_and_case_investigated_in_24() -> None:
    assert loop_target_hours(LoopStage.REPORT_AFTER_DIAGNOSIS, EIGHTH) == 2
    assert loop_target_hours(LoopStage.FIRST_TRACING_FINDINGS, EIGHTH) == 4
    assert loop_target_hours(LoopStage.CONTACTS_UNDER_CONTROL, EIGHTH) == 24
    assert loop_target_hours(LoopStage.COUNTY_CASE_INVESTIGATION, EIGHTH) == 24


@pytest.mark.parametrize("name", ["cn-8th-2021", "cn-9th-2022"])
def test_every_loop_stage_has_a_positive_target(name: str) -> None:
    profile = load_profile(name)
    assert all(loop_target_hours(stage, profile) > 0 for stage in LoopStage)
