"""Profile sections for isolation (快隔离): quarantine plans per category, home monitoring, sites."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, NonNegativeInt, PositiveInt, StringConstraints, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError, check_days_in_phase, check_unique
from bihuan.protocol.choices import CarerReason, ContactCategory, QuarantinePhase

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


class SiteRules(ProfileModel):
    """Central quarantine sites (集中隔离点): rooms, carers, checks and capacity."""

    people_per_room: PositiveInt = 1
    private_bathroom: bool = True
    carer_allowed_for: tuple[CarerReason, ...] = ()
    carers_per_room: NonNegativeInt = 1
    households_share_rooms: bool = False
    central_air_conditioning_allowed: bool = False
    temperature_checks_per_day: PositiveInt
    rooms_per_10000_population: PositiveInt
    reserve_list_required: bool = True

    @model_validator(mode="after")
    def _carers_once(self) -> Self:
        check_unique("carer_allowed_for", self.carer_allowed_for)
        return self
