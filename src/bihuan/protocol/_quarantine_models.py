"""Profile sections for isolation (快隔离): quarantine plans per category, home monitoring, sites."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Annotated, Self

from pydantic import Field, NonNegativeInt, PositiveInt, StringConstraints, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError, check_days_in_phase, check_unique
from bihuan.protocol.choices import CarerReason, ContactCategory, NeighbourRule, QuarantinePhase

TestDay = PositiveInt
VariantName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class ReleaseTest(ProfileModel):
    """The test that releases a person: the last test of `phase`, with its samples and reagents."""

    phase: QuarantinePhase
    samples: PositiveInt = 1
    reagents: PositiveInt = 1


class SecondaryReleaseCondition(ProfileModel):
    """A secondary contact is released only when the linked close contact's first tests are negative."""

    linked_close_contact_negative_tests: PositiveInt
    otherwise: ContactCategory = ContactCategory.CLOSE_CONTACT


class QuarantineSchedule(ProfileModel):
    """Durations (days from last exposure) and test days of each phase; test days count within the phase."""

    central_days: NonNegativeInt = 0
    home_isolation_days: NonNegativeInt = 0
    home_monitoring_days: NonNegativeInt = 0
    central_test_days: tuple[TestDay, ...] = ()
    home_isolation_test_days: tuple[TestDay, ...] = ()
    home_monitoring_test_days: tuple[TestDay, ...] = ()
    release_test: ReleaseTest | None = None
    release_condition: SecondaryReleaseCondition | None = None

    def phase_days(self, phase: QuarantinePhase) -> int:
        """How many days `phase` lasts (0: the plan has no such phase)."""
        days: int = getattr(self, f"{phase}_days")
        return days

    def test_days(self, phase: QuarantinePhase) -> tuple[int, ...]:
        """The test days of `phase`, counted from its first day (day 1)."""
        days: tuple[int, ...] = getattr(self, f"{phase}_test_days")
        return days

    @model_validator(mode="after")
    def _tests_within_phases(self) -> Self:
        if not any(self.phase_days(phase) for phase in QuarantinePhase):
            raise ProfileValueError("central_days", "a plan needs at least one day in some phase")
        for phase in QuarantinePhase:
            check_days_in_phase(f"{phase}_test_days", self.test_days(phase), self.phase_days(phase), phase)
        if self.release_test is not None and not self.test_days(self.release_test.phase):
            raise ProfileValueError("release_test.phase", f"the {self.release_test.phase} phase has no test days")
        return self


class QuarantineRule(QuarantineSchedule):
    """A category's plan, with named variants (e.g. a province's longer plan) as options."""

    variants: dict[VariantName, QuarantineSchedule] = Field(default_factory=dict)


class HomeMonitoringRules(ProfileModel):
    """Home health monitoring (居家健康监测)."""

    temperature_checks_per_day: PositiveInt
    may_join_gatherings: bool = False


ShiftName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=16)]
Hour = Annotated[int, Field(ge=0, le=23)]


class SiteShift(ProfileModel):
    """A shift of a site's staff (班次), in local hours: `ends` at or before `starts` runs past midnight.

    A shift whose `ends` equals its `starts` lasts the whole day (only as the site's one shift).
    """

    name: ShiftName
    starts: Hour
    ends: Hour

    @property
    def hours(self) -> tuple[int, ...]:
        """The local hours the shift covers (20→8: 20, 21, …, 7)."""
        length = (self.ends - self.starts) % 24 or 24
        return tuple((self.starts + step) % 24 for step in range(length))

    def window(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """When the shift of local `day` starts and ends (a night shift ends on the next day)."""
        start = datetime.combine(day, time(self.starts), zone)
        return start, start + timedelta(hours=len(self.hours))


class CrossInfectionRules(ProfileModel):
    """What a positive inside a site sets off: neighbours flagged, extra tests, clocks reset."""

    flag: tuple[NeighbourRule, ...] = (NeighbourRule.SAME_ROOM, NeighbourRule.ADJACENT_ROOM, NeighbourRule.SAME_FLOOR)
    adjacent_rooms: NonNegativeInt = 1  # doors either side on the corridor
    floors_above_below: NonNegativeInt = 1  # the room in the same position this many floors up and down
    extra_test_days: tuple[NonNegativeInt, ...] = (0, 2)  # days after the investigation opens (0: that day)
    reset_clock_for: tuple[NeighbourRule, ...] = (NeighbourRule.SAME_ROOM, NeighbourRule.ADJACENT_ROOM)
    # The plan a restarted clock follows (None: each neighbour's own category's); the profile checks it
    # has a quarantine rule.
    reset_plan_as: ContactCategory | None = ContactCategory.CLOSE_CONTACT


class SiteRules(ProfileModel):
    """Central quarantine sites (集中隔离点): rooms, carers, checks and capacity."""

    people_per_room: PositiveInt = 1
    private_bathroom: bool = True
    carer_allowed_for: tuple[CarerReason, ...] = ()
    carers_per_room: NonNegativeInt = 1
    households_share_rooms: bool = False
    central_air_conditioning_allowed: bool = False
    three_zones_two_channels_required: bool = True  # 三区两通道: clean, buffer and contaminated zones
    temperature_checks_per_day: PositiveInt
    fever_from_celsius: float = Field(gt=35, lt=40)  # 发热: at or above this temperature
    body_temperature_celsius: tuple[float, float]  # a reading outside this range is a typing or unit error
    rooms_per_10000_population: PositiveInt
    reserve_list_required: bool = True
    # Checklists (表格化清单): checks are done per shift; a check not done this long after its
    # shift ends is overdue and raises an alert.
    shifts: tuple[SiteShift, ...] = (
        SiteShift(name="day", starts=8, ends=20),
        SiteShift(name="night", starts=20, ends=8),
    )
    checklist_overdue_after_minutes: NonNegativeInt = 60
    # Release (解除隔离): from the central phase's last day once its release tests are negative, or
    # only from the day after it.
    release_on_last_day: bool = True
    cross_infection: CrossInfectionRules = CrossInfectionRules()

    def shift(self, name: str) -> SiteShift | None:
        """The shift called `name` (None: the profile has no such shift)."""
        return next((shift for shift in self.shifts if shift.name == name), None)

    @model_validator(mode="after")
    def _shifts_cover_the_day_once(self) -> Self:
        shifts = self.shifts
        if not shifts:
            raise ProfileValueError("shifts", "a site needs at least one shift")
        check_unique("shifts", [shift.name for shift in shifts])
        owner: dict[int, int] = {}
        for index, shift in enumerate(shifts):
            for hour in shift.hours:
                if hour in owner:
                    other = shifts[owner[hour]].name
                    raise ProfileValueError(f"shifts[{index}]", f"{shift.name} overlaps {other} at {hour:02d}:00")
                owner[hour] = index
        missing = [hour for hour in range(24) if hour not in owner]
        if missing:
            hours = ", ".join(f"{hour:02d}:00" for hour in missing)
            raise ProfileValueError("shifts", f"the shifts must cover the whole day; no shift covers {hours}")
        return self

    @model_validator(mode="after")
    def _carers_once(self) -> Self:
        check_unique("carer_allowed_for", self.carer_allowed_for)
        return self

    @model_validator(mode="after")
    def _fever_within_the_body_range(self) -> Self:
        low, high = self.body_temperature_celsius
        if not low < self.fever_from_celsius < high:
            raise ProfileValueError("fever_from_celsius", f"must lie inside body_temperature_celsius {low}–{high}")
        return self
