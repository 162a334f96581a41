"""API shapes of the transfer queue (快编组)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bihuan.grouping.choices import QueueSource, RequestStatus
from bihuan.protocol import DestinationKind, TransferCategory


class QueueItemIn(BaseModel):
    person_id: int = Field(ge=1)
    category: TransferCategory


class QueueRequestIn(BaseModel):
    """People to queue by hand: each person once; people already queued are left as they are."""

    items: list[QueueItemIn] = Field(min_length=1, max_length=20_000)


class QueueOutcome(BaseModel):
    queued: list[int]  # request ids created
    upgraded: list[int]  # requests whose category became more serious (e.g. a contact now a case)
    already_queued: list[int]  # person ids with an open request of that category or a more serious one
    not_transferred: list[int]  # person ids whose category the profile does not move


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=255)


class RequestPublic(BaseModel):
    id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    jurisdiction_name: str
    household_id: int | None
    category: TransferCategory
    destination: DestinationKind
    status: RequestStatus
    source: QueueSource
    vulnerable: bool
    pickup_lat: float | None
    pickup_lon: float | None
    pickup_text: str
    queued_at: datetime
    waited_minutes: float
    batch_id: int | None
    returns: int
    last_reason: str


class RequestsPublic(BaseModel):
    data: list[RequestPublic]
    count: int


class QueueCount(BaseModel):
    category: TransferCategory
    status: RequestStatus
    people: int
    oldest_queued_at: datetime | None


class QueueSummary(BaseModel):
    counts: list[QueueCount]
    waiting: int  # people queued and not yet on a batch
    in_transit: int  # planned, dispatched or picked up
