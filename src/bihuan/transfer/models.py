"""Tables of fast transfer (快转运): vehicles, planning runs, batches (one vehicle trip each) and their people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, JsonDoc, UTCDateTime


class Vehicle(Base):
    """A vehicle of a transfer team, where it waits, and which categories it may carry (None: any)."""

    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    plate: Mapped[str] = mapped_column(String(20), default="")
    kind: Mapped[str] = mapped_column(String(16))
    seats: Mapped[int] = mapped_column(Integer)
    categories: Mapped[list[str] | None] = mapped_column(JsonDoc)
    depot_text: Mapped[str] = mapped_column(String(255), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str] = mapped_column(String(255), default="")
    team_phone: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TransferPlanRun(Base):
    """One planning run: what it placed, whom it could not (with reasons), and its cost against greedy."""

    __tablename__ = "transfer_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_name: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(64), default="")  # by hand, vehicle failure, site full
    solver: Mapped[str] = mapped_column(String(64))
    seconds: Mapped[float] = mapped_column(Float)
    people: Mapped[int] = mapped_column(Integer)  # asked to place
    placed: Mapped[int] = mapped_column(Integer)
    trips: Mapped[int] = mapped_column(Integer)
    total_km: Mapped[float] = mapped_column(Float)
    makespan_minutes: Mapped[float] = mapped_column(Float)
    unplaced: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)  # {request, person, reason, detail}


class Batch(Base):
    """A batch (转运批次): one vehicle's trip, one category, its pickups in driving order and one site."""

    __tablename__ = "transfer_batches"
    __table_args__ = (Index("ix_transfer_batches_vehicle_status", "vehicle_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("transfer_plans.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"))
    sequence: Mapped[int] = mapped_column(Integer)  # the vehicle's n-th trip of its plan
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), index=True)
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc)  # [{lat, lon, text, person_ids}], in order
    km: Mapped[float] = mapped_column(Float)
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime())
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime())
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(String(255), default="")


class BatchMember(Base):
    """One person on a batch, with the time of each hand-over and why they left it if they did."""

    __tablename__ = "transfer_batch_members"
    __table_args__ = (
        UniqueConstraint("batch_id", "request_id"),
        Index("ix_transfer_batch_members_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("transfer_batches.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("transfer_requests.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    stop_index: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_reason: Mapped[str] = mapped_column(String(255), default="")
