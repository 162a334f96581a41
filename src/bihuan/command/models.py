"""Tables of the command system (指挥体系): incidents, their task forces and members, and tasks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, UTCDateTime


class Incident(Base):
    """An incident command activated at a jurisdiction (平转战), until it is stood down.

    ``active_jurisdiction_id`` holds the jurisdiction while the incident is active and NULL after, so
    the unique index allows one active incident per jurisdiction and any number of past ones.
    """

    __tablename__ = "command_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    active_jurisdiction_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    level: Mapped[str] = mapped_column(String(16))  # the jurisdiction's level: province, city, county...
    reason: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(16))
    report_every_hours: Mapped[float] = mapped_column(Float)  # the reporting cadence now in force
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[str] = mapped_column(String(64))
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deactivation_reason: Mapped[str] = mapped_column(String(255), default="")


class TaskForce(Base):
    """A task force (专班) of an incident, opened from the profile's template, stood down with it."""

    __tablename__ = "command_task_forces"
    __table_args__ = (UniqueConstraint("incident_id", "link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("command_incidents.id"), index=True)
    link: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64), default="")
    lead_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stood_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TaskForceMember(Base):
    """A user working in a task force."""

    __tablename__ = "command_task_force_members"
    __table_args__ = (UniqueConstraint("task_force_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_force_id: Mapped[int] = mapped_column(ForeignKey("command_task_forces.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Task(Base):
    """Work assigned to a task force, due by a time; made by hand or by the loop.

    ``source_key`` names what a loop task is about (its kind and subject): unique, so the loop never
    makes the same task twice. ``jurisdiction_id`` is the incident's, for scoping.
    """

    __tablename__ = "command_tasks"
    __table_args__ = (
        Index("ix_command_tasks_incident_status", "incident_id", "status"),
        Index("ix_command_tasks_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("command_incidents.id"))
    task_force_id: Mapped[int] = mapped_column(ForeignKey("command_task_forces.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(2000), default="")
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
