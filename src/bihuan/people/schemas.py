"""API shapes of the register: one family per entity (Create, Update, Public, ...sPublic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bihuan.people.choices import JurisdictionLevel, VenueKind

MAX_PAGE_SIZE = 200


class Page(BaseModel):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class JurisdictionCreate(BaseModel):
    code: str = Field(min_length=2, max_length=24, pattern=r"^[0-9A-Za-z]+$")
    name: str = Field(min_length=1, max_length=128)
    name_en: str = Field("", max_length=128)
    level: JurisdictionLevel
    parent_id: int | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class JurisdictionPublic(_Public):
    id: int
    code: str
    name: str
    name_en: str
    level: JurisdictionLevel
    parent_id: int | None
    path: str
    lat: float | None
    lon: float | None


class JurisdictionsPublic(BaseModel):
    data: list[JurisdictionPublic]
    count: int


class AddressCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    jurisdiction_id: int
    text: str = Field(min_length=1, max_length=255)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class AddressPublic(_Public):
    id: int
    code: str
    jurisdiction_id: int
    text: str
    lat: float | None
    lon: float | None


class HouseholdCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    jurisdiction_id: int
    address_id: int | None = None


class HouseholdPublic(_Public):
    id: int
    code: str
    jurisdiction_id: int
    address_id: int | None


class HouseholdsPublic(BaseModel):
    data: list[HouseholdPublic]
    count: int


class PersonCreate(BaseModel):
    """Identity fields are checked by the register's own rules (GB 11643, phone) with the field named."""

    resident_id: str | None = None
    passport_no: str | None = None
    nationality: str = "CHN"
    name: str
    sex: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    jurisdiction_id: int
    household_id: int | None = None
    address_id: int | None = None


class PersonUpdate(BaseModel):
    name: str | None = None
    phone: str | None = None
    jurisdiction_id: int | None = None
    household_id: int | None = None
    address_id: int | None = None


class PersonPublic(BaseModel):
    """A person as lists and pages show them: identity numbers masked."""

    id: int
    name: str
    sex: str
    birth_date: date
    nationality: str
    resident_id_masked: str | None
    passport_masked: str | None
    phone_masked: str | None
    jurisdiction_id: int
    jurisdiction_name: str
    household_id: int | None
    address_id: int | None
    address_text: str | None
    updated_at: datetime


class PersonsPublic(BaseModel):
    data: list[PersonPublic]
    count: int
    page: int
    page_size: int


class RevealRequest(BaseModel):
    reason: str = Field(min_length=4, max_length=500, description="Why the full number is needed; it is logged.")


class PersonIdentityRevealed(BaseModel):
    id: int
    resident_id: str | None
    passport_no: str | None
    phone: str | None


class VenueCreate(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=128)
    kind: VenueKind
    jurisdiction_id: int
    address_text: str = Field("", max_length=255)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    capacity: int | None = Field(None, ge=0)


class VenueUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=128)
    kind: VenueKind | None = None
    address_text: str | None = Field(None, max_length=255)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    capacity: int | None = Field(None, ge=0)


class VenuePublic(_Public):
    id: int
    code: str
    name: str
    kind: VenueKind
    jurisdiction_id: int
    address_text: str
    lat: float | None
    lon: float | None
    capacity: int | None


class VenuesPublic(BaseModel):
    data: list[VenuePublic]
    count: int


class ImportRowError(BaseModel):
    row: int
    field: str
    reason: str


class ImportReportPublic(_Public):
    id: int
    kind: str
    filename: str
    sha256: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_total: int
    rows_created: int
    rows_updated: int
    rows_unchanged: int
    rows_rejected: int
    errors: list[dict[str, Any]]
