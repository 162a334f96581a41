"""Task forces (专班) of an incident: who works in them and who leads them."""

from __future__ import annotations

from sqlalchemy import delete, select

from bihuan.command.choices import IncidentStatus
from bihuan.command.models import TaskForce, TaskForceMember
from bihuan.command.schemas import MemberIn, TaskForcePublic
from bihuan.command.service._common import get_incident, task_forces_of
from bihuan.core.auth_models import User
from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.people.service import jurisdiction_path, jurisdiction_path_and_name


def task_force(ctx: Ctx, incident_id: int, link: str, field: str = "task_force") -> TaskForce:
    """The incident's task force for `link`; an unknown link is refused naming the field and the choices."""
    get_incident(ctx, incident_id)
    forces = list(ctx.session.scalars(select(TaskForce).where(TaskForce.incident_id == incident_id)))
    found = next((f for f in forces if f.link == link), None)
    if found is None:
        links = ", ".join(f.link for f in forces)
        raise FieldError(field, f"incident {incident_id} has no task force {link!r}; its task forces: {links}")
    return found


def add_member(ctx: Ctx, incident_id: int, link: str, data: MemberIn) -> TaskForcePublic:
    """Add a user to a task force (and make them its lead when asked); adding a member again changes nothing."""
    require(ctx.actor, Permission.MANAGE_INCIDENTS)
    force = _active_force(ctx, incident_id, link)
    user = ctx.session.get(User, data.user_id)
    if user is None or not user.active:
        raise FieldError("user_id", f"user {data.user_id} does not exist or is inactive")
    _check_sees(ctx, user, force.incident_id)
    known = ctx.session.scalar(
        select(TaskForceMember.id).where(TaskForceMember.task_force_id == force.id, TaskForceMember.user_id == user.id)
    )
    becomes_lead = data.lead and force.lead_user_id != user.id
    if known is None:
        ctx.session.add(TaskForceMember(task_force_id=force.id, user_id=user.id, added_at=ctx.clock.now()))
    if becomes_lead:
        force.lead_user_id = user.id
    if known is None or becomes_lead:
        ctx.session.flush()
        _record(ctx, EventKind.TASK_FORCE_MEMBER_ADDED, force, user.id, lead=force.lead_user_id == user.id)
    return _public(ctx, force)


def remove_member(ctx: Ctx, incident_id: int, link: str, user_id: int) -> TaskForcePublic:
    """Take a user out of a task force (a lead stops leading); removing a non-member is not found."""
    require(ctx.actor, Permission.MANAGE_INCIDENTS)
    force = _active_force(ctx, incident_id, link)
    removed = ctx.session.execute(
        delete(TaskForceMember).where(TaskForceMember.task_force_id == force.id, TaskForceMember.user_id == user_id)
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"user {user_id} is not a member of task force {link}")
    if force.lead_user_id == user_id:
        force.lead_user_id = None
    ctx.session.flush()
    _record(ctx, EventKind.TASK_FORCE_MEMBER_REMOVED, force, user_id, lead=False)
    return _public(ctx, force)


def _check_sees(ctx: Ctx, user: User, incident_id: int) -> None:
    """A member must be able to see the incident: their jurisdiction holds the incident's (or they see all)."""
    if user.jurisdiction_id is None:
        return
    user_path = jurisdiction_path(ctx, user.jurisdiction_id)
    incident_path, place = jurisdiction_path_and_name(ctx, get_incident(ctx, incident_id).jurisdiction_id)
    if not incident_path.startswith(user_path):
        raise FieldError("user_id", f"user {user.id} works outside {place}: they could not see this incident")


def is_member(ctx: Ctx, task_force_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    stmt = select(TaskForceMember.id).where(
        TaskForceMember.task_force_id == task_force_id, TaskForceMember.user_id == user_id
    )
    return ctx.session.scalar(stmt) is not None


def _active_force(ctx: Ctx, incident_id: int, link: str) -> TaskForce:
    incident = get_incident(ctx, incident_id)
    force = task_force(ctx, incident_id, link)
    if incident.status != IncidentStatus.ACTIVE:
        raise Conflict(f"incident {incident_id} is stood down: its task forces take no members")
    return force


def _record(ctx: Ctx, kind: EventKind, force: TaskForce, user_id: int, *, lead: bool) -> None:
    incident = get_incident(ctx, force.incident_id)
    record(
        ctx,
        kind,
        jurisdiction_id=incident.jurisdiction_id,
        subject_type="task_force",
        subject_id=force.id,
        refs={"incident": force.incident_id},
        payload={"link": force.link, "user_id": user_id, "lead": lead},
    )


def _public(ctx: Ctx, force: TaskForce) -> TaskForcePublic:
    return next(f for f in task_forces_of(ctx, [force.incident_id])[force.incident_id] if f.id == force.id)
