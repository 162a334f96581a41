"""Incidents (平转战): one action switches a jurisdiction to wartime, opening the profile's task forces
and the wartime reporting cadence; standing it down returns to peacetime and keeps its open tasks."""

from __future__ import annotations

from sqlalchemy import select

from bihuan.command.choices import IncidentStatus
from bihuan.command.models import Incident, Task, TaskForce
from bihuan.command.schemas import DeactivationPublic, IncidentCreate, IncidentPublic, TaskPublic
from bihuan.command.service._common import OPEN_TASK_STATUSES, get_incident, incidents_public, task_public
from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import count_rows, serialise
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.people.schemas import Page
from bihuan.people.service import get_jurisdiction, in_scope
from bihuan.protocol import ProtocolProfile


def activate_incident(ctx: Ctx, profile: ProtocolProfile, data: IncidentCreate) -> IncidentPublic:
    """Activate an incident at a jurisdiction; the same activation again returns the active incident,
    another while one is active is refused naming it."""
    require(ctx.actor, Permission.MANAGE_INCIDENTS)
    try:
        jurisdiction = get_jurisdiction(ctx, data.jurisdiction_id)
    except NotFound:
        raise FieldError(
            "jurisdiction_id", f"jurisdiction {data.jurisdiction_id} does not exist or is outside your jurisdiction"
        ) from None
    serialise(ctx.session, f"incident:{jurisdiction.id}")
    active = ctx.session.scalar(select(Incident).where(Incident.active_jurisdiction_id == jurisdiction.id))
    if active is not None:
        if active.name == data.name:
            return incidents_public(ctx, [active])[0]
        raise Conflict(
            f"{jurisdiction.name} already has an active incident: {active.id} {active.name!r}, "
            f"activated {active.activated_at.isoformat()}; stand it down first"
        )
    incident = _open(ctx, profile, data, jurisdiction.id, jurisdiction.level)
    return incidents_public(ctx, [incident])[0]


def _open(ctx: Ctx, profile: ProtocolProfile, data: IncidentCreate, jurisdiction_id: int, level: str) -> Incident:
    now, rules = ctx.clock.now(), profile.command
    incident = Incident(
        name=data.name,
        jurisdiction_id=jurisdiction_id,
        active_jurisdiction_id=jurisdiction_id,
        level=level,
        reason=data.reason,
        status=IncidentStatus.ACTIVE.value,
        report_every_hours=rules.wartime_report_hours,
        activated_at=now,
        activated_by=ctx.actor.username,
        deactivation_reason="",
    )
    ctx.session.add(incident)
    ctx.session.flush()
    for template in rules.task_forces:
        ctx.session.add(
            TaskForce(incident_id=incident.id, link=template.link.value, name=template.name, name_en=template.name_en)
        )
    ctx.session.flush()
    record(
        ctx,
        EventKind.INCIDENT_ACTIVATED,
        jurisdiction_id=jurisdiction_id,
        subject_type="incident",
        subject_id=incident.id,
        payload={
            "name": data.name,
            "level": level,
            "reason": data.reason,
            "task_forces": [t.link.value for t in rules.task_forces],
            "report_every_hours": rules.wartime_report_hours,
        },
    )
    return incident


def deactivate_incident(ctx: Ctx, profile: ProtocolProfile, incident_id: int, reason: str = "") -> DeactivationPublic:
    """Back to peacetime: the task forces stand down, the cadence returns to the peacetime one, open tasks
    are kept and listed. Standing down an incident already stood down changes nothing."""
    require(ctx.actor, Permission.MANAGE_INCIDENTS)
    incident = get_incident(ctx, incident_id)
    serialise(ctx.session, f"incident:{incident.jurisdiction_id}")  # the key activation takes
    ctx.session.refresh(incident)
    if incident.status == IncidentStatus.ACTIVE:
        _close(ctx, profile, incident, reason)
    open_tasks = _open_tasks(ctx, incident.id)
    return DeactivationPublic(incident=incidents_public(ctx, [incident])[0], open_tasks=open_tasks)


def _close(ctx: Ctx, profile: ProtocolProfile, incident: Incident, reason: str) -> None:
    now = ctx.clock.now()
    incident.status, incident.active_jurisdiction_id = IncidentStatus.DEACTIVATED.value, None
    incident.deactivated_at, incident.deactivation_reason = now, reason
    incident.report_every_hours = profile.command.peacetime_report_hours
    for force in ctx.session.scalars(select(TaskForce).where(TaskForce.incident_id == incident.id)):
        force.stood_down_at = now
    ctx.session.flush()
    open_count = count_rows(
        ctx.session, select(Task.id).where(Task.incident_id == incident.id, Task.status.in_(OPEN_TASK_STATUSES))
    )
    record(
        ctx,
        EventKind.INCIDENT_DEACTIVATED,
        jurisdiction_id=incident.jurisdiction_id,
        subject_type="incident",
        subject_id=incident.id,
        payload={"reason": reason, "open_tasks": open_count, "report_every_hours": incident.report_every_hours},
    )


def _open_tasks(ctx: Ctx, incident_id: int) -> list[TaskPublic]:
    now = ctx.clock.now()
    rows = ctx.session.execute(
        select(Task, TaskForce)
        .join(TaskForce, TaskForce.id == Task.task_force_id)
        .where(Task.incident_id == incident_id, Task.status.in_(OPEN_TASK_STATUSES))
        .order_by(Task.due_at, Task.id)
    )
    return [task_public(task, force, now) for task, force in rows]


def list_incidents(ctx: Ctx, page: Page, *, status: IncidentStatus | None = None) -> tuple[list[IncidentPublic], int]:
    """Incidents of the actor's jurisdiction subtree, the newest first."""
    require(ctx.actor, Permission.READ_TRACING)
    stmt = in_scope(ctx, select(Incident), Incident.jurisdiction_id)
    if status is not None:
        stmt = stmt.where(Incident.status == status.value)
    stmt = stmt.order_by(Incident.activated_at.desc(), Incident.id.desc())
    count = count_rows(ctx.session, stmt)
    incidents = list(ctx.session.scalars(stmt.limit(page.page_size).offset(page.offset)))
    return incidents_public(ctx, incidents), count


def read_incident(ctx: Ctx, incident_id: int) -> IncidentPublic:
    require(ctx.actor, Permission.READ_TRACING)
    return incidents_public(ctx, [get_incident(ctx, incident_id)])[0]
