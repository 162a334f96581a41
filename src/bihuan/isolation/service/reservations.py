"""Reservations of rooms (预留): rooms held for someone (e.g. a batch announced by another city), nobody's
place until the reservation is released."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.isolation.choices import RoomStatus
from bihuan.isolation.models import SiteFloor, SiteRoom
from bihuan.isolation.schemas import ReservationRelease, RoomReserve
from bihuan.isolation.service.places import sync_places
from bihuan.isolation.service.sites import get_site


def reserve_rooms(ctx: Ctx, site_id: int, data: RoomReserve) -> list[SiteRoom]:
    """Hold free rooms for `reserved_for`: `count` on a floor in all, or the rooms named; an occupied
    room, one out of service or one held for someone else is refused naming it. Sent again: harmless."""
    require(ctx.actor, Permission.MANAGE_SITES)
    get_site(ctx, site_id)
    if data.floor_id is not None:
        rooms = _rooms_to_reserve_on_floor(ctx, site_id, data.floor_id, data.count, data.reserved_for)
    else:
        rooms = _rooms_to_reserve(ctx, site_id, data.room_ids, data.reserved_for)
    for room in rooms:
        room.status, room.reserved_for = RoomStatus.RESERVED.value, data.reserved_for
    _rooms_changed(ctx, site_id, rooms, reserved_for=data.reserved_for, reserved=[r.number for r in rooms])
    return rooms


def _rooms_to_reserve_on_floor(ctx: Ctx, site_id: int, floor_id: int, count: int, whom: str) -> list[SiteRoom]:
    floor = ctx.session.get(SiteFloor, floor_id)
    if floor is None or floor.site_id != site_id:
        raise NotFound(f"floor {floor_id} not found at this site")
    rooms = list(
        ctx.session.scalars(
            select(SiteRoom).where(SiteRoom.floor_id == floor_id).order_by(SiteRoom.position, SiteRoom.number)
        )
    )
    held = sum(1 for r in rooms if r.status == RoomStatus.RESERVED and r.reserved_for == whom)
    free = [r for r in rooms if r.status == RoomStatus.FREE]
    wanted = count - held
    if wanted > len(free):
        raise Conflict(f"count: floor {floor.building}-{floor.number} has {len(free)} free rooms, not {wanted}")
    return free[: max(wanted, 0)]


def _rooms_to_reserve(ctx: Ctx, site_id: int, room_ids: Sequence[int], whom: str) -> list[SiteRoom]:
    rooms = _named_rooms(ctx, site_id, room_ids)
    chosen = []
    for index, room in enumerate(rooms):
        where = f"room_ids[{index}]"
        if room.status == RoomStatus.RESERVED and room.reserved_for == whom:
            continue  # held for them already
        if room.status == RoomStatus.RESERVED:
            raise Conflict(f"{where}: room {room.number} is reserved for {room.reserved_for}")
        if room.status != RoomStatus.FREE:
            raise Conflict(f"{where}: room {room.number} is {room.status}")
        chosen.append(room)
    return chosen


def _named_rooms(ctx: Ctx, site_id: int, room_ids: Sequence[int]) -> list[SiteRoom]:
    """The rooms named, in the order given; one listed twice or not at this site is refused naming it."""
    found = {
        r.id: r
        for r in ctx.session.scalars(
            select(SiteRoom).where(SiteRoom.site_id == site_id, SiteRoom.id.in_(sorted(set(room_ids))))
        )
    }
    seen: set[int] = set()
    for index, room_id in enumerate(room_ids):
        if room_id in seen:
            raise FieldError(f"room_ids[{index}]", f"room {room_id} is listed twice")
        seen.add(room_id)
        if room_id not in found:
            raise FieldError(f"room_ids[{index}]", f"no room {room_id} at this site")
    return [found[room_id] for room_id in room_ids]


def release_reservation(ctx: Ctx, site_id: int, data: ReservationRelease) -> list[SiteRoom]:
    """Give reserved rooms back (free again): all those held for `reserved_for`, or the rooms named
    (a named room not reserved is left as it is, so sending it again is harmless)."""
    require(ctx.actor, Permission.MANAGE_SITES)
    get_site(ctx, site_id)
    if data.room_ids:
        rooms = [r for r in _named_rooms(ctx, site_id, data.room_ids) if r.status == RoomStatus.RESERVED]
    else:
        stmt = select(SiteRoom).where(
            SiteRoom.site_id == site_id,
            SiteRoom.status == RoomStatus.RESERVED.value,
            SiteRoom.reserved_for == data.reserved_for,
        )
        rooms = list(ctx.session.scalars(stmt))
    for room in rooms:
        room.status, room.reserved_for = RoomStatus.FREE.value, ""
    _rooms_changed(ctx, site_id, rooms, released=[r.number for r in rooms])
    return rooms


def _rooms_changed(ctx: Ctx, site_id: int, rooms: Sequence[SiteRoom], **payload: object) -> None:
    """Recount the places of the floors' categories and record what changed (nothing: no event)."""
    if not rooms:
        return
    ctx.session.flush()
    floor_ids = sorted({r.floor_id for r in rooms})
    categories = set(ctx.session.scalars(select(SiteFloor.category).where(SiteFloor.id.in_(floor_ids))))
    for category in sorted(categories):
        sync_places(ctx, site_id, category)
    record(ctx, EventKind.SITE_UPDATED, subject_type="site", subject_id=site_id, payload=payload)
