"""API shapes of fast transfer (快转运): vehicles, plans, batches and their people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bihuan.protocol import TransferCategory
from bihuan.transfer.choices import BatchStatus, MemberStatus, VehicleKind, VehicleStatus


class VehicleCreate(BaseModel):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    plate: str = Field("", max_length=20)
    kind: VehicleKind
    seats: int = Field(ge=1, le=120)
    categories: list[TransferCategory] | None = None  # None: what the profile lets this kind carry
    depot_text: str = Field("", max_length=255)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    team_phone: str = Field("", max_length=20)


class VehiclePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    plate: str
    kind: VehicleKind
    seats: int
    categories: list[TransferCategory] | None
    depot_text: str
    lat: float
    lon: float
    status: VehicleStatus
    status_reason: str
    team_phone: str


class VehiclesPublic(BaseModel):
    data: list[VehiclePublic]
    count: int


class VehicleFailure(BaseModel):
    """A vehicle broke down: where (its passengers are picked up there again), why, and whether to re-plan now."""

    reason: str = Field(min_length=1, max_length=255)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    replan: bool = True


class SiteFullIn(BaseModel):
    reason: str = Field("", max_length=255)
    replan: bool = True


class PlanRequest(BaseModel):
    """Plan the waiting queue: all of it, some categories, or named requests (each once)."""

    categories: list[TransferCategory] = Field(default_factory=list)
    request_ids: list[int] | None = Field(None, max_length=100_000)

    @field_validator("request_ids")
    @classmethod
    def _each_request_once(cls, ids: list[int] | None) -> list[int] | None:
        if ids is None:
            return ids
        seen: dict[int, int] = {}
        for index, request_id in enumerate(ids):
            if request_id in seen:
                raise ValueError(f"request {request_id} is listed twice (at {seen[request_id]} and {index})")
            seen[request_id] = index
        return ids


class UnplacedPublic(BaseModel):
    request_id: int
    person_id: int
    reason: str
    detail: str


class PlanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    actor_name: str
    trigger: str
    solver: str
    seconds: float
    people: int
    placed: int
    trips: int
    total_km: float
    makespan_minutes: float
    unplaced: list[UnplacedPublic]


class PlansPublic(BaseModel):
    data: list[PlanPublic]
    count: int


class StopPublic(BaseModel):
    lat: float
    lon: float
    text: str
    person_ids: list[int]


class RouteStop(BaseModel):
    """A pickup on a batch's route, for maps: where, and how many people are picked up there."""

    lat: float
    lon: float
    text: str
    people: int


class BatchPublic(BaseModel):
    id: int
    code: str
    plan_id: int
    vehicle_id: int
    vehicle_code: str
    sequence: int
    site_id: int
    site_name: str
    site_city: str
    category: TransferCategory
    status: BatchStatus
    km: float
    planned_start: datetime
    planned_end: datetime
    dispatched_at: datetime | None
    completed_at: datetime | None
    cancel_reason: str
    people: int
    by_status: dict[str, int]
    site_lat: float
    site_lon: float
    route: list[RouteStop]


class BatchesPublic(BaseModel):
    data: list[BatchPublic]
    count: int


class MemberPublic(BaseModel):
    person_id: int
    person_name: str
    resident_id_masked: str | None
    phone_masked: str | None
    stop_index: int
    status: MemberStatus
    picked_up_at: datetime | None
    arrived_at: datetime | None
    returned_at: datetime | None
    return_reason: str


class BatchDetail(BatchPublic):
    stops: list[StopPublic]
    members: list[MemberPublic]


class NotPickedUp(BaseModel):
    reason: str = Field(min_length=1, max_length=255)


class ArrivalIn(BaseModel):
    """Who arrived: everyone picked up when not named (then whoever was never picked up returns to the queue)."""

    person_ids: list[int] | None = None


class FailureOutcome(BaseModel):
    returned: int  # people handed back to the queue
    cancelled_batches: list[int]
    plan: PlanPublic | None
    details: dict[str, Any] = Field(default_factory=dict)
