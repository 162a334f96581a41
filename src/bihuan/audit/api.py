"""HTTP API of the audit view."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from bihuan.audit import service
from bihuan.audit.schemas import EventPublic, EventsPublic
from bihuan.core.choices import EventKind
from bihuan.core.deps import UserCtx
from bihuan.people.schemas import Page

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("/events")
def list_events(
    ctx: UserCtx,
    page: Annotated[Page, Depends()],
    kind: EventKind | None = None,
    person_id: int | None = None,
    actor_name: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> EventsPublic:
    rows, count = service.list_events(
        ctx,
        page,
        kind=kind.value if kind else "",
        person_id=person_id,
        actor_name=actor_name,
        since=since,
        until=until,
    )
    return EventsPublic(data=[EventPublic.model_validate(r) for r in rows], count=count)
