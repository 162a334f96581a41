"""The home phase after release (居家健康监测 / 居家隔离): tasks for the community worker of the person's home.

Released people enter the phase of their plan that follows the central one (home isolation or
home health monitoring), with its dates and test days as the plan has them. Their community sees a
health check per day (the profile's checks per day are done by the person and reported) and a task
on each home test day; the worker records each as done or missed. The phase ends after its last day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import count_rows
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import make_event, record, record_many
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.isolation.choices import HomeMonitoringStatus, HomeTaskKind, HomeTaskStatus
from bihuan.isolation.models import HomeMonitoring, HomeTask, IsolationStay
from bihuan.isolation.release_schemas import HomeTaskPublic, HomeTaskRecord
from bihuan.people.models import Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import ProtocolProfile, QuarantinePhase

HOME_PHASES = (QuarantinePhase.HOME_ISOLATION, QuarantinePhase.HOME_MONITORING)


def home_phases(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's phases after the site, in order (home isolation, home monitoring); none when it ends there."""
    return [p for p in plan.get("phases", []) if p.get("phase") in HOME_PHASES]


def start_home_phase(ctx: Ctx, profile: ProtocolProfile, stays: Sequence[IsolationStay]) -> dict[int, dict[str, Any]]:
    """Open the home phases of each released stay, with their tasks; returns, by stay, the first of them
    and when the last ends."""
    started: dict[int, dict[str, Any]] = {}
    now = ctx.clock.now()
    for stay in stays:
        plan = dict(stay.plan or {})
        monitorings = [_monitoring(stay, phase, now) for phase in home_phases(plan)]
        if not monitorings:
            continue
        ctx.session.add_all(monitorings)
        ctx.session.flush()
        for monitoring in monitorings:
            ctx.session.add_all(_tasks(monitoring, _test_days(plan, monitoring.phase)))
        first, last = monitorings[0], monitorings[-1]
        started[stay.id] = {
            "id": first.id,
            "phase": first.phase,
            "starts_on": first.starts_on.isoformat(),
            "ends_on": last.ends_on.isoformat(),
            "phases": [m.phase for m in monitorings],
        }
    ctx.session.flush()
    return started


def _monitoring(stay: IsolationStay, phase: dict[str, Any], now: datetime) -> HomeMonitoring:
    return HomeMonitoring(
        person_id=stay.person_id,
        stay_id=stay.id,
        jurisdiction_id=stay.jurisdiction_id,
        phase=str(phase["phase"]),
        starts_on=date.fromisoformat(phase["start"]),
        ends_on=date.fromisoformat(phase["end"]),
        status=HomeMonitoringStatus.ACTIVE.value,
        created_at=now,
    )


def _test_days(plan: dict[str, Any], phase: str) -> list[date]:
    return [date.fromisoformat(t["on"]) for t in plan.get("tests", []) if t.get("phase") == phase]


def _tasks(monitoring: HomeMonitoring, test_days: list[date]) -> list[HomeTask]:
    days = (monitoring.ends_on - monitoring.starts_on).days + 1
    checks = [(HomeTaskKind.HEALTH_CHECK, monitoring.starts_on + timedelta(days=i)) for i in range(days)]
    tests = [(HomeTaskKind.TEST, day) for day in test_days]
    return [
        HomeTask(
            monitoring_id=monitoring.id,
            person_id=monitoring.person_id,
            jurisdiction_id=monitoring.jurisdiction_id,
            kind=kind.value,
            due_on=day,
            status=HomeTaskStatus.OPEN.value,
            note="",
        )
        for kind, day in checks + tests
    ]


# -- the community worker's list -------------------------------------------------------------------


def _task_rows() -> Any:
    return (
        select(HomeTask, HomeMonitoring.phase, HomeMonitoring.ends_on, Person.name, Person.resident_id, Person.phone)
        .join(HomeMonitoring, HomeMonitoring.id == HomeTask.monitoring_id)
        .join(Person, Person.id == HomeTask.person_id)
    )


def list_home_tasks(
    ctx: Ctx, day: date, page: Page, *, open_only: bool = True, kind: HomeTaskKind | None = None
) -> tuple[list[HomeTaskPublic], int]:
    """The tasks due on a day (and open ones left from earlier days) in the actor's jurisdiction."""
    require(ctx.actor, Permission.HOME_MONITORING)
    stmt = in_scope(ctx, _task_rows(), HomeTask.jurisdiction_id)
    if open_only:
        stmt = stmt.where(HomeTask.status == HomeTaskStatus.OPEN.value, HomeTask.due_on <= day)
    else:
        stmt = stmt.where(HomeTask.due_on == day)
    if kind is not None:
        stmt = stmt.where(HomeTask.kind == kind.value)
    count = count_rows(ctx.session, stmt)
    rows = ctx.session.execute(
        stmt.order_by(HomeTask.due_on, HomeTask.person_id, HomeTask.kind).offset(page.offset).limit(page.page_size)
    )
    return [_public(row) for row in rows], count


def _public(row: Any) -> HomeTaskPublic:
    task, phase, ends_on, name, resident_id, phone = row
    return HomeTaskPublic(
        id=task.id,
        person_id=task.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        phone=phone,
        phase=QuarantinePhase(phase),
        phase_ends_on=ends_on,
        kind=HomeTaskKind(task.kind),
        due_on=task.due_on,
        status=HomeTaskStatus(task.status),
        done_at=task.done_at,
        done_by=task.done_by,
        note=task.note,
    )


def record_home_task(ctx: Ctx, task_id: int, data: HomeTaskRecord, today: date) -> HomeTaskPublic:
    """The worker records a task done (or missed, with a note); the same record again is harmless."""
    require(ctx.actor, Permission.HOME_MONITORING)
    row = ctx.session.execute(
        in_scope(ctx, _task_rows().where(HomeTask.id == task_id), HomeTask.jurisdiction_id)
    ).first()
    if row is None:
        raise NotFound(f"home task {task_id} not found")
    task = row[0]
    if data.status not in (HomeTaskStatus.DONE, HomeTaskStatus.MISSED):
        raise FieldError("status", "must be done or missed")
    if task.status == data.status and task.note == data.note:
        return _public(row)
    if task.status != HomeTaskStatus.OPEN:
        raise Conflict(f"home task {task_id} is already {task.status}")
    if task.due_on > today:
        raise FieldError("status", f"the task is due on {task.due_on.isoformat()}, not yet")
    if data.status is HomeTaskStatus.MISSED and not data.note.strip():
        raise FieldError("note", "say why the task was missed")
    task.status, task.note = data.status.value, data.note
    task.done_at, task.done_by = ctx.clock.now(), ctx.actor.username[:64]
    ctx.session.flush()
    record(
        ctx,
        EventKind.HOME_TASK_RECORDED,
        person_id=task.person_id,
        jurisdiction_id=task.jurisdiction_id,
        subject_type="home_task",
        subject_id=task.id,
        refs={"home_monitoring": task.monitoring_id},
        payload={"kind": task.kind, "due_on": task.due_on.isoformat(), "status": task.status},
    )
    return _public(ctx.session.execute(_task_rows().where(HomeTask.id == task_id)).one())


def end_finished_phases(ctx: Ctx, today: date) -> int:
    """Home phases of the actor's jurisdiction whose last day is past end (``home_monitoring_ended``); their
    open tasks are missed. Run at the start of each day (the daily close); running it again ends nothing more."""
    require(ctx.actor, Permission.HOME_MONITORING)
    stmt = select(HomeMonitoring).where(
        HomeMonitoring.status == HomeMonitoringStatus.ACTIVE.value, HomeMonitoring.ends_on < today
    )
    finished = list(ctx.session.scalars(in_scope(ctx, stmt, HomeMonitoring.jurisdiction_id)))
    if not finished:
        return 0
    ids = [m.id for m in finished]
    ctx.session.execute(
        update(HomeTask)
        .where(HomeTask.monitoring_id.in_(ids), HomeTask.status == HomeTaskStatus.OPEN.value)
        .values(status=HomeTaskStatus.MISSED.value, note="not recorded before the phase ended")
    )
    now = ctx.clock.now()
    for monitoring in finished:
        monitoring.status, monitoring.ended_at = HomeMonitoringStatus.ENDED.value, now
    ctx.session.flush()
    record_many(ctx, [_ended(ctx, m) for m in finished])
    return len(finished)


def stop_home_phase(ctx: Ctx, person_id: int, reason: str) -> list[int]:
    """End the person's active home phases now, their open tasks cancelled with the reason (the person died
    or moved out: nobody is left to check). Returns the phases stopped; the caller records why (its own
    event), so no ``home_monitoring_ended`` is written: the phase did not run its course."""
    stmt = select(HomeMonitoring).where(
        HomeMonitoring.person_id == person_id, HomeMonitoring.status == HomeMonitoringStatus.ACTIVE.value
    )
    active = list(ctx.session.scalars(stmt))
    if not active:
        return []
    ids = [m.id for m in active]
    ctx.session.execute(
        update(HomeTask)
        .where(HomeTask.monitoring_id.in_(ids), HomeTask.status == HomeTaskStatus.OPEN.value)
        .values(status=HomeTaskStatus.CANCELLED.value, note=reason[:255])
    )
    now = ctx.clock.now()
    for monitoring in active:
        monitoring.status, monitoring.ended_at = HomeMonitoringStatus.ENDED.value, now
    ctx.session.flush()
    return ids


def _ended(ctx: Ctx, monitoring: HomeMonitoring) -> Any:
    return make_event(
        ctx,
        EventKind.HOME_MONITORING_ENDED,
        person_id=monitoring.person_id,
        jurisdiction_id=monitoring.jurisdiction_id,
        subject_type="home_monitoring",
        subject_id=monitoring.id,
        refs={"stay": monitoring.stay_id},
        payload={"phase": monitoring.phase, "ends_on": monitoring.ends_on.isoformat()},
    )


def missed_count(ctx: Ctx, today: date) -> int:
    """Open tasks of earlier days in the actor's jurisdiction (what the worker is behind on)."""
    stmt = in_scope(
        ctx,
        select(func.count())
        .select_from(HomeTask)
        .where(HomeTask.status == HomeTaskStatus.OPEN.value, HomeTask.due_on < today),
        HomeTask.jurisdiction_id,
    )
    return int(ctx.session.scalar(stmt) or 0)
