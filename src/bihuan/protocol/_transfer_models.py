"""Profile section for grouping and transfer (快编组、快转运): who rides where, distancing, planning numbers."""

from __future__ import annotations

from typing import Self

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError
from bihuan.protocol.choices import DestinationKind, TransferCategory


class VulnerableRule(ProfileModel):
    """Who is placed first as vulnerable (老幼病残): by age, as the register knows it."""

    minor_below_age: PositiveInt
    elderly_from_age: PositiveInt

    def is_vulnerable(self, age: int) -> bool:
        return age < self.minor_below_age or age >= self.elderly_from_age


class TransferRules(ProfileModel):
    """Everything the queue and the planner read: destinations by category and the planning numbers."""

    destinations: dict[TransferCategory, DestinationKind]
    seat_fraction: float = Field(gt=0, le=1)  # distancing: passengers ≤ seats × fraction
    pickup_spread_km: PositiveFloat  # pickups grouped into one vehicle lie within this distance
    max_reach_km: PositiveFloat  # no site farther than this by road (cross-city placement limit)
    road_factor: float = Field(ge=1)  # road km per straight-line km
    speed_kmh: PositiveFloat
    stop_minutes: float = Field(ge=0)  # dwell at each pickup
    long_wait_hours: PositiveFloat  # waiting longer puts a person first
    horizon_hours: PositiveFloat  # a plan's trips must end within this many hours
    vulnerable: VulnerableRule

    @model_validator(mode="after")
    def _confirmed_cases_go_to_hospital(self) -> Self:
        destination = self.destinations.get(TransferCategory.CONFIRMED)
        if destination is not None and destination != DestinationKind.DESIGNATED_HOSPITAL:
            raise ProfileValueError("destinations.confirmed", "confirmed cases go to a designated hospital")
        return self

    def destination_of(self, category: TransferCategory) -> DestinationKind | None:
        """Where people of `category` are taken; None: they are not transferred (home or daily monitoring)."""
        return self.destinations.get(category)
