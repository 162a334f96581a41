"""Tasks the loop raises by itself (闭环派单): a signal of work becomes a task for the right task force of
the active incident whose jurisdiction holds the person; without such an incident nothing is made.

Each signal carries a ``source_key`` (its kind and subject): a signal seen twice makes one task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bihuan.command.choices import IncidentStatus, LoopTaskKind, TaskForceLink, TaskSource, TaskStatus
from bihuan.command.models import Incident, Task, TaskForce
from bihuan.command.service._common import jurisdiction_paths
from bihuan.command.service.tasks import created_event
from bihuan.core.context import Ctx
from bihuan.core.db import serialise
from bihuan.core.events import record_many
from bihuan.protocol import ProtocolProfile


@dataclass(frozen=True, slots=True)
class LoopSignal:
    """Work the loop found: what kind, for which task force, about whom, where they belong."""

    kind: LoopTaskKind
    link: TaskForceLink
    key: str  # unique: the kind and the subject
    title: str
    detail: str
    jurisdiction_id: int | None
    person_id: int | None = None
    subject_type: str | None = None
    subject_id: int | None = None


def raise_loop_tasks(ctx: Ctx, profile: ProtocolProfile, signals: list[LoopSignal]) -> list[int]:
    """One task per new signal for its task force in the nearest active incident above the person;
    signals already made into tasks, or with no incident covering them, are passed over. Returns new ids."""
    serialise(ctx.session, "command:loop-tasks")
    incidents = _active_incidents(ctx)
    if not incidents or not signals:
        return []
    known = set(ctx.session.scalars(select(Task.source_key).where(Task.source_key.in_([s.key for s in signals]))))
    paths = jurisdiction_paths(ctx, {s.jurisdiction_id for s in signals if s.jurisdiction_id is not None})
    forces = _forces_of(ctx, incidents)
    made: list[tuple[Task, TaskForce]] = []
    for signal in signals:
        if signal.key in known or signal.jurisdiction_id not in paths:
            continue
        force = _force_for(incidents, forces, paths[signal.jurisdiction_id], signal.link)
        if force is None:
            continue
        known.add(signal.key)
        made.append((_task(ctx, profile, signal, force, incidents), force))
    ctx.session.flush()
    record_many(ctx, [created_event(ctx, task, force) for task, force in made])
    return [task.id for task, _ in made]


@dataclass(frozen=True, slots=True)
class _Active:
    incident: Incident
    path: str


def _active_incidents(ctx: Ctx) -> list[_Active]:
    """Active incidents, the deepest jurisdiction first (a county's before its city's)."""
    rows = list(ctx.session.scalars(select(Incident).where(Incident.status == IncidentStatus.ACTIVE.value)))
    paths = jurisdiction_paths(ctx, {i.jurisdiction_id for i in rows})
    active = [_Active(i, paths[i.jurisdiction_id]) for i in rows]
    return sorted(active, key=lambda a: len(a.path), reverse=True)


def _forces_of(ctx: Ctx, incidents: list[_Active]) -> dict[tuple[int, str], TaskForce]:
    """The active incidents' task forces by incident and link, in one query."""
    stmt = select(TaskForce).where(TaskForce.incident_id.in_([a.incident.id for a in incidents]))
    return {(f.incident_id, f.link): f for f in ctx.session.scalars(stmt)}


def _force_for(
    incidents: list[_Active], forces: dict[tuple[int, str], TaskForce], path: str, link: TaskForceLink
) -> TaskForce | None:
    covering = next((a.incident for a in incidents if path.startswith(a.path)), None)
    if covering is None:
        return None
    return forces.get((covering.id, link.value))


def _task(ctx: Ctx, profile: ProtocolProfile, signal: LoopSignal, force: TaskForce, incidents: list[_Active]) -> Task:
    now = ctx.clock.now()
    incident = next(a.incident for a in incidents if a.incident.id == force.incident_id)
    task = Task(
        incident_id=incident.id,
        task_force_id=force.id,
        jurisdiction_id=incident.jurisdiction_id,
        title=signal.title[:200],
        detail=signal.detail[:2000],
        status=TaskStatus.OPEN.value,
        source=TaskSource.LOOP.value,
        source_key=signal.key,
        person_id=signal.person_id,
        subject_type=signal.subject_type,
        subject_id=signal.subject_id,
        due_at=now + timedelta(hours=profile.command.loop_task_due_hours),
        created_at=now,
        created_by=ctx.actor.username,
        updated_at=now,
    )
    ctx.session.add(task)
    return task
