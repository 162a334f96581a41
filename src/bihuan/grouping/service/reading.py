"""Reading the queue: the board's lists and counts, and the planner's view of who waits where."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from bihuan.core.context import Ctx
from bihuan.core.db import count_rows
from bihuan.core.errors import NotFound
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.grouping.choices import OPEN_STATUSES, RequestStatus
from bihuan.grouping.engine import Traveller
from bihuan.grouping.models import TransferRequest
from bihuan.grouping.schemas import QueueCount, QueueSummary, RequestPublic
from bihuan.grouping.service._common import OPEN, chunks
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import TransferCategory

_CATEGORY_ORDER = list(TransferCategory)


def get_request(ctx: Ctx, request_id: int) -> TransferRequest:
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = in_scope(
        ctx, select(TransferRequest).where(TransferRequest.id == request_id), TransferRequest.jurisdiction_id
    )
    request = ctx.session.scalar(stmt)
    if request is None:
        raise NotFound(f"transfer request {request_id} not found")
    return request


def open_request_of(ctx: Ctx, person_id: int) -> TransferRequest | None:
    """The person's open request (queued, planned, on the road), if any, whatever the actor's jurisdiction:
    for a recorded end of the person's loop, which takes them off the queue."""
    return ctx.session.scalar(select(TransferRequest).where(TransferRequest.open_person_id == person_id))


def requests_by_id(ctx: Ctx, request_ids: Iterable[int]) -> dict[int, TransferRequest]:
    """Requests by id, in the actor's jurisdiction (others are left out)."""
    found: dict[int, TransferRequest] = {}
    for chunk in chunks(request_ids):
        stmt = in_scope(
            ctx, select(TransferRequest).where(TransferRequest.id.in_(chunk)), TransferRequest.jurisdiction_id
        )
        found.update({r.id: r for r in ctx.session.scalars(stmt)})
    return found


def waiting(
    ctx: Ctx, *, categories: Sequence[TransferCategory] = (), request_ids: Sequence[int] | None = None
) -> list[TransferRequest]:
    """Requests queued and on no batch, longest waiting first: all of them, some categories, or named ones."""
    stmt = select(TransferRequest).where(TransferRequest.status == RequestStatus.QUEUED.value)
    if categories:
        stmt = stmt.where(TransferRequest.category.in_([c.value for c in categories]))
    stmt = in_scope(ctx, stmt, TransferRequest.jurisdiction_id)
    if request_ids is None:
        return list(ctx.session.scalars(stmt.order_by(TransferRequest.queued_at, TransferRequest.id)))
    found = [r for chunk in chunks(request_ids) for r in ctx.session.scalars(stmt.where(TransferRequest.id.in_(chunk)))]
    return sorted(found, key=lambda r: (r.queued_at, r.id))


NO_PICKUP = "no_pickup_location"


def traveller_of(request: TransferRequest, now: datetime) -> Traveller | None:
    """The queue entry as the planner sees it (pickup point, household, category, urgency); None without a pickup."""
    if request.pickup_lat is None or request.pickup_lon is None:
        return None
    return Traveller(
        person_id=request.person_id,
        category=request.category,
        lat=request.pickup_lat,
        lon=request.pickup_lon,
        household=_household_at_pickup(request),
        waited_minutes=max((now - request.queued_at).total_seconds() / 60, 0.0),
        vulnerable=request.vulnerable,
    )


def _household_at_pickup(request: TransferRequest) -> str | None:
    """Household members ride together when picked up at one place; one collected elsewhere (after a
    breakdown) rides apart."""
    if request.household_id is None:
        return None
    return f"h{request.household_id}@{request.pickup_lat:.5f},{request.pickup_lon:.5f}"


def list_requests(
    ctx: Ctx,
    page: Page,
    *,
    status: RequestStatus | None = None,
    category: TransferCategory | None = None,
    batch_id: int | None = None,
    request_id: int | None = None,
) -> tuple[list[RequestPublic], int]:
    """The queue in the actor's jurisdiction, longest waiting first; open requests unless a status is asked."""
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = _public_select()
    if request_id is not None:
        stmt = stmt.where(TransferRequest.id == request_id)
    elif status is not None:
        stmt = stmt.where(TransferRequest.status == status.value)
    elif batch_id is None:
        stmt = stmt.where(TransferRequest.status.in_(OPEN))
    if category is not None:
        stmt = stmt.where(TransferRequest.category == category.value)
    if batch_id is not None:
        stmt = stmt.where(TransferRequest.batch_id == batch_id)
    stmt = in_scope(ctx, stmt, TransferRequest.jurisdiction_id)
    count = count_rows(ctx.session, stmt)
    rows = ctx.session.execute(
        stmt.order_by(TransferRequest.queued_at, TransferRequest.id).offset(page.offset).limit(page.page_size)
    )
    now = ctx.clock.now()
    return [_public(row, now) for row in rows], count


def _public_select() -> Any:
    return (
        select(TransferRequest, Person.name, Person.resident_id, Jurisdiction.name)
        .join(Person, Person.id == TransferRequest.person_id)
        .join(Jurisdiction, Jurisdiction.id == TransferRequest.jurisdiction_id)
    )


def _public(row: Any, now: datetime) -> RequestPublic:
    request, name, resident_id, place = row
    return RequestPublic(
        id=request.id,
        person_id=request.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        jurisdiction_name=place,
        household_id=request.household_id,
        category=request.category,
        destination=request.destination,
        status=request.status,
        source=request.source,
        vulnerable=request.vulnerable,
        pickup_lat=request.pickup_lat,
        pickup_lon=request.pickup_lon,
        pickup_text=request.pickup_text,
        queued_at=request.queued_at,
        waited_minutes=round(max((now - request.queued_at).total_seconds() / 60, 0.0), 1),
        batch_id=request.batch_id,
        returns=request.returns,
        last_reason=request.last_reason,
    )


def summary(ctx: Ctx) -> QueueSummary:
    """People by category and status (open requests), with the oldest queue time of each."""
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = select(
        TransferRequest.category, TransferRequest.status, func.count(), func.min(TransferRequest.queued_at)
    ).where(TransferRequest.status.in_(OPEN))
    stmt = in_scope(ctx, stmt, TransferRequest.jurisdiction_id).group_by(
        TransferRequest.category, TransferRequest.status
    )
    counts = [
        QueueCount(category=c, status=s, people=n, oldest_queued_at=oldest)
        for c, s, n, oldest in ctx.session.execute(stmt)
    ]
    counts.sort(key=lambda c: (_CATEGORY_ORDER.index(c.category), OPEN_STATUSES.index(c.status)))
    queued = sum(c.people for c in counts if c.status == RequestStatus.QUEUED)
    return QueueSummary(counts=counts, waiting=queued, in_transit=sum(c.people for c in counts) - queued)
