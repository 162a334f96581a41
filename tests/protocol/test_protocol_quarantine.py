"""Quarantine plans (快隔离): phases and tests dated from the last exposure, release, rooms and capacity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bihuan.core.errors import FieldError
from bihuan.protocol import (
    CarerReason,
    ContactCategory,
    ProtocolProfile,
    QuarantinePhase,
    QuarantinePlan,
    QuarantineRule,
    ReleaseDecision,
    TestOutcome,
    load_profile,
    quarantine_plan,
    room_capacity,
    secondary_contact_release,
    site_capacity_target_rooms,
)

EIGHTH = load_profile("cn-8th-2021")
NINTH = load_profile("cn-9th-2022")
EXPOSED = date(2021, 12, 1)
CENTRAL, HOME_ISOLATION, HOME_MONITORING = QuarantinePhase


def _days(plan: QuarantinePlan, phase: QuarantinePhase) -> list[int]:
    return [test.day for test in plan.tests if test.phase is phase]


def _lengths(plan: QuarantinePlan) -> dict[QuarantinePhase, int]:
    return {phase.phase: phase.days for phase in plan.phases}


def test_day_one_is_the_day_after_last_exposure() -> None:
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, EXPOSED, EIGHTH)
    assert plan.phases[0].start == date(2021, 12, 2)
    assert plan.tests[0].day == 1 and plan.tests[0].on == date(2021, 12, 2)


def test_close_contact_under_8th_edition_is_14_central_then_7_home_with_tests_on_days_1_4_7_14() -> None:
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, EXPOSED, EIGHTH)
    assert _lengths(plan) == {CENTRAL: 14, HOME_MONITORING: 7}
    assert _days(plan, CENTRAL) == [1, 4, 7, 14]
    assert _days(plan, HOME_MONITORING) == [2, 7]
    assert plan.phases[0].end == date(2021, 12, 15)
    assert plan.end == date(2021, 12, 22)


def test_8th_edition_releases_a_close_contact_on_two_samples_with_two_reagents() -> None:
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, EXPOSED, EIGHTH)
    (release,) = [test for test in plan.tests if test.release]
    assert (release.phase, release.day, release.on) == (CENTRAL, 14, date(2021, 12, 15))
    assert (release.samples, release.reagents) == (2, 2)
    assert all((test.samples, test.reagents) == (1, 1) for test in plan.tests if not test.release)


def test_home_tests_count_from_the_first_day_at_home() -> None:
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, EXPOSED, EIGHTH)
    home = [test.on for test in plan.tests if test.phase is HOME_MONITORING]
    assert home == [date(2021, 12, 17), date(2021, 12, 22)]


def test_9th_edition_close_contact_is_7_plus_3_with_tests_days_1_2_3_5_7() -> None:
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, date(2022, 7, 1), NINTH)
    assert _lengths(plan) == {CENTRAL: 7, HOME_MONITORING: 3}
    assert _days(plan, CENTRAL) == [1, 2, 3, 5, 7]
    assert _days(plan, HOME_MONITORING) == [3]
    (release,) = [test for test in plan.tests if test.release]
    assert (release.day, release.samples, release.reagents) == (7, 1, 1)  # no double sampling in 2022


def test_8th_edition_secondary_contact_is_7_days_central_with_tests_days_1_4_7() -> None:
    plan = quarantine_plan(ContactCategory.SECONDARY_CONTACT, EXPOSED, EIGHTH)
    assert _lengths(plan) == {CENTRAL: 7}
    assert _days(plan, CENTRAL) == [1, 4, 7]
    assert plan.release_condition is not None
    assert plan.release_condition.linked_close_contact_negative_tests == 2


def test_9th_edition_secondary_contact_is_7_days_home_isolation_with_tests_days_1_4_7() -> None:
    plan = quarantine_plan(ContactCategory.SECONDARY_CONTACT, EXPOSED, NINTH)
    assert _lengths(plan) == {HOME_ISOLATION: 7}
    assert _days(plan, HOME_ISOLATION) == [1, 4, 7]


def test_inbound_travellers_are_14_plus_7_in_2021_and_7_plus_3_in_2022() -> None:
    assert _lengths(quarantine_plan(ContactCategory.INBOUND, EXPOSED, EIGHTH)) == {CENTRAL: 14, HOME_MONITORING: 7}
    assert _lengths(quarantine_plan(ContactCategory.INBOUND, EXPOSED, NINTH)) == {CENTRAL: 7, HOME_MONITORING: 3}


def test_zhejiang_december_2021_inbound_variant_is_14_plus_7_plus_7() -> None:
    plan = quarantine_plan(ContactCategory.INBOUND, EXPOSED, EIGHTH, variant="zhejiang-2021-12")
    assert _lengths(plan) == {CENTRAL: 14, HOME_ISOLATION: 7, HOME_MONITORING: 7}
    assert _days(plan, CENTRAL) == [1, 4, 7, 10, 14]
    assert _days(plan, HOME_ISOLATION) == [2, 7]
    assert plan.variant == "zhejiang-2021-12"
    assert plan.isolation_end == date(2021, 12, 22)
    assert plan.end == date(2021, 12, 29)


def test_sealed_area_residents_isolate_14_days_at_home_then_monitor_7() -> None:
    plan = quarantine_plan(ContactCategory.SEALED_RESIDENT, EXPOSED, EIGHTH)
    assert _lengths(plan) == {HOME_ISOLATION: 14, HOME_MONITORING: 7}
    assert _days(plan, HOME_ISOLATION) == [1, 4, 7, 10, 14]


def test_a_category_without_a_plan_is_refused_clearly() -> None:
    with pytest.raises(FieldError, match="cn-9th-2022 has no quarantine plan for sealed_resident"):
        quarantine_plan(ContactCategory.SEALED_RESIDENT, EXPOSED, NINTH)


def test_an_unknown_variant_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(FieldError, match="available: zhejiang-2021-12"):
        quarantine_plan(ContactCategory.INBOUND, EXPOSED, EIGHTH, variant="shanghai")


def test_secondary_contact_is_released_once_the_close_contacts_first_two_tests_are_negative() -> None:
    negative, positive, pending = TestOutcome.NEGATIVE, TestOutcome.POSITIVE, TestOutcome.PENDING
    assert secondary_contact_release([negative, negative], EIGHTH) is ReleaseDecision.RELEASE
    assert secondary_contact_release([negative], EIGHTH) is ReleaseDecision.WAIT
    assert secondary_contact_release([negative, pending], EIGHTH) is ReleaseDecision.WAIT
    assert secondary_contact_release([negative, positive], EIGHTH) is ReleaseDecision.RECLASSIFY
    assert secondary_contact_release([], NINTH) is ReleaseDecision.RELEASE  # no such condition in 2022


def test_one_person_per_room_with_one_carer_for_minors_elderly_or_disabled() -> None:
    assert room_capacity(None, EIGHTH) == 1
    assert {room_capacity(reason, EIGHTH) for reason in CarerReason} == {2}


def test_sites_check_temperature_twice_a_day_and_hold_20_rooms_per_10000_people() -> None:
    assert EIGHTH.sites.temperature_checks_per_day == 2
    assert site_capacity_target_rooms(5_300_000, EIGHTH) == 10_600
    assert site_capacity_target_rooms(1, EIGHTH) == 1  # rounded up


# ------------------------------------------------------------------ properties over any plan


@st.composite
def schedules(draw: st.DrawFn) -> QuarantineRule:
    """Any valid schedule: phase lengths 0-30 days (not all 0), sorted unique test days inside each."""
    lengths = draw(st.lists(st.integers(0, 30), min_size=3, max_size=3).filter(any))
    data: dict[str, object] = {}
    for phase, length in zip(QuarantinePhase, lengths, strict=True):
        data[f"{phase}_days"] = length
        days = draw(st.sets(st.integers(1, length), max_size=length)) if length else set()
        data[f"{phase}_test_days"] = sorted(days)
    return QuarantineRule.model_validate(data)


def _with(schedule: QuarantineRule) -> ProtocolProfile:
    return EIGHTH.model_copy(update={"quarantine": {ContactCategory.CLOSE_CONTACT: schedule}})


exposures = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@settings(database=None, max_examples=200)
@given(schedule=schedules(), exposed=exposures)
def test_every_test_date_lies_within_its_phase(schedule: QuarantineRule, exposed: date) -> None:
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, exposed, _with(schedule))
    for test in plan.tests:
        phase = plan.phase(test.phase)
        assert phase is not None
        assert phase.start <= test.on <= phase.end
        assert test.on == phase.start + timedelta(days=test.day - 1)


@settings(database=None, max_examples=200)
@given(schedule=schedules(), exposed=exposures)
def test_phases_are_contiguous_ordered_and_start_the_day_after_exposure(
    schedule: QuarantineRule, exposed: date
) -> None:
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, exposed, _with(schedule))
    assert plan.phases[0].start == exposed + timedelta(days=1)
    order = list(QuarantinePhase)
    for before, after in zip(plan.phases, plan.phases[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
        assert order.index(before.phase) < order.index(after.phase)
    total = sum(schedule.phase_days(phase) for phase in QuarantinePhase)
    assert plan.end == exposed + timedelta(days=total)


@settings(database=None, max_examples=100)
@given(st.lists(st.integers(-3, 40), min_size=1, max_size=6), st.integers(1, 30))
def test_only_sorted_unique_days_inside_the_phase_are_accepted(days: list[int], length: int) -> None:
    valid = all(1 <= day <= length for day in days) and days == sorted(set(days))
    try:
        QuarantineRule(central_days=length, central_test_days=tuple(days))
    except ValueError:
        assert not valid
    else:
        assert valid


SHIPPED_PLANS = [
    (profile, category, variant)
    for profile in (EIGHTH, NINTH)
    for category, rule in profile.quarantine.items()
    for variant in (None, *rule.variants)
]


@settings(database=None, max_examples=50)
@given(shipped=st.sampled_from(SHIPPED_PLANS), exposed=exposures)
def test_every_shipped_plan_dates_its_tests_inside_contiguous_phases(
    shipped: tuple[ProtocolProfile, ContactCategory, str | None], exposed: date
) -> None:
    profile, category, variant = shipped
    plan = quarantine_plan(category, exposed, profile, variant)
    assert plan.phases[0].start == exposed + timedelta(days=1)
    for before, after in zip(plan.phases, plan.phases[1:], strict=False):
        assert after.start == before.end + timedelta(days=1)
    for test in plan.tests:
        phase = plan.phase(test.phase)
        assert phase is not None and phase.start <= test.on <= phase.end
    assert [test.on for test in plan.tests] == sorted({test.on for test in plan.tests})
    assert sum(test.release for test in plan.tests) <= 1
