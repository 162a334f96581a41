"""Tables of fast tracing (快流调): investigations, trajectories, traced contacts, engine runs, links."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, BigId, JsonDoc, UTCDateTime


class Investigation(Base):
    """The epidemiological investigation (流调) of one case, opened when the case is confirmed."""

    __tablename__ = "investigations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    onset_date: Mapped[date | None] = mapped_column(Date)
    first_positive_sampling_date: Mapped[date] = mapped_column(Date)
    symptoms: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    travel_history: Mapped[str] = mapped_column(Text, default="")
    lineage: Mapped[str] = mapped_column(String(32), default="")
    isolated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text, default="")
    last_traced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrajectoryVisit(Base):
    """One stay on a case's trajectory (活动轨迹): a venue or an address, from start to end."""

    __tablename__ = "trajectory_visits"
    __table_args__ = (Index("ix_trajectory_visits_investigation_start", "investigation_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("investigations.id"))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"))
    place_text: Mapped[str] = mapped_column(String(255), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TracedContact(Base):
    """A person found around a case (密接、次密接、时空伴随者、一般接触者), with every reason it was found for."""

    __tablename__ = "traced_contacts"
    __table_args__ = (
        UniqueConstraint("case_id", "person_id"),
        Index("ix_traced_contacts_person", "person_id"),
        Index("ix_traced_contacts_category", "category"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("investigations.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    reasons: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    first_exposure: Mapped[datetime] = mapped_column(UTCDateTime())
    last_exposure: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[float] = mapped_column(Float, default=0.0)
    identified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    plan: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


class TracingRun(Base):
    """One run of the contact engine for an investigation: what it found and the bad rows it skipped."""

    __tablename__ = "tracing_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("investigations.id"), index=True)
    backend: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seconds: Mapped[float] = mapped_column(Float)
    found: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # category -> contacts
    new_contacts: Mapped[int] = mapped_column(Integer, default=0)
    changed_contacts: Mapped[int] = mapped_column(Integer, default=0)
    bad_rows: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # problem -> rows


class TransmissionLink(Base):
    """Infector → infectee between two cases (传播链), and on what it rests."""

    __tablename__ = "transmission_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    infector_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    infectee_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    basis: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("traced_contacts.id"))
    reason: Mapped[str] = mapped_column(String(255), default="")
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
