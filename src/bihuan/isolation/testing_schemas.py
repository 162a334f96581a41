"""API shapes of tests at sites (隔离点核酸检测): the day's tests, the tubes a sampler takes, a stay's tests."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from bihuan.isolation.choices import SiteTestReason, SiteTestStatus


class SampleTubeIn(BaseModel):
    """One tube the sampler takes: its barcode, and the reagent (kit) it is to be tested with."""

    barcode: str = Field(min_length=1, max_length=40)
    reagent: str = Field("", max_length=64)


class SamplesIn(BaseModel):
    tubes: list[SampleTubeIn] = Field(min_length=1, max_length=10)


class SiteTestTubePublic(BaseModel):
    barcode: str
    reagent: str
    sampled_at: datetime
    sampled_by: str
    result: str | None  # negative, positive, invalid; None: awaited


class SiteTestPublic(BaseModel):
    id: int
    stay_id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    floor_id: int | None
    room: str | None  # "A-3-301": building, floor, room
    due_on: date
    overdue: bool  # due before the day asked about and still not taken
    reason: SiteTestReason
    phase: str
    day: int | None
    release: bool  # the test that releases the person (双采双检 where the profile says so)
    samples: int
    reagents: int
    status: SiteTestStatus
    result: str | None
    resulted_at: datetime | None
    tubes_needed: int  # tubes still to take (an invalid tube is taken again)
    tubes: list[SiteTestTubePublic]


class SiteTestsSummary(BaseModel):
    """The day's tests by state (overdue ones are those of earlier days still due)."""

    due: int = 0
    sampled: int = 0
    positive: int = 0
    negative: int = 0
    overdue: int = 0


class SiteTestsDue(BaseModel):
    day: date
    data: list[SiteTestPublic]
    count: int
    summary: SiteTestsSummary


class SiteTestsPublic(BaseModel):
    data: list[SiteTestPublic]
    count: int
