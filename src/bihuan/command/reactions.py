"""How the command system reacts to the loop's events: work the loop signals becomes a task (闭环派单).

The tasks the loop makes today:

- ``health_alert_raised`` of kind ``missing`` (a person at a site missed temperature checks) →
  a task for the **isolation** task force, one per stay and alert;
- ``returned_to_queue`` (a person handed back to the transfer queue: failed pick-up, vehicle
  failure, full site) → a "re-plan" task for the **transfer** task force, one per return.

Each goes to the active incident whose jurisdiction holds the person (the deepest one when a county
and its city are both active); with none active nothing is made.
"""

from __future__ import annotations

from bihuan.command.choices import LoopTaskKind, TaskForceLink
from bihuan.command.service import LoopSignal, raise_loop_tasks
from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.core.events import EventRecord, subscribe_batch
from bihuan.tracing.service.runtime import profile_of

MISSING = "missing"  # the isolation capability's alert kind for checks not taken


def _missing_measurement(event: EventRecord) -> LoopSignal | None:
    if event.payload.get("kind") != MISSING or event.subject_id is None:
        return None
    detail = str(event.payload.get("detail", ""))
    site = event.refs.get("site")
    return LoopSignal(
        kind=LoopTaskKind.MISSING_MEASUREMENT,
        link=TaskForceLink.ISOLATION,
        key=f"{LoopTaskKind.MISSING_MEASUREMENT}:stay:{event.subject_id}:{detail}"[:255],
        title=f"体温漏测 missing temperature checks at site {site}: person {event.person_id}",
        detail=detail,
        jurisdiction_id=event.jurisdiction_id,
        person_id=event.person_id,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
    )


def _replan(event: EventRecord) -> LoopSignal | None:
    if event.subject_id is None:
        return None
    reason = str(event.payload.get("reason", ""))
    return LoopSignal(
        kind=LoopTaskKind.REPLAN_TRANSFER,
        link=TaskForceLink.TRANSFER,
        key=f"{LoopTaskKind.REPLAN_TRANSFER}:{event.subject_type}:{event.subject_id}:{event.occurred_at.isoformat()}",
        title=f"重新编组 re-plan the transfer of person {event.person_id}",
        detail=reason,
        jurisdiction_id=event.jurisdiction_id,
        person_id=event.person_id,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
    )


def signal_of(event: EventRecord) -> LoopSignal | None:
    """The work an event signals, if any."""
    if event.kind == EventKind.HEALTH_ALERT_RAISED:
        return _missing_measurement(event)
    if event.kind == EventKind.RETURNED_TO_QUEUE:
        return _replan(event)
    return None


@subscribe_batch(EventKind.HEALTH_ALERT_RAISED, EventKind.RETURNED_TO_QUEUE)
def tasks_from_the_loop(events: list[EventRecord], database: Database) -> None:
    """Make the tasks that a commit's alerts and returns call for, in one session."""
    signals = [signal for signal in map(signal_of, events) if signal is not None]
    if not signals:
        return
    clock = SimulatedClock(max(e.occurred_at for e in events))  # made at the moment of the events
    with database.session() as session:
        raise_loop_tasks(Ctx(session=session, clock=clock, actor=SYSTEM), profile_of(database), signals)
