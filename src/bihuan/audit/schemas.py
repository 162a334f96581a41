"""API shapes of the audit view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    recorded_at: datetime
    kind: str
    person_id: int | None
    jurisdiction_id: int | None
    subject_type: str | None
    subject_id: int | None
    refs: dict[str, Any]
    actor_id: int | None
    actor_name: str
    payload: dict[str, Any]


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int
