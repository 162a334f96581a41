"""Tasks (任务) of an incident's task forces: made by hand or by the loop, due by a time, moved through
open → in progress → done or cancelled (the last two final)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bihuan.command.choices import FINAL_TASK_STATUSES, IncidentStatus, TaskSource, TaskStatus
from bihuan.command.models import Incident, Task, TaskForce
from bihuan.command.schemas import TaskCreate, TaskPublic, TaskUpdate
from bihuan.command.service._common import OPEN_TASK_STATUSES, get_incident, task_public
from bihuan.command.service.task_forces import is_member, task_force
from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import count_rows, serialise
from bihuan.core.errors import Conflict, FieldError, Forbidden, NotFound
from bihuan.core.events import make_event, record, record_many
from bihuan.core.permissions import Permission, can, require
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.people.service import get_person, in_scope, jurisdiction_path_and_name


def create_task(ctx: Ctx, data: TaskCreate) -> TaskPublic:
    """A task by hand for one task force of an active incident; the due time is required and to come.
    The same request sent again returns the open task it made (creation is serialised per incident)."""
    require(ctx.actor, Permission.MANAGE_TASKS)
    incident = get_incident(ctx, data.incident_id)
    if incident.status != IncidentStatus.ACTIVE:
        raise FieldError("incident_id", f"incident {incident.id} is stood down: it takes no new tasks")
    force = task_force(ctx, incident.id, data.task_force)
    due_at = _due(ctx, data.due_at)
    if data.person_id is not None:
        _check_person(ctx, data.person_id, incident)
    serialise(ctx.session, f"tasks:{incident.id}")
    now = ctx.clock.now()
    same = _same_open_task(ctx, force, data, due_at)
    if same is not None:
        return task_public(same, force, now)
    task = Task(
        incident_id=incident.id,
        task_force_id=force.id,
        jurisdiction_id=incident.jurisdiction_id,
        title=data.title,
        detail=data.detail,
        status=TaskStatus.OPEN.value,
        source=TaskSource.MANUAL.value,
        person_id=data.person_id,
        due_at=due_at,
        created_at=now,
        created_by=ctx.actor.username,
        updated_at=now,
    )
    ctx.session.add(task)
    ctx.session.flush()
    record_many(ctx, [created_event(ctx, task, force)])
    return task_public(task, force, now)


def _check_person(ctx: Ctx, person_id: int, incident: Incident) -> None:
    """The person must be visible to the actor and live within the incident's jurisdiction subtree."""
    try:
        get_person(ctx, person_id)
    except NotFound:
        raise FieldError("person_id", f"person {person_id} not found in your jurisdiction") from None
    stmt = select(Jurisdiction.path).join(Person, Person.jurisdiction_id == Jurisdiction.id)
    stmt = stmt.where(Person.id == person_id)
    path = ctx.session.scalar(stmt) or ""
    incident_path, incident_place = jurisdiction_path_and_name(ctx, incident.jurisdiction_id)
    if not path.startswith(incident_path):
        raise FieldError("person_id", f"person {person_id} lives outside {incident_place}, the incident's jurisdiction")


def _same_open_task(ctx: Ctx, force: TaskForce, data: TaskCreate, due_at: datetime) -> Task | None:
    """An open manual task made by the same request (incident, task force, title, person, due time)."""
    stmt = select(Task).where(
        Task.incident_id == force.incident_id,
        Task.task_force_id == force.id,
        Task.source == TaskSource.MANUAL.value,
        Task.status.in_(OPEN_TASK_STATUSES),
        Task.title == data.title,
        Task.person_id == data.person_id,
        Task.due_at == due_at,
    )
    return ctx.session.scalars(stmt.order_by(Task.id).limit(1)).first()


def _due(ctx: Ctx, due_at: datetime | None) -> datetime:
    if due_at is None:
        raise FieldError("due_at", "required: when the task must be done")
    if due_at.tzinfo is None:
        raise FieldError("due_at", "give the time with its offset (e.g. +08:00)")
    if due_at <= ctx.clock.now():
        raise FieldError("due_at", f"{due_at.isoformat()} has passed: a task is due at a time to come")
    return due_at


def created_event(ctx: Ctx, task: Task, force: TaskForce) -> Any:
    return make_event(
        ctx,
        EventKind.TASK_CREATED,
        person_id=task.person_id,
        jurisdiction_id=task.jurisdiction_id,
        subject_type="task",
        subject_id=task.id,
        refs={"incident": task.incident_id, "task_force": force.id},
        payload={
            "title": task.title,
            "task_force": force.link,
            "source": task.source,
            "source_key": task.source_key,
            "due_at": task.due_at.isoformat(),
        },
    )


_MOVES: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.OPEN: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.CANCELLED}),
    TaskStatus.IN_PROGRESS: frozenset({TaskStatus.OPEN, TaskStatus.DONE, TaskStatus.CANCELLED}),
}


def update_task(ctx: Ctx, task_id: int, data: TaskUpdate) -> TaskPublic:
    """Move a task's status or its due time; commanders may update any task, a task force's members
    their own force's. A done or cancelled task is final; sending its current state again is harmless.
    The task is read under a lock, so two updates at once see each other's move."""
    serialise(ctx.session, f"task:{task_id}")
    task, force = _get_task(ctx, task_id, fresh=True)
    if not can(ctx.actor, Permission.MANAGE_TASKS) and not is_member(ctx, force.id, ctx.actor.user_id):
        raise Forbidden(f"only commanders and members of {force.name} may update task {task_id}")
    current = TaskStatus(task.status)
    status = data.status or current
    due_at = task.due_at if data.due_at is None or data.due_at == task.due_at else data.due_at
    if status == current and due_at == task.due_at:
        return task_public(task, force, ctx.clock.now())
    if current in FINAL_TASK_STATUSES:
        raise Conflict(f"task {task_id} is {current.value}: a done or cancelled task is final")
    if status != current and status not in _MOVES[current]:
        raise Conflict(f"task {task_id} cannot move from {current.value} to {status.value}")
    if due_at != task.due_at:
        due_at = _due(ctx, due_at)
    _apply(ctx, task, force, status, due_at)
    return task_public(task, force, ctx.clock.now())


def _apply(ctx: Ctx, task: Task, force: TaskForce, status: TaskStatus, due_at: datetime) -> None:
    now, before = ctx.clock.now(), task.status
    task.status, task.due_at, task.updated_at = status.value, due_at, now
    if status in FINAL_TASK_STATUSES:
        task.closed_at = now
    ctx.session.flush()
    record(
        ctx,
        EventKind.TASK_UPDATED,
        person_id=task.person_id,
        jurisdiction_id=task.jurisdiction_id,
        subject_type="task",
        subject_id=task.id,
        refs={"incident": task.incident_id, "task_force": force.id},
        payload={"from": before, "to": status.value, "due_at": due_at.isoformat()},
    )


def _get_task(ctx: Ctx, task_id: int, *, fresh: bool = False) -> tuple[Task, TaskForce]:
    stmt = select(Task, TaskForce).join(TaskForce, TaskForce.id == Task.task_force_id).where(Task.id == task_id)
    if fresh:  # after the lock: read the row as committed now, not as this session last saw it
        stmt = stmt.with_for_update(of=Task).execution_options(populate_existing=True)
    row = ctx.session.execute(in_scope(ctx, stmt, Task.jurisdiction_id)).first()
    if row is None:
        raise NotFound(f"task {task_id} not found")
    return row[0], row[1]


def get_task(ctx: Ctx, task_id: int) -> TaskPublic:
    require(ctx.actor, Permission.READ_TRACING)
    task, force = _get_task(ctx, task_id)
    return task_public(task, force, ctx.clock.now())


def list_tasks(
    ctx: Ctx,
    page: Page,
    *,
    incident_id: int | None = None,
    task_force: str | None = None,
    status: TaskStatus | None = None,
    overdue: bool | None = None,
) -> tuple[list[TaskPublic], int]:
    """Tasks of the incidents in the actor's jurisdiction subtree, the soonest due first; overdue: not
    finished and past due (``False``: every other task)."""
    require(ctx.actor, Permission.READ_TRACING)
    now = ctx.clock.now()
    stmt = select(Task, TaskForce).join(TaskForce, TaskForce.id == Task.task_force_id)
    stmt = in_scope(ctx, stmt, Task.jurisdiction_id)
    if incident_id is not None:
        stmt = stmt.where(Task.incident_id == incident_id)
    if task_force is not None:
        stmt = stmt.where(TaskForce.link == task_force)
    if status is not None:
        stmt = stmt.where(Task.status == status.value)
    late = Task.status.in_(OPEN_TASK_STATUSES) & (Task.due_at < now)
    if overdue is not None:
        stmt = stmt.where(late if overdue else ~late)
    stmt = stmt.order_by(Task.due_at, Task.id)
    count = count_rows(ctx.session, stmt)
    rows = ctx.session.execute(stmt.limit(page.page_size).offset(page.offset))
    return [task_public(task, force, now) for task, force in rows], count
