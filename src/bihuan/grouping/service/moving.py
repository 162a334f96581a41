"""Moving through transfer (called by the transfer service, which authorises the act): onto a batch, on
the road, delivered, or back to the queue with the reason. Nobody is dropped between these states.

These changes are made for whoever shares the batch, whatever the acting user's jurisdiction: a
county team dispatching a vehicle moves every person on it. Each change names the batch, and a
request that has since left that batch (re-grouped, cancelled) is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import core_table
from bihuan.core.errors import FieldError
from bihuan.core.events import make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.grouping.choices import QueueSource, RequestStatus
from bihuan.grouping.models import TransferRequest
from bihuan.grouping.service._common import OPEN, chunks
from bihuan.grouping.service.reading import get_request

Place = tuple[float, float, str]  # lat, lon, what to call it


def requests_for_transfer(ctx: Ctx, request_ids: Iterable[int]) -> dict[int, TransferRequest]:
    """Requests by id for the transfer service's moves (not cut to the actor's jurisdiction)."""
    found: dict[int, TransferRequest] = {}
    for chunk in chunks(request_ids):
        found.update(
            {r.id: r for r in ctx.session.scalars(select(TransferRequest).where(TransferRequest.id.in_(chunk)))}
        )
    return found


def _on_batch(ctx: Ctx, request_ids: Iterable[int], batch_id: int) -> list[TransferRequest]:
    return [r for r in requests_for_transfer(ctx, request_ids).values() if r.batch_id == batch_id and r.status in OPEN]


def mark_planned(ctx: Ctx, batch_of_request: dict[int, int]) -> None:
    """Queued requests taken onto planned batches."""
    now = ctx.clock.now()
    for request in requests_for_transfer(ctx, batch_of_request).values():
        if request.status != RequestStatus.QUEUED:
            raise FieldError("request_ids", f"request {request.id} is {request.status}, not waiting in the queue")
        request.status, request.batch_id, request.updated_at = (
            RequestStatus.PLANNED.value,
            batch_of_request[request.id],
            now,
        )
        request.last_reason = ""


def mark(
    ctx: Ctx, request_ids: Iterable[int], status: RequestStatus, *, batch_id: int, place: Place | None = None
) -> list[TransferRequest]:
    """Requests moved on by their batch: dispatched, picked up, or arrived at `place` (which closes them and
    moves anyone who became more serious on the road on from there). Returns those it moved."""
    now = ctx.clock.now()
    moved = _on_batch(ctx, request_ids, batch_id)
    for request in moved:
        request.status, request.updated_at = status.value, now
        if status == RequestStatus.ARRIVED:
            request.open_person_id, request.closed_at = None, now
            if place is not None:
                request.pickup_lat, request.pickup_lon, request.pickup_text = place
    if status == RequestStatus.ARRIVED:
        requeue_upgraded(ctx, [r for r in moved if r.upgrade_to], now)
    return moved


def requeue_upgraded(ctx: Ctx, delivered: Sequence[TransferRequest], now: datetime) -> list[int]:
    """Queue again, from where they were delivered, the people who became more serious on the road."""
    if not delivered:
        return []
    ctx.session.flush()  # the delivered requests are closed before their successors open
    rows = [
        {
            **{c: getattr(r, c) for c in ("person_id", "jurisdiction_id", "household_id", "case_id", "vulnerable")},
            **{c: getattr(r, c) for c in ("pickup_lat", "pickup_lon", "pickup_text")},
            "open_person_id": r.person_id,
            "category": r.upgrade_to,
            "destination": r.upgrade_destination,
            "status": RequestStatus.QUEUED.value,
            "source": QueueSource.RETURN.value,
            "queued_at": now,
            "updated_at": now,
            "returns": 0,
            "last_reason": f"now {r.upgrade_to}: moved on from {r.pickup_text}"[:255],
        }
        for r in delivered
    ]
    return insert_requests(ctx, rows)


def note_unplaced(ctx: Ctx, reasons: dict[int, str]) -> None:
    """Why the last plan could not take these queued requests; they stay queued for the next plan."""
    for request in requests_for_transfer(ctx, reasons).values():
        request.last_reason = reasons[request.id][:255]


def return_to_queue(
    ctx: Ctx, request_ids: Iterable[int], reason: str, *, batch_id: int, pickup: tuple[float, float] | None = None
) -> list[TransferRequest]:
    """Hand people on `batch_id` back to the queue with the reason (a failed pick-up, a vehicle failure, a
    full site); those picked up are collected again at `pickup` when given. Returns those handed back."""
    requests = _on_batch(ctx, request_ids, batch_id)
    if pickup is not None:
        for request in requests:
            if request.status == RequestStatus.PICKED_UP:
                request.pickup_lat, request.pickup_lon = pickup
                request.pickup_text = f"{pickup[0]:.5f},{pickup[1]:.5f}"
    back_to_queue(ctx, requests, reason)
    return requests


def back_to_queue(ctx: Ctx, requests: Sequence[TransferRequest], reason: str) -> None:
    """Requests queued again with the reason, each with its ``returned_to_queue`` event."""
    now = ctx.clock.now()
    events = []
    for request in requests:
        events.append(
            make_event(
                ctx,
                EventKind.RETURNED_TO_QUEUE,
                person_id=request.person_id,
                jurisdiction_id=request.jurisdiction_id,
                subject_type="transfer_request",
                subject_id=request.id,
                refs={"batch": request.batch_id} if request.batch_id else {},
                payload={"reason": reason, "from": request.status, "category": request.category},
            )
        )
        if request.upgrade_to:  # not yet on the road after all: re-grouped in the new category
            request.category, request.destination = (
                request.upgrade_to,
                request.upgrade_destination or request.destination,
            )
            request.upgrade_to = request.upgrade_destination = None
        request.status, request.batch_id, request.updated_at = RequestStatus.QUEUED.value, None, now
        request.returns, request.last_reason = request.returns + 1, reason[:255]
    record_many(ctx, events)


def cancel(ctx: Ctx, request_id: int, reason: str) -> TransferRequest:
    """Take a queued person off the queue (e.g. moved to home isolation); a person on a batch is refused."""
    require(ctx.actor, Permission.PLAN_TRANSFER)
    request = get_request(ctx, request_id)
    if request.status == RequestStatus.CANCELLED:
        return request
    if request.status != RequestStatus.QUEUED:
        raise FieldError("status", f"request {request_id} is {request.status}: only a queued request can be cancelled")
    now = ctx.clock.now()
    request.status, request.open_person_id, request.closed_at = RequestStatus.CANCELLED.value, None, now
    request.updated_at, request.last_reason = now, reason[:255]
    cancelled = make_event(
        ctx,
        EventKind.TRANSFER_CANCELLED,
        person_id=request.person_id,
        jurisdiction_id=request.jurisdiction_id,
        subject_type="transfer_request",
        subject_id=request.id,
        payload={"reason": reason},
    )
    record_many(ctx, [cancelled])
    return request


def insert_requests(ctx: Ctx, rows: list[dict[str, Any]]) -> list[int]:
    """Insert new open requests with their ``transfer_queued`` events; a person queued meanwhile by
    another commit (the unique open request) is skipped, not an error."""
    if not rows:
        return []
    dialect = postgresql if ctx.session.get_bind().dialect.name == "postgresql" else sqlite
    table = core_table(TransferRequest)
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=["open_person_id"])
    inserted = {int(p): int(i) for p, i in ctx.session.execute(stmt.returning(table.c.person_id, table.c.id), rows)}
    record_many(
        ctx, [_queued_event(ctx, row, inserted[row["person_id"]]) for row in rows if row["person_id"] in inserted]
    )
    return [inserted[row["person_id"]] for row in rows if row["person_id"] in inserted]


def _queued_event(ctx: Ctx, row: dict[str, Any], request_id: int) -> Any:
    return make_event(
        ctx,
        EventKind.TRANSFER_QUEUED,
        person_id=row["person_id"],
        jurisdiction_id=row["jurisdiction_id"],
        subject_type="transfer_request",
        subject_id=request_id,
        refs={"case": row["case_id"]} if row["case_id"] else {},
        payload={"category": row["category"], "destination": row["destination"], "source": row["source"]},
    )
