"""Profile section for grouping and transfer (快编组、快转运): who rides where, distancing, planning numbers."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, PositiveFloat, PositiveInt, StringConstraints, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError, check_unique
from bihuan.protocol.choices import DestinationKind, TransferCategory

# A vehicle kind as the transfer teams register it (``ambulance``, ``coach``); the protocol does not list them.
VehicleKindName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class VulnerableRule(ProfileModel):
    """Who is placed first as vulnerable (老幼病残): by age, as the register knows it."""

    minor_below_age: PositiveInt
    elderly_from_age: PositiveInt

    def is_vulnerable(self, age: int) -> bool:
        return age < self.minor_below_age or age >= self.elderly_from_age


class TransferRules(ProfileModel):
    """Everything the queue and the planner read: destinations by category and the planning numbers."""

    destinations: dict[TransferCategory, DestinationKind]
    # Most serious first: when one person is queued in two categories, the one listed first wins.
    precedence: tuple[TransferCategory, ...]
    # What a vehicle carries when registered without its own list: by vehicle kind, else the default.
    vehicle_categories: dict[VehicleKindName, tuple[TransferCategory, ...]] = Field(default_factory=dict)
    default_vehicle_categories: tuple[TransferCategory, ...] = Field(min_length=1)
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

    @model_validator(mode="after")
    def _precedence_ranks_every_moved_category_once(self) -> Self:
        check_unique("precedence", self.precedence)
        for category in self.destinations:
            if category not in self.precedence:
                raise ProfileValueError("precedence", f"{category} is moved (see destinations) but not ranked here")
        return self

    @model_validator(mode="after")
    def _vehicles_carry_some_categories_each_once(self) -> Self:
        check_unique("default_vehicle_categories", self.default_vehicle_categories)
        for kind, categories in self.vehicle_categories.items():
            if not categories:
                raise ProfileValueError(f"vehicle_categories.{kind}", "a vehicle kind must carry some category")
            check_unique(f"vehicle_categories.{kind}", categories)
        return self

    def rank(self, category: TransferCategory) -> int:
        """The category's place in `precedence` (0 most serious); a category not listed ranks after all listed."""
        try:
            return self.precedence.index(category)
        except ValueError:
            return len(self.precedence)

    def vehicle_carries(self, kind: str) -> tuple[TransferCategory, ...]:
        """The categories a vehicle of `kind` carries unless registered with its own list."""
        return self.vehicle_categories.get(kind, self.default_vehicle_categories)

    def destination_of(self, category: TransferCategory) -> DestinationKind | None:
        """Where people of `category` are taken; None: they are not transferred (home or daily monitoring)."""
        return self.destinations.get(category)
