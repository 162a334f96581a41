"""Recorded ends of a person's loop (闭环终点): hospitalised, died, moved out of the jurisdiction.

Nobody leaves the loop without a recorded end. An outcome is one event on the person, and what it
ends in the other links is ended in the same transaction, through their services, before the event
is written: an open isolation stay ends (its room freed; a hospitalisation ends only a stay at a
central quarantine site), a queue entry still waiting is cancelled, and the home phase stops with
its open tasks cancelled (the community workers have nobody left to visit). Those changes are timed
at the outcome, so the person's events read, in order, "taken off the queue, then moved out": the loop
closes on the end.

Died is final: a second died returns the first, any other outcome after it is refused. The same
outcome sent again with the same time is the same record. Who may record: those who keep the register
(``WRITE_PEOPLE``: commanders, investigators, community workers — a death or a move at home) and those
who let people leave a site (``RELEASE``: site managers — a person taken to hospital from their site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import serialise
from bihuan.core.errors import FieldError, Forbidden, NotFound
from bihuan.core.events import Event, EventRecord, make_event, record_many
from bihuan.core.permissions import Permission, can, require
from bihuan.grouping import service as queue
from bihuan.grouping.choices import RequestStatus
from bihuan.isolation.choices import StayStatus
from bihuan.isolation.service import get_site
from bihuan.isolation.service.home import stop_home_phase
from bihuan.isolation.service.leaving import end_stays, open_stay_of
from bihuan.loop import engine
from bihuan.people.models import Person
from bihuan.people.outcomes_schemas import OutcomeIn, OutcomeKind, OutcomePublic, OutcomesPublic
from bihuan.people.service import in_scope
from bihuan.protocol import DestinationKind, ProtocolProfile

if TYPE_CHECKING:
    from bihuan.isolation.models import IsolationStay

OUTCOME_EVENTS = [k.value for k in OutcomeKind]
RECORDERS = (Permission.WRITE_PEOPLE, Permission.RELEASE)


def may_record(ctx: Ctx) -> bool:
    return any(can(ctx.actor, p) for p in RECORDERS)


def record_outcome(ctx: Ctx, profile: ProtocolProfile, person_id: int, data: OutcomeIn) -> OutcomePublic:
    """Record an end of the person's loop and end what it ends in the other links; resending is harmless."""
    if not may_record(ctx):
        raise Forbidden(f"role {ctx.actor.role.value} may not record a person's outcome")
    person = _person(ctx, person_id)
    occurred_at = _when(ctx, data.occurred_at)
    _check_details(ctx, data)
    serialise(ctx.session, f"outcome:{person_id}")
    earlier = _outcome_events(ctx, person_id)
    died = next((e for e in earlier if e.kind == EventKind.DIED.value), None)
    if died is not None:
        if data.outcome is OutcomeKind.DIED:
            return _public(died)
        raise FieldError("outcome", f"person {person_id} died at {died.occurred_at.isoformat()}: nothing comes after")
    same = next((e for e in earlier if e.kind == data.outcome.value and e.occurred_at == occurred_at), None)
    if same is not None:
        return _public(same)
    _check_in_loop(ctx, profile, person_id, data.outcome, occurred_at)
    ends = _plan_ends(ctx, person_id, data.outcome, occurred_at)
    refs = _apply_ends(ctx, person.id, ends, data, occurred_at)
    at_outcome = Ctx(session=ctx.session, clock=SimulatedClock(occurred_at), actor=ctx.actor)
    event = make_event(
        at_outcome,
        data.outcome.event_kind,
        person_id=person.id,
        jurisdiction_id=person.jurisdiction_id,
        subject_type="person",
        subject_id=person.id,
        refs=refs,
        payload={"note": data.note, "destination": data.destination.strip()},
    )
    record_many(ctx, [event])
    written = _outcome_events(ctx, person_id, kind=data.outcome.value, occurred_at=occurred_at)
    return _public(written[-1])


def list_outcomes(ctx: Ctx, person_id: int) -> OutcomesPublic:
    """The person's recorded outcomes, from their events, in the order they happened."""
    require(ctx.actor, Permission.READ_PEOPLE)
    _person(ctx, person_id)
    rows = [_public(e) for e in _outcome_events(ctx, person_id)]
    return OutcomesPublic(data=rows, count=len(rows))


# -- checks --------------------------------------------------------------------------------------------


def _person(ctx: Ctx, person_id: int) -> Person:
    person = ctx.session.scalar(in_scope(ctx, select(Person).where(Person.id == person_id), Person.jurisdiction_id))
    if person is None:
        raise NotFound(f"person {person_id} not found")
    return person


def _when(ctx: Ctx, occurred_at: datetime) -> datetime:
    if occurred_at.tzinfo is None:
        raise FieldError("occurred_at", "give the time with its offset (e.g. +08:00)")
    if occurred_at > ctx.clock.now():
        raise FieldError("occurred_at", f"{occurred_at.isoformat()} is in the future")
    return occurred_at


def _check_details(ctx: Ctx, data: OutcomeIn) -> None:
    if data.outcome is OutcomeKind.MOVED_OUT and not data.destination.strip():
        raise FieldError("destination", "required when moved out: where the person went")
    if data.hospital_site_id is None:
        return
    if data.outcome is not OutcomeKind.HOSPITALISED:
        raise FieldError("hospital_site_id", "only a hospitalisation names a hospital")
    try:  # the register of sites is the city's, not cut to a jurisdiction
        site = get_site(Ctx(session=ctx.session, clock=ctx.clock, actor=SYSTEM), data.hospital_site_id)
    except NotFound:
        raise FieldError("hospital_site_id", f"site {data.hospital_site_id} does not exist") from None
    if site.kind != DestinationKind.DESIGNATED_HOSPITAL:
        raise FieldError("hospital_site_id", f"site {site.id} {site.name} is not a designated hospital")


def _check_in_loop(ctx: Ctx, profile: ProtocolProfile, person_id: int, outcome: OutcomeKind, at: datetime) -> None:
    """An end needs a loop to end (a hospitalisation may open and close one): not before it began."""
    timeline = engine.timeline(_loop_events(ctx, person_id), engine.LoopRules.of(profile), ctx.clock.now())
    if not timeline.in_loop:
        if outcome is OutcomeKind.HOSPITALISED:
            return
        raise FieldError("outcome", f"person {person_id} is not in the loop: there is no loop to end")
    entered = min(r.first_at for r in timeline.reached if r.stage in engine.ENTRY_STAGES)
    if at < entered:
        began = entered.isoformat()
        raise FieldError("occurred_at", f"{at.isoformat()} is before the person entered the loop ({began})")


def _loop_events(ctx: Ctx, person_id: int) -> list[EventRecord]:
    stmt = (
        select(Event)
        .where(Event.person_id == person_id, Event.kind.in_(sorted(k.value for k in engine.READ_KINDS)))
        .order_by(Event.occurred_at, Event.id)
    )
    return [
        EventRecord(
            kind=EventKind(e.kind),
            occurred_at=e.occurred_at,
            person_id=e.person_id,
            jurisdiction_id=e.jurisdiction_id,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            refs=e.refs or {},
            payload=e.payload or {},
        )
        for e in ctx.session.scalars(stmt)
    ]


# -- the ends in the other links ---------------------------------------------------------------------------


@dataclass
class _Ends:
    """What the outcome ends, each change timed (at the outcome, or — a death reported late — at the start
    of what it ends, which came after)."""

    stay: IsolationStay | None = None
    stay_at: datetime | None = None
    request_id: int | None = None
    request_at: datetime | None = None
    on_batch: int | None = None


def _plan_ends(ctx: Ctx, person_id: int, outcome: OutcomeKind, occurred_at: datetime) -> _Ends:
    ends = _Ends()
    found = open_stay_of(ctx, person_id)
    if found is not None:
        stay, kind = found
        if outcome is not OutcomeKind.HOSPITALISED or kind is DestinationKind.CENTRAL_QUARANTINE:
            ends.stay, ends.stay_at = stay, _not_before(outcome, occurred_at, stay.started_at, "stay at a site began")
    request = queue.open_request_of(ctx, person_id)
    if request is not None:
        if request.status == RequestStatus.QUEUED:
            ends.request_id = request.id
            ends.request_at = _not_before(outcome, occurred_at, request.updated_at, "place in the transfer queue")
        else:
            ends.on_batch = request.batch_id
    return ends


def _not_before(outcome: OutcomeKind, at: datetime, started: datetime, what: str) -> datetime:
    """When to end something begun at `started`: a move or a hospitalisation before it contradicts it (refused);
    a death reported late ends it as it stands (the death stays the end whatever follows it)."""
    if at >= started:
        return at
    if outcome is OutcomeKind.DIED:
        return started
    raise FieldError("occurred_at", f"{at.isoformat()} is before the person's {what} ({started.isoformat()})")


def _system_at(ctx: Ctx, at: datetime) -> Ctx:
    """The other links' changes, made by the system at the outcome's time in this transaction."""
    return Ctx(session=ctx.session, clock=SimulatedClock(at), actor=SYSTEM)


def _apply_ends(ctx: Ctx, person_id: int, ends: _Ends, data: OutcomeIn, occurred_at: datetime) -> dict[str, Any]:
    reason = f"{data.outcome.value}: {data.note}".strip(": ")[:255]
    refs: dict[str, Any] = {}
    if data.hospital_site_id is not None:
        refs["hospital"] = data.hospital_site_id
    if ends.stay is not None and ends.stay_at is not None:
        end_stays(_system_at(ctx, ends.stay_at), [ends.stay], StayStatus(data.outcome.value))
        refs.update(stay=ends.stay.id, site=ends.stay.site_id)
    if ends.request_id is not None and ends.request_at is not None:
        queue.cancel(_system_at(ctx, ends.request_at), ends.request_id, reason)
        refs["transfer_request"] = ends.request_id
    if ends.on_batch is not None:
        refs["batch"] = ends.on_batch
    # Every outcome ends the home phase: in hospital, dead or gone, there is nobody left to visit at home.
    if stopped := stop_home_phase(_system_at(ctx, occurred_at), person_id, reason):
        refs["home_monitorings"] = stopped
    return refs


# -- reading the events back -----------------------------------------------------------------------------


def _outcome_events(
    ctx: Ctx, person_id: int, *, kind: str | None = None, occurred_at: datetime | None = None
) -> list[Event]:
    stmt = select(Event).where(Event.person_id == person_id, Event.kind.in_(OUTCOME_EVENTS))
    if kind is not None:
        stmt = stmt.where(Event.kind == kind)
    if occurred_at is not None:
        stmt = stmt.where(Event.occurred_at == occurred_at)
    return list(ctx.session.scalars(stmt.order_by(Event.occurred_at, Event.id)))


def _public(event: Event) -> OutcomePublic:
    refs, payload = event.refs or {}, event.payload or {}
    return OutcomePublic(
        id=event.id,
        person_id=int(event.person_id or 0),
        outcome=OutcomeKind(event.kind),
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        recorded_by=event.actor_name,
        note=str(payload.get("note", "")),
        destination=str(payload.get("destination", "")),
        hospital_site_id=refs.get("hospital"),
        ended_stay_id=refs.get("stay"),
        cancelled_transfer_request_id=refs.get("transfer_request"),
        on_batch_id=refs.get("batch"),
        stopped_home_monitoring_ids=[int(i) for i in refs.get("home_monitorings", [])],
    )
