"""The audit view (审计): every change, read from the event log, inside the reader's jurisdiction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select

from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.core.permissions import Permission, require
from bihuan.people.models import Jurisdiction
from bihuan.people.schemas import Page


def list_events(
    ctx: Ctx,
    page: Page,
    *,
    kind: str = "",
    person_id: int | None = None,
    actor_name: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[Event], int]:
    """Newest first. A scoped reader sees the events of their subtree only (not province-wide ones)."""
    require(ctx.actor, Permission.READ_AUDIT)
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise FieldError(name, "needs a time zone, e.g. 2021-12-10T08:00:00+08:00")
    stmt = select(Event)
    if ctx.actor.jurisdiction_path:
        subtree = select(Jurisdiction.id).where(Jurisdiction.path.startswith(ctx.actor.jurisdiction_path))
        stmt = stmt.where(or_(Event.jurisdiction_id.in_(subtree), Event.actor_id == ctx.actor.user_id))
    if kind:
        stmt = stmt.where(Event.kind == kind)
    if person_id is not None:
        stmt = stmt.where(Event.person_id == person_id)
    if actor_name:
        stmt = stmt.where(Event.actor_name == actor_name)
    if since is not None:
        stmt = stmt.where(Event.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(Event.occurred_at < until)
    count = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = ctx.session.scalars(stmt.order_by(Event.id.desc()).limit(page.page_size).offset(page.offset))
    return list(rows), count
