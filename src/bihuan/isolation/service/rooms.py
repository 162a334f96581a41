"""Floors, rooms and stays (快隔离): a site's rooms by floor and category, arrivals put in rooms.

Categories are separated by floor; two unrelated people never share a room; a person who needs a
carer shares with one adult of their household (the profile's exceptions). A site registered by
counts only (no rooms yet) still receives people: their stays have no room until one is given.
Reservations (预留) are in `reservations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import EventRecord, make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.isolation.choices import RoomStatus, StayStatus
from bihuan.isolation.engine import Arrival, FreeRoom, Placement, RoomRules, assign_rooms
from bihuan.isolation.models import IsolationSite, IsolationStay, SiteFloor, SiteRoom
from bihuan.isolation.schemas import FloorCreate, FloorPublic
from bihuan.isolation.service.leaving import end_stays
from bihuan.isolation.service.places import has_rooms, sync_places
from bihuan.isolation.service.sites import admit, check_category, get_site
from bihuan.isolation.service.testing import schedule_plan_tests
from bihuan.protocol import ContactCategory, DestinationKind, ProtocolProfile, TransferCategory
from bihuan.tracing.service import contacts


@dataclass(frozen=True, slots=True)
class Admission:
    """A person handed over at a site by transfer."""

    person_id: int
    jurisdiction_id: int
    household_id: int | None
    needs_carer: bool


def room_rules(profile: ProtocolProfile) -> RoomRules:
    sites = profile.sites
    return RoomRules(
        carers_per_room=sites.carers_per_room,
        carers_allowed=bool(sites.carer_allowed_for),
        households_share_rooms=sites.households_share_rooms,
    )


def add_floor(ctx: Ctx, profile: ProtocolProfile, site_id: int, data: FloorCreate) -> SiteFloor:
    """A floor of one category with its rooms; sending the same floor again adds only the rooms it lacks."""
    require(ctx.actor, Permission.MANAGE_SITES)
    site = get_site(ctx, site_id)
    check_category(profile, DestinationKind(site.kind), data.category, "category")
    _check_rooms(profile, data)
    floor = ctx.session.scalar(
        select(SiteFloor).where(
            SiteFloor.site_id == site.id, SiteFloor.building == data.building, SiteFloor.number == data.number
        )
    )
    if floor is None:
        floor = SiteFloor(site_id=site.id, building=data.building, number=data.number, category=data.category.value)
        ctx.session.add(floor)
        ctx.session.flush()
    elif floor.category != data.category:
        raise Conflict(f"category: floor {data.building}-{data.number} holds {floor.category} people already")
    have = set(ctx.session.scalars(select(SiteRoom.number).where(SiteRoom.floor_id == floor.id)))
    last = ctx.session.scalar(select(func.max(SiteRoom.position)).where(SiteRoom.floor_id == floor.id)) or 0
    new_rooms = [room for room in data.rooms if room.number not in have]
    for position, room in enumerate(new_rooms, start=last + 1):  # rooms added later continue the corridor
        ctx.session.add(
            SiteRoom(
                site_id=site.id,
                floor_id=floor.id,
                number=room.number,
                position=position if room.position is None else room.position,
                private_bathroom=room.private_bathroom,
                accessible=room.accessible,
                status=RoomStatus.FREE.value,
            )
        )
    ctx.session.flush()
    sync_places(ctx, site.id, data.category.value)
    return floor


def _check_rooms(profile: ProtocolProfile, data: FloorCreate) -> None:
    seen: set[str] = set()
    for index, room in enumerate(data.rooms):
        if room.number in seen:
            raise FieldError(f"rooms[{index}].number", f"room {room.number} is listed twice")
        seen.add(room.number)
        if profile.sites.private_bathroom and not room.private_bathroom:
            raise FieldError(
                f"rooms[{index}].private_bathroom", "the profile requires a private bathroom in every room"
            )


def _free_rooms(ctx: Ctx, site_id: int, category: str) -> list[FreeRoom]:
    stmt = (
        select(SiteRoom.id, SiteRoom.floor_id, SiteRoom.number, SiteRoom.accessible)
        .join(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
        .where(SiteRoom.site_id == site_id, SiteFloor.category == category, SiteRoom.status == RoomStatus.FREE.value)
    )
    return [FreeRoom(int(i), int(f), str(n), bool(a)) for i, f, n, a in ctx.session.execute(stmt)]


def admit_people(
    ctx: Ctx,
    profile: ProtocolProfile,
    site_id: int,
    category: str,
    people: Sequence[Admission],
    refs: dict[str, int] | None = None,
) -> list[Placement]:
    """People arrived (the transfer's arrival calls this): a stay each, a room per party, ``isolation_started``."""
    site = ctx.session.get(IsolationSite, site_id)
    if site is None:
        raise NotFound(f"site {site_id} not found")
    with_rooms = has_rooms(ctx, site_id, category)
    arrivals = [Arrival(p.person_id, p.household_id, p.needs_carer) for p in people]
    if with_rooms:
        placements = assign_rooms(arrivals, _free_rooms(ctx, site_id, category), room_rules(profile))
    else:
        placements = [Placement(a.person_id, None) for a in arrivals]
    stays = _open_stays(ctx, site, category, people, placements, refs or {})
    schedule_plan_tests(ctx, profile, stays)
    if with_rooms:
        _occupy([p.room_id for p in placements if p.room_id is not None], ctx)
        sync_places(ctx, site_id, category)
    else:
        admit(ctx, site_id, category, len(people))
    return placements


def _open_stays(
    ctx: Ctx,
    site: IsolationSite,
    category: str,
    people: Sequence[Admission],
    placements: Sequence[Placement],
    refs: dict[str, int],
) -> list[IsolationStay]:
    by_person = {p.person_id: p for p in people}
    _close_earlier_stays(ctx, list(by_person))
    plans = _plans(ctx, category, list(by_person))
    now = ctx.clock.now()
    stays = []
    for placement in placements:
        person = by_person[placement.person_id]
        plan = plans.get(person.person_id, {})
        stay = IsolationStay(
            person_id=person.person_id,
            open_person_id=person.person_id,
            jurisdiction_id=person.jurisdiction_id,
            household_id=person.household_id,
            site_id=site.id,
            room_id=placement.room_id,
            category=category,
            carer_for=placement.carer_for,
            status=StayStatus.IN_STAY.value,
            started_at=now,
            last_exposure=date.fromisoformat(plan["last_exposure_date"]) if plan else None,
            plan=plan,
        )
        ctx.session.add(stay)
        stays.append(stay)
    ctx.session.flush()
    record_many(ctx, [_started(ctx, stay, refs) for stay in stays])
    return stays


def _plans(ctx: Ctx, category: str, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The quarantine plan each contact's last exposure set (快流调 stored it); cases and others have none here."""
    if category not in set(ContactCategory):
        return {}
    return contacts.plans_of(ctx, person_ids, ContactCategory(category))


def _close_earlier_stays(ctx: Ctx, person_ids: Sequence[int]) -> None:
    """Someone moved on from one site to another (a contact now a case) leaves their earlier stay."""
    earlier = list(ctx.session.scalars(select(IsolationStay).where(IsolationStay.open_person_id.in_(person_ids))))
    end_stays(ctx, earlier, StayStatus.MOVED_ON)


def _started(ctx: Ctx, stay: IsolationStay, refs: dict[str, int]) -> EventRecord:
    return make_event(
        ctx,
        EventKind.ISOLATION_STARTED,
        person_id=stay.person_id,
        jurisdiction_id=stay.jurisdiction_id,
        subject_type="stay",
        subject_id=stay.id,
        refs={**refs, "site": stay.site_id, **({"room": stay.room_id} if stay.room_id else {})},
        payload={"category": stay.category, "carer_for": stay.carer_for},
    )


def _occupy(room_ids: Sequence[int], ctx: Ctx) -> None:
    for room in ctx.session.scalars(select(SiteRoom).where(SiteRoom.id.in_(sorted(set(room_ids))))):
        room.status = RoomStatus.OCCUPIED.value


def move_to_room(ctx: Ctx, site_id: int, stay_id: int, room_id: int) -> IsolationStay:
    """Put a person in another room; refused when it breaks a separation rule, naming the rule."""
    require(ctx.actor, Permission.MANAGE_SITES)
    stay = ctx.session.get(IsolationStay, stay_id)
    room = ctx.session.get(SiteRoom, room_id)
    if stay is None or stay.open_person_id is None or stay.site_id != site_id:
        raise NotFound(f"stay {stay_id} not found")
    if room is None or room.site_id != stay.site_id:
        raise NotFound(f"room {room_id} not found at this site")
    if stay.room_id == room.id:
        return stay  # the same move sent again
    if room.status not in (RoomStatus.FREE, RoomStatus.OCCUPIED):
        raise FieldError("room_id", f"room {room.number} is {room.status}")
    floor = ctx.session.get(SiteFloor, room.floor_id)
    assert floor is not None
    if floor.category != stay.category:
        raise FieldError("room_id", f"categories are separated by floor: this floor holds {floor.category} people")
    _refuse_unrelated(ctx, stay, room)
    old_room = stay.room_id
    stay.room_id, room.status = room.id, RoomStatus.OCCUPIED.value
    ctx.session.flush()
    if old_room is not None:
        previous = ctx.session.get(SiteRoom, old_room)
        if previous is not None and not _room_taken(ctx, old_room):
            previous.status = RoomStatus.FREE.value
    sync_places(ctx, stay.site_id, stay.category)
    return stay


def _refuse_unrelated(ctx: Ctx, stay: IsolationStay, room: SiteRoom) -> None:
    occupants = list(
        ctx.session.scalars(
            select(IsolationStay).where(
                IsolationStay.room_id == room.id, IsolationStay.open_person_id.is_not(None), IsolationStay.id != stay.id
            )
        )
    )
    for other in occupants:
        related = other.household_id is not None and other.household_id == stay.household_id
        if not related or not (stay.carer_for == other.person_id or other.carer_for == stay.person_id):
            raise FieldError(
                "room_id", "two unrelated people never share a room (only a carer with the person cared for)"
            )


def _room_taken(ctx: Ctx, room_id: int) -> bool:
    stmt = select(IsolationStay.id).where(IsolationStay.room_id == room_id, IsolationStay.open_person_id.is_not(None))
    return ctx.session.scalar(stmt.limit(1)) is not None


def list_floors(ctx: Ctx, site_id: int) -> list[FloorPublic]:
    """A site's floors with their rooms free, occupied, reserved and out of service (two queries)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    floors = list(
        ctx.session.scalars(
            select(SiteFloor).where(SiteFloor.site_id == site_id).order_by(SiteFloor.building, SiteFloor.number)
        )
    )
    counts: dict[tuple[int, str], int] = {}
    stmt = (
        select(SiteRoom.floor_id, SiteRoom.status, func.count())
        .where(SiteRoom.site_id == site_id)
        .group_by(SiteRoom.floor_id, SiteRoom.status)
    )
    for floor_id, status, n in ctx.session.execute(stmt):
        counts[(int(floor_id), str(status))] = int(n)
    return [
        FloorPublic(
            id=f.id,
            building=f.building,
            number=f.number,
            category=TransferCategory(f.category),
            free=counts.get((f.id, RoomStatus.FREE.value), 0),
            occupied=counts.get((f.id, RoomStatus.OCCUPIED.value), 0),
            reserved=counts.get((f.id, RoomStatus.RESERVED.value), 0),
            out_of_service=counts.get((f.id, RoomStatus.OUT_OF_SERVICE.value), 0),
        )
        for f in floors
    ]
