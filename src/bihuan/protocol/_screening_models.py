"""Profile sections for mass testing (快检测): pool sizes, round deadlines, cadence, key populations."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, PositiveInt, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError, check_unique
from bihuan.protocol.choices import AreaKind, KeyPopulation

SINGLE_TUBE = 1


class RoundRules(ProfileModel):
    """How fast a whole-population round must finish, and how many rounds an outbreak starts with."""

    large_city_population: PositiveInt  # at or above this, a city gets the longer deadline
    deadline_hours: PositiveInt
    large_city_deadline_hours: PositiveInt
    delineated_area_deadline_hours: PositiveInt | None = None
    min_early_rounds: PositiveInt
    clean_rounds: PositiveInt  # consecutive all-negative rounds that make a unit "clean" (连续三轮阴性)


class CadenceRules(ProfileModel):
    """Days between testing rounds in a street, by how recently cases were found."""

    recent_rounds: PositiveInt  # cases in this many last rounds: the recent interval
    recent_interval_days: PositiveInt
    case_window_days: PositiveInt  # a case within this many days: the window interval
    window_interval_days: PositiveInt
    quiet_interval_days: PositiveInt

    @model_validator(mode="after")
    def _slower_when_quieter(self) -> Self:
        if self.window_interval_days < self.recent_interval_days:
            raise ProfileValueError("window_interval_days", "must not be shorter than recent_interval_days")
        if self.quiet_interval_days < self.window_interval_days:
            raise ProfileValueError("quiet_interval_days", "must not be shorter than window_interval_days")
        return self


class ScreeningRules(ProfileModel):
    """Everything mass testing reads from a profile."""

    allowed_pool_sizes: tuple[Annotated[int, Field(ge=2)], ...]  # N-in-1 sizes; single tube is always allowed
    pool_size: dict[AreaKind, PositiveInt]
    household_pooling: tuple[AreaKind, ...] = ()  # area kinds pooled one tube per household instead
    rounds: RoundRules
    cadence: CadenceRules
    key_populations: dict[KeyPopulation, PositiveInt] = Field(default_factory=dict)  # days between tests

    @model_validator(mode="after")
    def _pool_sizes_allowed(self) -> Self:
        check_unique("allowed_pool_sizes", self.allowed_pool_sizes)
        check_unique("household_pooling", self.household_pooling)
        allowed = (SINGLE_TUBE, *sorted(self.allowed_pool_sizes))
        for kind in AreaKind:
            size = self.pool_size.get(kind)
            if size is None:
                raise ProfileValueError(f"pool_size.{kind}", "missing: every area kind needs a pool size")
            if size not in allowed:
                sizes = ", ".join(map(str, allowed))
                raise ProfileValueError(f"pool_size.{kind}", f"{size} is not an allowed pool size ({sizes})")
        return self
