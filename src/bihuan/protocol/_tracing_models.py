"""Profile sections for tracing (快流调): contact definitions, vehicles, venues, companions, incubation, clusters."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError, check_unique
from bihuan.protocol.choices import ContactSetting, VehicleKind, VehicleScope, VenueKind


class CloseContactRule(ProfileModel):
    """Who is a close contact (密切接触者) and from when the exposure window opens."""

    look_back_days: PositiveInt  # days before symptom onset
    asymptomatic_look_back_days: PositiveInt  # days before the first positive sampling
    start_at_last_negative_test: bool = False  # serially screened people: start at the last negative test
    same_vehicle_within_metres: PositiveFloat = 1.0
    settings: tuple[ContactSetting, ...] = ()

    @model_validator(mode="after")
    def _settings_once(self) -> Self:
        check_unique("settings", self.settings)
        return self


class SecondaryContactRule(ProfileModel):
    """Who is a secondary contact (密接的密接): settings shared with a close contact before isolation."""

    settings: tuple[ContactSetting, ...] = ()

    @model_validator(mode="after")
    def _settings_once(self) -> Self:
        check_unique("settings", self.settings)
        return self


class GeneralContactRule(ProfileModel):
    """General contacts (一般接触者): a risk notice, some tests, self-monitoring."""

    tests: PositiveInt
    self_monitoring: bool = True


class CompanionRule(ProfileModel):
    """Spatiotemporal companions (时空伴随者): phone co-presence with a case in one grid cell."""

    grid_metres: PositiveInt
    min_minutes: PositiveInt  # co-presence must last strictly longer
    window_days: PositiveInt
    long_stay_hours: PositiveInt | None = None  # either phone stayed strictly longer in the cell; None: not required
    tests: PositiveInt
    test_interval_hours: PositiveInt


class VehicleRule(ProfileModel):
    """How far around a case on one kind of vehicle the close contacts reach."""

    scope: VehicleScope
    rows_either_side: NonNegativeInt | None = None
    include_crew: bool = False  # crew serving the case's rows
    sleeper_scope: VehicleScope | None = None  # in a sleeper, this narrower scope applies

    @model_validator(mode="after")
    def _rows_only_with_row_scope(self) -> Self:
        if self.scope is VehicleScope.ROWS and self.rows_either_side is None:
            raise ProfileValueError("rows_either_side", "required when scope is 'rows'")
        if self.scope is not VehicleScope.ROWS and self.rows_either_side is not None:
            raise ProfileValueError("rows_either_side", f"only meaningful when scope is 'rows', not {self.scope}")
        if self.sleeper_scope is not None and self.sleeper_scope is not VehicleScope.COMPARTMENT:
            raise ProfileValueError("sleeper_scope", "only 'compartment' narrows a sleeper")
        return self


class VenueRules(ProfileModel):
    """Minimum co-presence minutes with a case at a venue to count as close contact (?)."""

    default_minutes: PositiveInt
    minutes: dict[VenueKind, PositiveInt] = Field(default_factory=dict)


class IncubationRule(ProfileModel):
    """The incubation period (潜伏期): infection lies this many days before onset (or first positive sampling).

    ``typical_*`` is the range most cases fall in (多为), when the protocol states one.
    """

    min_days: NonNegativeInt
    max_days: PositiveInt
    typical_min_days: NonNegativeInt | None = None
    typical_max_days: PositiveInt | None = None

    @model_validator(mode="after")
    def _ranges_nest(self) -> Self:
        if self.min_days > self.max_days:
            raise ProfileValueError("min_days", f"{self.min_days} is more than max_days ({self.max_days})")
        if (self.typical_min_days is None) != (self.typical_max_days is None):
            raise ProfileValueError("typical_max_days", "give both typical_min_days and typical_max_days, or neither")
        if self.typical_min_days is not None and self.typical_max_days is not None:
            _check_typical(self.typical_min_days, self.typical_max_days, self)
        return self


def _check_typical(low: int, high: int, rule: IncubationRule) -> None:
    """Refuse a typical range that is reversed or reaches outside min_days..max_days."""
    if low > high:
        raise ProfileValueError("typical_min_days", f"{low} is more than typical_max_days ({high})")
    if low < rule.min_days:
        raise ProfileValueError("typical_min_days", f"{low} is less than min_days ({rule.min_days})")
    if high > rule.max_days:
        raise ProfileValueError("typical_max_days", f"{high} is more than max_days ({rule.max_days})")


class ClusterRule(ProfileModel):
    """A cluster (聚集性疫情): at least this many linked cases."""

    min_cases: Annotated[int, Field(ge=2)]


class TracingRules(ProfileModel):
    """Everything tracing reads from a profile."""

    close_contact: CloseContactRule
    secondary_contact: SecondaryContactRule
    general_contact: GeneralContactRule
    companion: CompanionRule
    vehicles: dict[VehicleKind, VehicleRule]
    venues: VenueRules
    incubation: IncubationRule
    cluster: ClusterRule

    @model_validator(mode="after")
    def _every_vehicle(self) -> Self:
        for kind in VehicleKind:
            if kind not in self.vehicles:
                raise ProfileValueError(f"vehicles.{kind}", "missing: every kind of vehicle needs a rule")
        return self
