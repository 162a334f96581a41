"""HTTP API of the command system (指挥体系): incidents (平转战), their task forces' members, and tasks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from bihuan.command import service
from bihuan.command.choices import IncidentStatus, TaskStatus
from bihuan.command.schemas import (
    DeactivateIn,
    DeactivationPublic,
    IncidentCreate,
    IncidentPublic,
    IncidentsPublic,
    MemberIn,
    TaskCreate,
    TaskForcePublic,
    TaskPublic,
    TasksPublic,
    TaskUpdate,
)
from bihuan.core.deps import ProfileDep, UserCtx
from bihuan.people.schemas import Page

router = APIRouter(tags=["command"])
PageDep = Annotated[Page, Depends()]


@router.post("/api/incidents")
def activate_incident(ctx: UserCtx, profile: ProfileDep, data: IncidentCreate) -> IncidentPublic:
    """Switch a jurisdiction to wartime: its task forces open and reports come at the wartime cadence."""
    return service.activate_incident(ctx, profile, data)


@router.get("/api/incidents")
def list_incidents(ctx: UserCtx, page: PageDep, status: IncidentStatus | None = None) -> IncidentsPublic:
    rows, count = service.list_incidents(ctx, page, status=status)
    return IncidentsPublic(data=rows, count=count)


@router.get("/api/incidents/{incident_id}")
def read_incident(ctx: UserCtx, incident_id: int) -> IncidentPublic:
    return service.read_incident(ctx, incident_id)


@router.post("/api/incidents/{incident_id}/deactivate")
def deactivate_incident(
    ctx: UserCtx, profile: ProfileDep, incident_id: int, data: DeactivateIn | None = None
) -> DeactivationPublic:
    """Back to peacetime: task forces stand down; the open tasks are kept and listed."""
    return service.deactivate_incident(ctx, profile, incident_id, data.reason if data else "")


@router.post("/api/incidents/{incident_id}/task-forces/{link}/members")
def add_member(ctx: UserCtx, incident_id: int, link: str, data: MemberIn) -> TaskForcePublic:
    return service.add_member(ctx, incident_id, link, data)


@router.delete("/api/incidents/{incident_id}/task-forces/{link}/members/{user_id}")
def remove_member(ctx: UserCtx, incident_id: int, link: str, user_id: int) -> TaskForcePublic:
    return service.remove_member(ctx, incident_id, link, user_id)


@router.get("/api/tasks")
def list_tasks(
    ctx: UserCtx,
    page: PageDep,
    incident_id: int | None = None,
    task_force: str | None = None,
    status: TaskStatus | None = None,
    overdue: bool | None = None,
) -> TasksPublic:
    """Tasks of your jurisdiction's incidents, the soonest due first."""
    rows, count = service.list_tasks(
        ctx, page, incident_id=incident_id, task_force=task_force, status=status, overdue=overdue
    )
    return TasksPublic(data=rows, count=count)


@router.post("/api/tasks")
def create_task(ctx: UserCtx, data: TaskCreate) -> TaskPublic:
    return service.create_task(ctx, data)


@router.get("/api/tasks/{task_id}")
def read_task(ctx: UserCtx, task_id: int) -> TaskPublic:
    return service.get_task(ctx, task_id)


@router.patch("/api/tasks/{task_id}")
def update_task(ctx: UserCtx, task_id: int, data: TaskUpdate) -> TaskPublic:
    """Move a task on (open → in progress → done or cancelled) or change its due time."""
    return service.update_task(ctx, task_id, data)
