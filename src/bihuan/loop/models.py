"""The loop's read model (闭环读模型): a projection of the event log, one standing per person in the loop.

Written only by ``loop.projection`` (rebuilt from the log at any time; the log stays the truth), so the
loop's lists, counts and the dashboard are SQL over a few indexed tables instead of every timeline
replayed on every read. Nothing here depends on "now": overdue is decided at read time from `due_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, BigId, JsonDoc, UTCDateTime


class LoopProjectionState(Base):
    """The projector's bookmark (one row): the last event read, the rules the rows were built with, and
    the latest time any projected event occurred (a window ending after it can be answered from the rows).

    `gaps`: event ids below the bookmark not yet seen, each with the transaction horizon after which
    it can no longer appear (PostgreSQL hands out ids before the writing transaction commits)."""

    __tablename__ = "loop_projection_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigId)
    latest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rules_key: Mapped[str] = mapped_column(String(64))
    gaps: Mapped[list[Any]] = mapped_column(JsonDoc, default=list)


class LoopStanding(Base):
    """Where one person's loop stands, as the engine computes it from all their events (a person with an
    entry event; `in_loop` false when the engine leaves them out, e.g. a contact of a category not moved).

    `jurisdiction_id` (the person's, copied here and on their delays and stages so that the scope cut
    needs no join) is replayed with any event of the person, a ``person_updated`` move included."""

    __tablename__ = "loop_standings"
    __table_args__ = (
        Index("ix_loop_standings_open_due", "in_loop", "closed", "due_at", "since", "person_id"),
        Index("ix_loop_standings_jurisdiction", "jurisdiction_id", "in_loop", "closed"),
    )

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))  # the person's, when replayed
    in_loop: Mapped[bool] = mapped_column(Boolean)
    is_case: Mapped[bool] = mapped_column(Boolean)
    closed: Mapped[bool] = mapped_column(Boolean)
    end: Mapped[str | None] = mapped_column(String(32))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stuck_at: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waiting_on: Mapped[str | None] = mapped_column(String(48))
    link: Mapped[str | None] = mapped_column(String(16))
    target_hours: Mapped[float | None] = mapped_column(Float)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    case_id: Mapped[int | None] = mapped_column(BigId, index=True)  # the person's case, when confirmed
    found_where: Mapped[str | None] = mapped_column(String(24))  # for a case: where it was found
    last_event_id: Mapped[int] = mapped_column(BigId)


class LoopDelay(Base):
    """One timed stage of a person in the loop: measured (`ended_at`, `hours`) or still running."""

    __tablename__ = "loop_delays"
    __table_args__ = (Index("ix_loop_delays_stage_ended", "stage", "ended_at", "jurisdiction_id", "hours"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    stage: Mapped[str] = mapped_column(String(48))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hours: Mapped[float | None] = mapped_column(Float)


class LoopReached(Base):
    """When a person in the loop first reached a stage."""

    __tablename__ = "loop_reached"
    __table_args__ = (Index("ix_loop_reached_stage_first", "stage", "first_at", "jurisdiction_id"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LoopCount(Base):
    """How many people first reached a stage (or entered, or closed, the loop) in one UTC hour, counted at
    every level of the jurisdiction tree above them (`jurisdiction_id` 0: everywhere), so a funnel over any
    subtree adds up a few thousand cells instead of a row per person and stage."""

    __tablename__ = "loop_counts"

    jurisdiction_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # an ancestor, or 0 for all
    key: Mapped[str] = mapped_column(String(32), primary_key=True)  # a stage, "entered" or "closed"
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    people: Mapped[int] = mapped_column(Integer)
