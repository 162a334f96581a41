"""Schemas of release (解除隔离) and the home phase after it (居家健康监测)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from bihuan.isolation.choices import HomeTaskKind, HomeTaskStatus
from bihuan.protocol import QuarantinePhase


class ReleaseIn(BaseModel):
    stay_ids: list[int] = Field(min_length=1, max_length=5000)


class ReleaseCandidatePublic(BaseModel):
    """A person at a site and whether they may go today; `reasons` say why not yet."""

    stay_id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    room: str | None
    category: str
    central_end: date | None
    release_from: date | None
    ready: bool
    reasons: list[str] = Field(default_factory=list)


class ReleaseOutcomePublic(BaseModel):
    released: list[int] = Field(default_factory=list)  # stay ids
    refused: dict[int, str] = Field(default_factory=dict)  # stay id → the reasons, in one sentence
    already: list[int] = Field(default_factory=list)  # released before: asking again is harmless


class HomeTaskRecord(BaseModel):
    status: HomeTaskStatus
    note: str = Field("", max_length=255)


class HomeTaskPublic(BaseModel):
    id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    phone: str | None
    phase: QuarantinePhase
    phase_ends_on: date
    kind: HomeTaskKind
    due_on: date
    status: HomeTaskStatus
    done_at: datetime | None
    done_by: str
    note: str


class HomeTasksPublic(BaseModel):
    count: int
    missed_before_today: int
    data: list[HomeTaskPublic]
