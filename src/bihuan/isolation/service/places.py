"""A site's places counted from its rooms (床位): the usable rooms of a category's floors, and how many are taken."""

from __future__ import annotations

from sqlalchemy import func, select

from bihuan.core.context import Ctx
from bihuan.isolation.choices import RoomStatus
from bihuan.isolation.models import SiteFloor, SitePlaces, SiteRoom


def sync_places(ctx: Ctx, site_id: int, category: str) -> None:
    """A site with rooms offers as many places of a category as its usable rooms on that category's floors."""
    usable = [RoomStatus.FREE.value, RoomStatus.OCCUPIED.value]
    counts = dict(
        ctx.session.execute(
            select(SiteRoom.status, func.count())
            .join(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
            .where(SiteRoom.site_id == site_id, SiteFloor.category == category, SiteRoom.status.in_(usable))
            .group_by(SiteRoom.status)
        ).all()
    )
    row = ctx.session.scalar(select(SitePlaces).where(SitePlaces.site_id == site_id, SitePlaces.category == category))
    if row is None:
        row = SitePlaces(site_id=site_id, category=category, places=0, occupied=0)
        ctx.session.add(row)
    row.places = sum(counts.values())
    row.occupied = counts.get(RoomStatus.OCCUPIED.value, 0)


def has_rooms(ctx: Ctx, site_id: int, category: str) -> bool:
    """Whether the site keeps this category room by room (else it is counted without rooms)."""
    stmt = select(SiteFloor.id).where(SiteFloor.site_id == site_id, SiteFloor.category == category).limit(1)
    return ctx.session.scalar(stmt) is not None
