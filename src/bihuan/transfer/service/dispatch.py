"""Dispatch tracking (快转运): planned → dispatched → picked up → arrived, each hand-over timestamped.

Nobody is dropped between states: a person not picked up, on a vehicle that broke down, or on
their way to a site that reported full goes back to the queue with the reason, and may be
re-planned at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.grouping import service as queue
from bihuan.grouping.choices import RequestStatus
from bihuan.isolation import service as sites
from bihuan.protocol import ProtocolProfile
from bihuan.transfer.choices import BatchStatus, MemberStatus, VehicleStatus
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.service import planning
from bihuan.transfer.service import vehicles as fleet


def _batch(ctx: Ctx, batch_id: int) -> Batch:
    batch = ctx.session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"batch {batch_id} not found")
    return batch


def _members(ctx: Ctx, batch_id: int) -> list[BatchMember]:
    stmt = select(BatchMember).where(BatchMember.batch_id == batch_id).order_by(BatchMember.stop_index, BatchMember.id)
    return list(ctx.session.scalars(stmt))


def _member(ctx: Ctx, batch: Batch, person_id: int) -> BatchMember:
    member = ctx.session.scalar(
        select(BatchMember).where(BatchMember.batch_id == batch.id, BatchMember.person_id == person_id)
    )
    if member is None:
        raise NotFound(f"person {person_id} is not on batch {batch.code}")
    return member


def record_members(ctx: Ctx, kind: EventKind, batch: Batch, members: Iterable[BatchMember], **payload: object) -> None:
    record_many(
        ctx,
        [
            make_event(
                ctx,
                kind,
                person_id=m.person_id,
                jurisdiction_id=m.jurisdiction_id,
                subject_type="batch",
                subject_id=batch.id,
                refs={"batch": batch.id, "vehicle": batch.vehicle_id, "site": batch.site_id},
                payload={"category": batch.category, **payload},
            )
            for m in members
        ],
    )


def dispatch(ctx: Ctx, batch_id: int) -> Batch:
    """Send the vehicle: one batch on the road per vehicle, in its planned order; sending it again is harmless."""
    require(ctx.actor, Permission.DISPATCH)
    batch = _batch(ctx, batch_id)
    if batch.status == BatchStatus.DISPATCHED:
        return batch
    if batch.status != BatchStatus.PLANNED:
        raise Conflict(f"status: batch {batch.code} is {batch.status} and cannot be dispatched")
    vehicle = fleet.get_vehicle(ctx, batch.vehicle_id)
    if vehicle.status != VehicleStatus.AVAILABLE:
        raise Conflict(f"vehicle: {vehicle.code} is {vehicle.status}; re-plan the batch")
    _refuse_if_vehicle_busy(ctx, batch)
    members = _still_aboard(ctx, batch)
    now = ctx.clock.now()
    batch.status, batch.dispatched_at = BatchStatus.DISPATCHED.value, now
    queue.mark(ctx, [m.request_id for m in members], RequestStatus.DISPATCHED, batch_id=batch.id)
    record_members(ctx, EventKind.DISPATCHED, batch, members, vehicle=vehicle.code)
    complete_if_done(ctx, batch)
    return batch


def _refuse_if_vehicle_busy(ctx: Ctx, batch: Batch) -> None:
    on_road = ctx.session.scalar(
        select(Batch.code).where(
            Batch.vehicle_id == batch.vehicle_id, Batch.status == BatchStatus.DISPATCHED.value, Batch.id != batch.id
        )
    )
    if on_road is not None:
        raise Conflict(f"vehicle: still on batch {on_road}; record its arrival first")


def _still_aboard(ctx: Ctx, batch: Batch) -> list[BatchMember]:
    """Members whose request still belongs to this batch; the rest left it before dispatch (e.g. now a case)."""
    members = [m for m in _members(ctx, batch.id) if m.status == MemberStatus.PLANNED]
    requests = queue.requests_for_transfer(ctx, [m.request_id for m in members])
    now = ctx.clock.now()
    kept = []
    for member in members:
        request = requests.get(member.request_id)
        if request is not None and request.batch_id == batch.id:
            kept.append(member)
            continue
        member.status, member.returned_at = MemberStatus.RETURNED.value, now
        member.return_reason = (request.last_reason if request is not None else "") or "left the batch before dispatch"
    return kept


def pick_up(ctx: Ctx, batch_id: int, person_id: int) -> BatchMember:
    """The team has the person on board (已接到); recording it again is harmless."""
    require(ctx.actor, Permission.DISPATCH)
    batch = _batch(ctx, batch_id)
    member = _member(ctx, batch, person_id)
    if member.status == MemberStatus.PICKED_UP:
        return member
    if batch.status != BatchStatus.DISPATCHED:
        raise Conflict(f"status: batch {batch.code} is {batch.status}; dispatch it before picking people up")
    if member.status != MemberStatus.PLANNED:
        raise Conflict(f"status: person {person_id} is {member.status} on batch {batch.code}")
    if not queue.mark(ctx, [member.request_id], RequestStatus.PICKED_UP, batch_id=batch.id):
        _left_batch(ctx, [member])
        raise Conflict(f"status: person {person_id} has left batch {batch.code} ({member.return_reason})")
    member.status, member.picked_up_at = MemberStatus.PICKED_UP.value, ctx.clock.now()
    record_members(ctx, EventKind.PICKED_UP, batch, [member])
    return member


def _left_batch(ctx: Ctx, members: Sequence[BatchMember]) -> None:
    """Members whose request has moved on (re-grouped, cancelled): off this batch, the request untouched."""
    requests = queue.requests_for_transfer(ctx, [m.request_id for m in members])
    now = ctx.clock.now()
    for member in members:
        request = requests.get(member.request_id)
        member.status, member.returned_at = MemberStatus.RETURNED.value, now
        member.return_reason = ((request.last_reason if request else "") or "left the batch")[:255]


def not_picked_up(ctx: Ctx, batch_id: int, person_id: int, reason: str) -> BatchMember:
    """The person was not at the pickup (not home, refused, unwell): back to the queue with the reason."""
    require(ctx.actor, Permission.DISPATCH)
    batch = _batch(ctx, batch_id)
    member = _member(ctx, batch, person_id)
    if member.status == MemberStatus.RETURNED:
        return member
    if member.status != MemberStatus.PLANNED or batch.status not in planning.OPEN_BATCHES:
        raise Conflict(f"status: person {person_id} is {member.status} on batch {batch.code} ({batch.status})")
    hand_back(ctx, batch, [member], f"not picked up: {reason}")
    complete_if_done(ctx, batch)
    return member


def hand_back(
    ctx: Ctx, batch: Batch, members: Sequence[BatchMember], reason: str, *, pickup: tuple[float, float] | None = None
) -> list[int]:
    """Members off the batch and their requests back to the queue with the reason; returns the requests
    handed back (a member whose request had already left the batch is only taken off it)."""
    returned = queue.return_to_queue(ctx, [m.request_id for m in members], reason, batch_id=batch.id, pickup=pickup)
    now = ctx.clock.now()
    handed = {r.id for r in returned}
    for member in members:
        if member.request_id in handed:
            member.status, member.returned_at, member.return_reason = MemberStatus.RETURNED.value, now, reason[:255]
    _left_batch(ctx, [m for m in members if m.request_id not in handed])
    return sorted(handed)


def arrive(ctx: Ctx, profile: ProtocolProfile, batch_id: int, person_ids: Sequence[int] | None = None) -> Batch:
    """People handed over at the site (已送达): their stays start there, in rooms by the profile's rules; a
    whole-batch arrival sends back whoever was never picked up."""
    require(ctx.actor, Permission.DISPATCH)
    batch = _batch(ctx, batch_id)
    if batch.status == BatchStatus.COMPLETED:
        return batch
    if batch.status != BatchStatus.DISPATCHED:
        raise Conflict(f"status: batch {batch.code} is {batch.status}; only a dispatched batch arrives")
    members = _members(ctx, batch.id)
    arriving = _arriving(members, person_ids)
    now = ctx.clock.now()
    for member in arriving:
        member.status, member.arrived_at = MemberStatus.ARRIVED.value, now
    if arriving:
        site = sites.get_site(ctx, batch.site_id)
        place = (site.lat, site.lon, site.name)
        delivered = queue.mark(
            ctx, [m.request_id for m in arriving], RequestStatus.ARRIVED, batch_id=batch.id, place=place
        )
        record_members(ctx, EventKind.ARRIVED, batch, arriving)
        admissions = [sites.Admission(r.person_id, r.jurisdiction_id, r.household_id, r.vulnerable) for r in delivered]
        sites.admit_people(ctx, profile, batch.site_id, batch.category, admissions, {"batch": batch.id})
    if person_ids is None:
        missed = [m for m in members if m.status == MemberStatus.PLANNED]
        if missed:
            hand_back(ctx, batch, missed, "not picked up before the batch arrived")
    complete_if_done(ctx, batch)
    return batch


def _arriving(members: Sequence[BatchMember], person_ids: Sequence[int] | None) -> list[BatchMember]:
    if person_ids is None:
        return [m for m in members if m.status == MemberStatus.PICKED_UP]
    by_person = {m.person_id: m for m in members}
    arriving = []
    for index, person_id in enumerate(dict.fromkeys(person_ids)):
        member = by_person.get(person_id)
        if member is None:
            raise FieldError(f"person_ids[{index}]", f"person {person_id} is not on this batch")
        if member.status == MemberStatus.ARRIVED:
            continue
        if member.status != MemberStatus.PICKED_UP:
            raise FieldError(f"person_ids[{index}]", f"person {person_id} is {member.status}, not picked up")
        arriving.append(member)
    return arriving


def complete_if_done(ctx: Ctx, batch: Batch) -> None:
    if batch.status != BatchStatus.DISPATCHED:
        return
    if all(m.status in (MemberStatus.ARRIVED, MemberStatus.RETURNED) for m in _members(ctx, batch.id)):
        batch.status, batch.completed_at = BatchStatus.COMPLETED.value, ctx.clock.now()
