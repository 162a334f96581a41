"""API shapes of a person's recorded ends of the loop (闭环终点): hospitalised, died, moved out of the jurisdiction."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from bihuan.core.choices import EventKind


class OutcomeKind(StrEnum):
    """An end of a person's loop recorded by hand (released is recorded by the site that releases)."""

    HOSPITALISED = "hospitalised"  # 转入医院
    DIED = "died"  # 死亡 (final: nothing is recorded after it)
    MOVED_OUT = "moved_out"  # 迁出辖区

    @property
    def event_kind(self) -> EventKind:
        return EventKind(self.value)


class OutcomeIn(BaseModel):
    """An outcome as reported: when it happened, a note; where to (moved out), which hospital (optional)."""

    outcome: OutcomeKind
    occurred_at: datetime
    note: str = Field("", max_length=500)
    destination: str = Field("", max_length=255)  # moved_out: required, where the person went
    hospital_site_id: int | None = Field(None, ge=1)  # hospitalised: the designated hospital, when known


class OutcomePublic(BaseModel):
    """A recorded outcome (its event) and what it ended in the other links when it was recorded."""

    id: int  # the event's id
    person_id: int
    outcome: OutcomeKind
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    note: str
    destination: str
    hospital_site_id: int | None
    ended_stay_id: int | None  # the isolation stay it ended (its room freed)
    cancelled_transfer_request_id: int | None  # the queue entry it cancelled
    on_batch_id: int | None  # still on a transfer batch: for the transfer team to take off (not done here)
    stopped_home_monitoring_ids: list[int]  # home phases stopped, their open tasks cancelled


class OutcomesPublic(BaseModel):
    data: list[OutcomePublic]
    count: int
