"""Pure tracing rules (快流调): exposure windows, vehicle and venue contact, companions, incubation, clusters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bihuan.core.errors import FieldError
from bihuan.protocol._profile import ProtocolProfile
from bihuan.protocol._tracing_models import CompanionRule
from bihuan.protocol.choices import VehicleKind, VehicleScope, VenueKind


@dataclass(frozen=True)
class CaseFacts:
    """What tracing knows about a case: onset (None: asymptomatic), first positive sampling, isolation."""

    onset_date: date | None
    first_positive_sampling_date: date
    last_negative_test_date: date | None = None
    isolated_at: datetime | None = None


@dataclass(frozen=True)
class ExposureWindow:
    """When contact could transmit: from the start of day `start` to `end` (None: still open)."""

    start: date
    end: datetime | None = None

    def contains(self, moment: date | datetime) -> bool:
        """Whether a contact at `moment` (a day, or a time) falls in the window."""
        day = moment.date() if isinstance(moment, datetime) else moment
        if day < self.start:
            return False
        if self.end is None:
            return True
        if isinstance(moment, datetime):
            return moment <= self.end
        return day <= self.end.date()


def close_contact_window(case: CaseFacts, profile: ProtocolProfile) -> ExposureWindow:
    """The close-contact window (密接判定): look-back days before onset, or before sampling if asymptomatic.

    With ``start_at_last_negative_test`` on, a serially screened case's window starts at their last
    negative test instead, when that is later. The window ends when the case is isolated.
    """
    rule = profile.tracing.close_contact
    if case.onset_date is not None:
        start = case.onset_date - timedelta(days=rule.look_back_days)
    else:
        start = case.first_positive_sampling_date - timedelta(days=rule.asymptomatic_look_back_days)
    last_negative = case.last_negative_test_date
    if rule.start_at_last_negative_test and last_negative is not None and last_negative > start:
        start = last_negative
    return ExposureWindow(start=start, end=case.isolated_at)


def secondary_contact_window(
    first_contact_with_case: date | datetime, close_contact_isolated_at: datetime | None
) -> ExposureWindow:
    """The secondary-contact window (次密接判定): from the close contact's first contact with the case
    until the close contact is isolated."""
    start = first_contact_with_case.date() if isinstance(first_contact_with_case, datetime) else first_contact_with_case
    if close_contact_isolated_at is not None and close_contact_isolated_at.date() < start:
        raise FieldError("close_contact_isolated_at", "is before the first contact with the case")
    return ExposureWindow(start=start, end=close_contact_isolated_at)


@dataclass(frozen=True)
class Seat:
    """Where a traveller sat: plane or bus row, train car and sleeper compartment, ship cabin, or crew."""

    row: int | None = None
    car: str | None = None
    compartment: str | None = None
    cabin: str | None = None
    crew: bool = False  # crew serving the case's part of the vehicle


def vehicle_close_contact(kind: VehicleKind, case: Seat, other: Seat, profile: ProtocolProfile) -> bool:
    """Whether a traveller is a close contact of a case on the same vehicle (同乘交通工具)."""
    rule = profile.tracing.vehicles[kind]
    if rule.scope is VehicleScope.ALL:
        return True
    if rule.scope is VehicleScope.ROWS:
        if other.crew:
            return rule.include_crew
        if case.row is None or other.row is None or rule.rows_either_side is None:
            return False
        return abs(case.row - other.row) <= rule.rows_either_side
    if rule.scope is VehicleScope.CABIN:
        return case.cabin is not None and case.cabin == other.cabin
    same_car = case.car is not None and case.car == other.car
    if rule.sleeper_scope is VehicleScope.COMPARTMENT and case.compartment is not None:
        return same_car and case.compartment == other.compartment
    if rule.scope is VehicleScope.COMPARTMENT:
        return same_car and case.compartment is not None and case.compartment == other.compartment
    return same_car


def venue_co_presence_minutes(kind: VenueKind, profile: ProtocolProfile) -> int:
    """Minutes of co-presence with a case at a venue of this kind that make a close contact (?)."""
    venues = profile.tracing.venues
    return venues.minutes.get(kind, venues.default_minutes)


def companion_rule(profile: ProtocolProfile) -> CompanionRule:
    """The spatiotemporal-companion rule (时空伴随者): grid, minutes, window, long stay, tests."""
    return profile.tracing.companion


def is_companion(
    co_presence_minutes: float, days_ago: int, longest_stay_hours: float | None, profile: ProtocolProfile
) -> bool:
    """Whether a phone is a spatiotemporal companion of a case's phone in one grid cell.

    Co-presence must last strictly longer than the minimum, `days_ago` days back (0: today) within the
    window, and, when the profile asks for it, either phone stayed longer than the long-stay hours.
    """
    rule = profile.tracing.companion
    if co_presence_minutes <= rule.min_minutes or not 0 <= days_ago < rule.window_days:
        return False
    if rule.long_stay_hours is None:
        return True
    return longest_stay_hours is not None and longest_stay_hours > rule.long_stay_hours


def incubation_window(onset_or_sampling: date, profile: ProtocolProfile, *, typical: bool = False) -> tuple[date, date]:
    """The days (first, last, both included) in which a case was likely infected (潜伏期倒推).

    Counts back the profile's incubation from symptom onset, or from the first positive sampling of an
    asymptomatic case; ``typical`` narrows it to the range most cases fall in, when the profile has one.
    """
    rule = profile.tracing.incubation
    shortest, longest = rule.min_days, rule.max_days
    if typical and rule.typical_min_days is not None and rule.typical_max_days is not None:
        shortest, longest = rule.typical_min_days, rule.typical_max_days
    return onset_or_sampling - timedelta(days=longest), onset_or_sampling - timedelta(days=shortest)


def is_cluster(size: int, profile: ProtocolProfile) -> bool:
    """Whether this many linked cases make a cluster (聚集性疫情)."""
    return size >= profile.tracing.cluster.min_cases
