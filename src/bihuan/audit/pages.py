"""The audit page: every change, newest first, read from the event log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bihuan.audit import service
from bihuan.core.deps import UserCtx
from bihuan.people.schemas import Page
from bihuan.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(ctx: UserCtx, request: Request, kind: str = "", page: int = 1) -> Response:
    events, count = service.list_events(ctx, Page(page=max(page, 1), page_size=50), kind=kind)
    return render(
        request,
        "audit/events.html",
        {"events": events, "count": count, "page": max(page, 1), "page_size": 50, "kind": kind},
    )
