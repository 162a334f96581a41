"""Shared pieces of the profile models: the strict base model and a value error that knows its field."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class ProfileModel(BaseModel):
    """A profile section: frozen, and refusing unknown keys so a typo is never silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ProfileValueError(ValueError):
    """A value refused by a cross-field check; `field` is the path below the model that raised it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_days_in_phase(field: str, days: Sequence[int], phase_days: int, phase: str) -> None:
    """Refuse test days that are unsorted, repeated or beyond the phase's length."""
    for index, day in enumerate(days):
        where = f"{field}[{index}]"
        if day > phase_days:
            raise ProfileValueError(where, f"day {day} lies beyond the {phase_days}-day {phase} phase")
        if index and day <= days[index - 1]:
            kind = "repeats" if day == days[index - 1] else "comes before"
            raise ProfileValueError(where, f"day {day} {kind} day {days[index - 1]}; list days once, in order")


def check_unique(field: str, items: Sequence[object]) -> None:
    """Refuse a list that names an item twice."""
    seen: set[object] = set()
    for index, item in enumerate(items):
        if item in seen:
            raise ProfileValueError(f"{field}[{index}]", f"{item} is listed twice")
        seen.add(item)
