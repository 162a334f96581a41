"""API shapes of health monitoring at sites (体温监测): temperature entry, alerts, a floor's sheet."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from bihuan.isolation._temperature import MAX_TEXT, TemperatureUnit
from bihuan.protocol import TransferCategory

MAX_READINGS = 5000  # one request: a whole site's round of checks (a 2,000-room site, twice over)
Symptom = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class AlertKind(StrEnum):
    """What a health alert is about: a fever, symptoms, or a temperature check not taken."""

    FEVER = "fever"
    SYMPTOMS = "symptoms"
    MISSING = "missing"


class TemperatureIn(BaseModel):
    """One person's temperature as typed, by their stay (or person) at the site.

    ``value`` is a number or text ("36.5", "36,5", "98.6F"); ``unit`` says °C or °F when the text does
    not. ``measured_at`` defaults to the time of the request: send it, so that a request sent again
    is recognised and not stored twice. A time without an offset is read in the deployment's zone.
    """

    stay_id: int | None = Field(None, ge=1)
    person_id: int | None = Field(None, ge=1)
    value: float | Annotated[str, StringConstraints(max_length=MAX_TEXT * 4)]
    unit: TemperatureUnit | None = None
    symptoms: list[Symptom] = Field(default_factory=list, max_length=12)
    measured_at: datetime | None = None

    @field_validator("unit", mode="before")
    @classmethod
    def _unit_as_written(cls, unit: object) -> object:
        """A unit as people write it: f, °F and ℉ are F; an empty one is none."""
        if isinstance(unit, str):
            return unicodedata.normalize("NFKC", unit).strip().lstrip("°").strip().upper() or None
        return unit

    @model_validator(mode="after")
    def _someone(self) -> TemperatureIn:
        if self.stay_id is None and self.person_id is None:
            raise ValueError("give stay_id or person_id")
        return self


class TemperaturesIn(BaseModel):
    readings: list[TemperatureIn] = Field(min_length=1, max_length=MAX_READINGS)


class ConversionPublic(BaseModel):
    """A reading converted, not taken as typed (°F to °C): the field and what was done."""

    index: int
    field: str
    message: str


class TemperaturesRecorded(BaseModel):
    stored: int
    unchanged: int  # sent before (same stay, same time): not stored twice
    alerts_raised: int
    conversions: list[ConversionPublic]


class ReadingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    measured_at: datetime
    celsius: float
    entered: str
    symptoms: list[str]
    fever: bool


class HealthAlertPublic(BaseModel):
    id: int
    stay_id: int
    person_id: int
    site_id: int
    room_id: int | None
    room_number: str | None
    kind: AlertKind
    detail: str
    raised_at: datetime
    resolved_at: datetime | None
    resolved_by: str


class HealthAlertsPublic(BaseModel):
    data: list[HealthAlertPublic]
    count: int


class MissingChecksPublic(BaseModel):
    """The day's alerts of checks not taken: ``raised`` now, ``data`` all of that day's."""

    day: date
    raised: int
    data: list[HealthAlertPublic]
    count: int


class AlertResolve(BaseModel):
    note: str = Field("", max_length=255)


class SheetPerson(BaseModel):
    stay_id: int
    person_id: int
    carer_for: int | None
    readings: list[ReadingPublic]
    open_alerts: list[AlertKind]


class SheetRoom(BaseModel):
    room_id: int
    number: str
    people: list[SheetPerson]


class FloorSheetPublic(BaseModel):
    """A floor's occupied rooms with each person's readings of a local day, for entering a round quickly."""

    floor_id: int
    building: str
    number: int
    category: TransferCategory
    day: date
    rooms: list[SheetRoom]
