"""HTTP API of the transfer queue (快编组): who waits, by category, since when; queue or cancel by hand."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from bihuan.core.deps import ProfileDep, UserCtx
from bihuan.core.permissions import Permission, require
from bihuan.grouping import service
from bihuan.grouping.choices import QueueSource, RequestStatus
from bihuan.grouping.schemas import CancelIn, QueueOutcome, QueueRequestIn, QueueSummary, RequestPublic, RequestsPublic
from bihuan.people.schemas import Page
from bihuan.protocol import TransferCategory

router = APIRouter(prefix="/api/transfer-queue", tags=["grouping"])
PageDep = Annotated[Page, Depends()]


@router.get("")
def list_queue(
    ctx: UserCtx,
    page: PageDep,
    status: RequestStatus | None = None,
    category: TransferCategory | None = None,
    batch_id: int | None = None,
) -> RequestsPublic:
    """Open requests in your jurisdiction (or those of one status or batch), longest waiting first."""
    rows, count = service.list_requests(ctx, page, status=status, category=category, batch_id=batch_id)
    return RequestsPublic(data=rows, count=count)


@router.get("/summary")
def queue_summary(ctx: UserCtx) -> QueueSummary:
    return service.summary(ctx)


@router.post("")
def queue_people(ctx: UserCtx, profile: ProfileDep, data: QueueRequestIn) -> QueueOutcome:
    """Queue people by hand; a person listed twice or unknown is refused; people already queued stay as they are."""
    require(ctx.actor, Permission.PLAN_TRANSFER)
    items = [service.QueueItem(i.person_id, i.category, QueueSource.BY_HAND) for i in data.items]
    service.check_queue_items(ctx, items)
    return service.enqueue(ctx, items, profile)


@router.post("/{request_id}/cancel")
def cancel_request(ctx: UserCtx, request_id: int, data: CancelIn) -> RequestPublic:
    """Take a queued person off the queue, with the reason."""
    request = service.cancel(ctx, request_id, data.reason)
    rows, _ = service.list_requests(ctx, Page(page=1, page_size=1), request_id=request.id)
    return rows[0]
