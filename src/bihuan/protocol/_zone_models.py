"""Profile sections for zones (分区分级): step order and the criteria of each step down, and health codes."""

from __future__ import annotations

from typing import Self

from pydantic import NonNegativeInt, PositiveInt, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError, check_unique
from bihuan.protocol.choices import HealthState, ZoneLevel


class ZoneStepRule(ProfileModel):
    """What must hold for a zone to step down from one level to the next (逐级解封)."""

    from_level: ZoneLevel
    to_level: ZoneLevel
    days_without_new_infection: NonNegativeInt = 0
    days_without_new_infection_if_stepped_down: PositiveInt | None = None  # counted at this level
    last_close_contact_days_past_exposure: PositiveInt | None = None  # strictly more than
    last_close_contact_negative: bool = False
    negative_round_within_days: NonNegativeInt | None = None  # an all-negative round this recent
    negative_round_on_day: PositiveInt | None = None  # an all-negative round on or after this day
    requires_county_areas_lifted: bool = False  # every sealed/controlled area of the county lifted


class ZoneRules(ProfileModel):
    """The step order, highest level first, and one rule for each step down."""

    step_order: tuple[ZoneLevel, ...]
    steps: tuple[ZoneStepRule, ...]

    @model_validator(mode="after")
    def _one_rule_per_step(self) -> Self:
        check_unique("step_order", self.step_order)
        if len(self.step_order) < 2:
            raise ProfileValueError("step_order", "needs at least two levels")
        pairs = list(zip(self.step_order, self.step_order[1:], strict=False))
        if len(self.steps) != len(pairs):
            raise ProfileValueError("steps", f"needs {len(pairs)} rules, one per step down, not {len(self.steps)}")
        for index, (step, (high, low)) in enumerate(zip(self.steps, pairs, strict=True)):
            if step.from_level is not high:
                raise ProfileValueError(f"steps[{index}].from_level", f"expected {high}, following step_order")
            if step.to_level is not low:
                raise ProfileValueError(f"steps[{index}].to_level", f"expected {low}, following step_order")
        return self


class CodeRules(ProfileModel):
    """Health-code colours (亮码): states that make a code red or yellow; green otherwise."""

    red: tuple[HealthState, ...]
    yellow: tuple[HealthState, ...]

    @model_validator(mode="after")
    def _red_and_yellow_apart(self) -> Self:
        check_unique("red", self.red)
        check_unique("yellow", self.yellow)
        for index, state in enumerate(self.yellow):
            if state in self.red:
                raise ProfileValueError(f"yellow[{index}]", f"{state} is already red")
        return self
