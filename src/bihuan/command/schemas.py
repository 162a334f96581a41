"""API shapes of the command system (指挥体系): incidents, task forces and tasks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bihuan.command.choices import IncidentStatus, TaskForceLink, TaskSource, TaskStatus


class IncidentCreate(BaseModel):
    """Switch a jurisdiction to wartime (平转战); sending the same activation again changes nothing."""

    jurisdiction_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="", max_length=255)


class DeactivateIn(BaseModel):
    reason: str = Field(default="", max_length=255)


class MemberIn(BaseModel):
    user_id: int = Field(ge=1)
    lead: bool = False  # also make the user the task force's lead


class TaskForcePublic(BaseModel):
    id: int
    link: TaskForceLink
    name: str
    name_en: str
    lead_user_id: int | None
    members: list[int]  # user ids
    stood_down_at: datetime | None


class IncidentPublic(BaseModel):
    id: int
    name: str
    jurisdiction_id: int
    jurisdiction_name: str
    level: str
    reason: str
    status: IncidentStatus
    report_every_hours: float
    activated_at: datetime
    activated_by: str
    deactivated_at: datetime | None
    deactivation_reason: str
    task_forces: list[TaskForcePublic]
    open_tasks: int


class IncidentsPublic(BaseModel):
    data: list[IncidentPublic]
    count: int


class TaskCreate(BaseModel):
    """A task by hand: for one task force of an active incident, due at a time to come."""

    incident_id: int = Field(ge=1)
    task_force: str = Field(max_length=32)  # the task force's link: testing, tracing, transfer...
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field(default="", max_length=2000)
    due_at: datetime | None = None  # required: refused with a reason when missing
    person_id: int | None = Field(default=None, ge=1)


class TaskUpdate(BaseModel):
    status: TaskStatus | None = None
    due_at: datetime | None = None


class TaskPublic(BaseModel):
    id: int
    incident_id: int
    task_force: TaskForceLink
    task_force_name: str
    title: str
    detail: str
    status: TaskStatus
    source: TaskSource
    source_key: str | None
    person_id: int | None
    subject_type: str | None
    subject_id: int | None
    due_at: datetime
    overdue: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    closed_at: datetime | None


class TasksPublic(BaseModel):
    data: list[TaskPublic]
    count: int


class DeactivationPublic(BaseModel):
    """The incident stood down, and the tasks it leaves open (kept, for the record and for follow-up)."""

    incident: IncidentPublic
    open_tasks: list[TaskPublic]
