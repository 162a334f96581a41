"""Reading stays (在隔人员): who is at a site, in which room, under which plan, with the next test day.

Scoped like the register: a user sees the stays of people in their jurisdiction, IDs masked.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from bihuan.core.context import Ctx
from bihuan.core.db import count_rows
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.isolation.models import IsolationStay, SiteFloor, SiteRoom
from bihuan.isolation.schemas import StayPublic
from bihuan.isolation.service.plans import central_end
from bihuan.isolation.service.sites import get_site
from bihuan.people.models import Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import TransferCategory


def list_stays(ctx: Ctx, site_id: int, page: Page, *, today: date) -> tuple[list[StayPublic], int]:
    """People in a stay at the site, by room (two queries)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    stmt = (
        select(IsolationStay, Person.name, Person.resident_id, SiteFloor.building, SiteFloor.number, SiteRoom.number)
        .join(Person, Person.id == IsolationStay.person_id)
        .outerjoin(SiteRoom, SiteRoom.id == IsolationStay.room_id)
        .outerjoin(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
        .where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
    )
    stmt = in_scope(ctx, stmt, IsolationStay.jurisdiction_id)
    count = count_rows(ctx.session, stmt)
    rows = ctx.session.execute(
        stmt.order_by(SiteFloor.building, SiteFloor.number, SiteRoom.number, IsolationStay.id)
        .offset(page.offset)
        .limit(page.page_size)
    )
    return [_public(row, today) for row in rows], count


def _public(row: Any, today: date) -> StayPublic:
    stay, name, resident_id, building, floor, room = row
    plan: dict[str, Any] = dict(stay.plan or {})
    return StayPublic(
        id=stay.id,
        person_id=stay.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        category=TransferCategory(stay.category),
        room=None if room is None else f"{building}-{floor}-{room}",
        carer_for=stay.carer_for,
        started_at=stay.started_at,
        last_exposure=stay.last_exposure,
        central_end=central_end(plan),
        next_test=_next_test(plan, today),
        plan=plan,
    )


def _next_test(plan: dict[str, Any], today: date) -> date | None:
    days = sorted(date.fromisoformat(t["on"]) for t in plan.get("tests", []))
    return next((day for day in days if day >= today), None)
