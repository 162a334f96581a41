"""Reads shared by the command use cases: scoped incidents and their public shapes."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select

from bihuan.command.choices import FINAL_TASK_STATUSES, IncidentStatus, TaskForceLink, TaskSource, TaskStatus
from bihuan.command.models import Incident, Task, TaskForce, TaskForceMember
from bihuan.command.schemas import IncidentPublic, TaskForcePublic, TaskPublic
from bihuan.core.context import Ctx
from bihuan.core.errors import NotFound
from bihuan.people.models import Jurisdiction
from bihuan.people.service import in_scope

OPEN_TASK_STATUSES = tuple(s.value for s in TaskStatus if s not in FINAL_TASK_STATUSES)


def get_incident(ctx: Ctx, incident_id: int) -> Incident:
    """An incident of the actor's jurisdiction subtree; anything else is not found."""
    stmt = in_scope(ctx, select(Incident).where(Incident.id == incident_id), Incident.jurisdiction_id)
    incident = ctx.session.scalar(stmt)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def task_forces_of(ctx: Ctx, incident_ids: list[int]) -> dict[int, list[TaskForcePublic]]:
    """Each incident's task forces in template order (their ids), with their members."""
    forces = list(
        ctx.session.scalars(select(TaskForce).where(TaskForce.incident_id.in_(incident_ids)).order_by(TaskForce.id))
    )
    members: dict[int, list[int]] = defaultdict(list)
    rows = ctx.session.execute(
        select(TaskForceMember.task_force_id, TaskForceMember.user_id)
        .where(TaskForceMember.task_force_id.in_([f.id for f in forces]))
        .order_by(TaskForceMember.user_id)
    )
    for force_id, user_id in rows:
        members[force_id].append(user_id)
    shaped: dict[int, list[TaskForcePublic]] = defaultdict(list)
    for force in forces:
        shaped[force.incident_id].append(
            TaskForcePublic(
                id=force.id,
                link=TaskForceLink(force.link),
                name=force.name,
                name_en=force.name_en,
                lead_user_id=force.lead_user_id,
                members=members[force.id],
                stood_down_at=force.stood_down_at,
            )
        )
    return shaped


def incidents_public(ctx: Ctx, incidents: list[Incident]) -> list[IncidentPublic]:
    """Incidents with their task forces, open-task counts and place names, in four queries."""
    ids = [i.id for i in incidents]
    forces = task_forces_of(ctx, ids)
    counted = ctx.session.execute(
        select(Task.incident_id, func.count())
        .where(Task.incident_id.in_(ids), Task.status.in_(OPEN_TASK_STATUSES))
        .group_by(Task.incident_id)
    )
    open_counts: dict[int, int] = {incident_id: count for incident_id, count in counted}
    places = jurisdiction_names(ctx, {i.jurisdiction_id for i in incidents})
    return [
        IncidentPublic(
            id=i.id,
            name=i.name,
            jurisdiction_id=i.jurisdiction_id,
            jurisdiction_name=places[i.jurisdiction_id],
            level=i.level,
            reason=i.reason,
            status=IncidentStatus(i.status),
            report_every_hours=i.report_every_hours,
            activated_at=i.activated_at,
            activated_by=i.activated_by,
            deactivated_at=i.deactivated_at,
            deactivation_reason=i.deactivation_reason,
            task_forces=forces.get(i.id, []),
            open_tasks=open_counts.get(i.id, 0),
        )
        for i in incidents
    ]


def jurisdiction_names(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    rows = ctx.session.execute(select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(ids)))
    return {jurisdiction_id: name for jurisdiction_id, name in rows}


def jurisdiction_paths(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    rows = ctx.session.execute(select(Jurisdiction.id, Jurisdiction.path).where(Jurisdiction.id.in_(ids)))
    return {jurisdiction_id: path for jurisdiction_id, path in rows}


def task_public(task: Task, force: TaskForce, now: datetime) -> TaskPublic:
    return TaskPublic(
        id=task.id,
        incident_id=task.incident_id,
        task_force=TaskForceLink(force.link),
        task_force_name=force.name,
        title=task.title,
        detail=task.detail,
        status=TaskStatus(task.status),
        source=TaskSource(task.source),
        source_key=task.source_key,
        person_id=task.person_id,
        subject_type=task.subject_type,
        subject_id=task.subject_id,
        due_at=task.due_at,
        overdue=is_overdue(task, now),
        created_at=task.created_at,
        created_by=task.created_by,
        updated_at=task.updated_at,
        closed_at=task.closed_at,
    )


def is_overdue(task: Task, now: datetime) -> bool:
    """Not finished and past its due time."""
    return task.status in OPEN_TASK_STATUSES and task.due_at < now
