"""API shapes of cross-infection investigations (交叉感染调查): the investigation, its neighbours, closing it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from bihuan.isolation.choices import CrossInfectionStatus, SiteTestStatus
from bihuan.protocol import NeighbourRule, TransferCategory


class ExtraTestPublic(BaseModel):
    """One of a neighbour's extra tests (reason ``cross_infection``) and where it stands."""

    id: int
    due_on: date
    status: SiteTestStatus
    result: str | None


class NeighbourPublic(BaseModel):
    stay_id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    category: TransferCategory
    room: str | None  # "A-3-301": building, floor, room (None at a site counted without rooms)
    relation: NeighbourRule
    clock_reset: bool
    previous_last_exposure: date | None
    last_exposure: date | None
    central_end: date | None  # the last day of central quarantine by the (possibly restarted) plan
    tests: list[ExtraTestPublic]


class CrossInfectionPublic(BaseModel):
    """An investigation; the case's name only for users whose jurisdiction holds the case's stay."""

    id: int
    site_id: int
    site_name: str
    case_id: int | None
    case_person_id: int | None
    case_name: str | None
    room: str | None
    exposure_on: date  # the case's first positive sampling day: the neighbours' clocks restart from it
    status: CrossInfectionStatus
    opened_at: datetime
    closed_at: datetime | None
    note: str
    counts: dict[str, int]  # neighbours you may see, by relation


class CrossInfectionsPublic(BaseModel):
    data: list[CrossInfectionPublic]
    count: int


class CrossInfectionDetail(CrossInfectionPublic):
    neighbours: list[NeighbourPublic]


class CrossInfectionClose(BaseModel):
    note: str = Field("", max_length=500)
