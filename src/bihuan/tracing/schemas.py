"""API shapes of fast tracing (快流调): investigations, trajectory visits, traced contacts, engine runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bihuan.protocol import ContactCategory
from bihuan.tracing.choices import InvestigationStatus, LinkBasis, VisitSource


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class InvestigationUpdate(BaseModel):
    """What an investigator records about a case; fields left out stay as they are."""

    onset_date: date | None = Field(default=None, description="symptom onset; empty for an asymptomatic case")
    symptoms: list[str] | None = Field(default=None, max_length=40)
    travel_history: str | None = Field(default=None, max_length=4000)
    lineage: str | None = Field(default=None, max_length=32, description="variant, e.g. B.1.617.2 or BA.2")
    isolated_at: datetime | None = Field(default=None, description="when the case was isolated (ends the window)")
    notes: str | None = Field(default=None, max_length=8000)


class InvestigationPublic(_Public):
    id: int
    case_id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    jurisdiction_id: int
    jurisdiction_name: str
    household_code: str | None
    classification: str
    confirmed_at: datetime
    status: InvestigationStatus
    opened_at: datetime
    closed_at: datetime | None
    onset_date: date | None
    first_positive_sampling_date: date
    symptoms: list[str]
    travel_history: str
    lineage: str
    isolated_at: datetime | None
    notes: str
    last_traced_at: datetime | None
    window_start: datetime = Field(description="the close-contact window opens (profile's look-back)")
    window_end: datetime | None = Field(description="the window closes at isolation; empty while open")
    contacts: dict[str, int] = Field(default_factory=dict, description="traced contacts by category")


class InvestigationsPublic(BaseModel):
    data: list[InvestigationPublic]
    count: int


class VisitCreate(BaseModel):
    """One stay on the trajectory: a registered venue or a free-text place, from start to end."""

    venue_id: int | None = None
    place_text: str = Field(default="", max_length=255)
    starts_at: datetime
    ends_at: datetime
    source: VisitSource = VisitSource.SELF_REPORT
    note: str = Field(default="", max_length=500)


class VisitPublic(_Public):
    id: int
    investigation_id: int
    venue_id: int | None
    venue_name: str | None
    venue_kind: str | None
    place_text: str
    starts_at: datetime
    ends_at: datetime
    source: VisitSource
    note: str


class TimelinePublic(BaseModel):
    """The investigation's timeline: key moments of the case and every visit, in time order."""

    investigation: InvestigationPublic
    visits: list[VisitPublic]
    moments: list[dict[str, Any]]


class ContactPublic(_Public):
    id: int
    case_id: int
    case_person_name: str
    person_id: int
    person_name: str
    resident_id_masked: str | None
    jurisdiction_name: str
    category: ContactCategory
    reasons: list[str]
    first_exposure: datetime
    last_exposure: datetime
    minutes: float
    identified_at: datetime
    plan: dict[str, Any]


class ContactsPublic(BaseModel):
    data: list[ContactPublic]
    count: int


class TracingRunPublic(_Public):
    id: int
    investigation_id: int
    backend: str
    started_at: datetime
    seconds: float
    found: dict[str, int]
    new_contacts: int
    changed_contacts: int
    bad_rows: dict[str, int]


class LinkCreate(BaseModel):
    """An investigator's judgement: this case was infected by that one."""

    infector_case_id: int
    reason: str = Field(default="", max_length=255)


class LinkPublic(_Public):
    id: int
    infector_case_id: int
    infectee_case_id: int
    basis: LinkBasis
    reason: str
    linked_at: datetime
