"""Entering the queue: one open request per person, the most serious category, a pickup point, a time.

A person already on the road who becomes more serious (a close contact confirmed as a case) keeps
their batch; the request remembers the upgrade and the arrival moves them on from the site.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.grouping.choices import QueueSource, RequestStatus
from bihuan.grouping.models import TransferRequest
from bihuan.grouping.schemas import QueueOutcome
from bihuan.grouping.service._common import chunks
from bihuan.grouping.service.moving import back_to_queue, insert_requests
from bihuan.people.models import Address, Household, Jurisdiction, Person
from bihuan.people.service import in_scope
from bihuan.protocol import ProtocolProfile, TransferCategory


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One person to queue, in one category, and what put them there."""

    person_id: int
    category: TransferCategory
    source: QueueSource
    case_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Resident:
    jurisdiction_id: int
    household_id: int | None
    birth_date: date
    lat: float | None
    lon: float | None
    place: str


def check_queue_items(ctx: Ctx, items: Sequence[QueueItem]) -> None:
    """Refuse a hand-made request naming a person twice or a person not in the register."""
    seen: dict[int, int] = {}
    for index, item in enumerate(items):
        if item.person_id in seen:
            first = seen[item.person_id]
            raise FieldError(
                f"items[{index}].person_id", f"person {item.person_id} is listed twice (also items[{first}])"
            )
        seen[item.person_id] = index
    known = _residents(ctx, seen)
    for person_id, index in seen.items():
        if person_id not in known:
            raise FieldError(
                f"items[{index}].person_id", f"no person {person_id} in the register (or not in your jurisdiction)"
            )


def enqueue(ctx: Ctx, items: Sequence[QueueItem], profile: ProtocolProfile) -> QueueOutcome:
    """Queue people whose category the profile moves; one open request per person, the most serious category.

    Sending the same people again changes nothing; someone already delivered in the same or a more
    serious category is not moved again; someone whose death is recorded is never moved.
    """
    wanted, not_moved = _most_serious_per_person(items, profile)
    deceased = _deceased(ctx, wanted)
    not_moved += sorted(deceased)
    wanted = {person: item for person, item in wanted.items() if person not in deceased}
    residents = _residents(ctx, wanted)
    open_requests = _open_requests_of(ctx, wanted)
    delivered = _last_deliveries(ctx, [p for p in wanted if p not in open_requests])
    now = ctx.clock.now()
    new_rows: list[dict[str, Any]] = []
    upgraded: list[int] = []
    already: list[int] = []
    for person_id, item in wanted.items():
        request = open_requests.get(person_id)
        if person_id not in residents:
            not_moved.append(person_id)
        elif request is not None:
            (upgraded.append(request.id) if _upgrade(ctx, request, item, profile) else already.append(person_id))
        elif person_id in delivered and _covered(profile, item.category, delivered[person_id]):
            already.append(person_id)
        else:
            row = _new_request(item, residents[person_id], profile, now)
            new_rows.append(_from_where_delivered(row, delivered.get(person_id)))
    queued = insert_requests(ctx, new_rows)
    return QueueOutcome(queued=queued, upgraded=upgraded, already_queued=already, not_transferred=sorted(not_moved))


def _most_serious_per_person(
    items: Sequence[QueueItem], profile: ProtocolProfile
) -> tuple[dict[int, QueueItem], list[int]]:
    wanted: dict[int, QueueItem] = {}
    not_moved: list[int] = []
    rank = profile.transfer.rank
    for item in items:
        if profile.transfer.destination_of(item.category) is None:
            not_moved.append(item.person_id)
            continue
        held = wanted.get(item.person_id)
        if held is None or rank(item.category) < rank(held.category):
            wanted[item.person_id] = item
    return wanted, [p for p in dict.fromkeys(not_moved) if p not in wanted]


def _covered(profile: ProtocolProfile, category: TransferCategory, delivered: TransferRequest) -> bool:
    """Already delivered where this category goes, or in a more serious one (a case at hospital traced again)."""
    rank = profile.transfer.rank
    destination = profile.transfer.destination_of(category)
    return rank(TransferCategory(delivered.category)) <= rank(category) or delivered.destination == destination


def _from_where_delivered(row: dict[str, Any], delivered: TransferRequest | None) -> dict[str, Any]:
    """Someone moved on from a site (a quarantined contact now a case) is picked up at the site."""
    if delivered is None:
        return row
    pickup = {
        "pickup_lat": delivered.pickup_lat,
        "pickup_lon": delivered.pickup_lon,
        "pickup_text": delivered.pickup_text,
    }
    return {**row, **pickup, "source": QueueSource.RETURN.value}


def _new_request(item: QueueItem, resident: _Resident, profile: ProtocolProfile, now: datetime) -> dict[str, Any]:
    destination = profile.transfer.destination_of(item.category)
    assert destination is not None
    return {
        "person_id": item.person_id,
        "open_person_id": item.person_id,
        "jurisdiction_id": resident.jurisdiction_id,
        "household_id": resident.household_id,
        "category": item.category.value,
        "destination": destination.value,
        "status": RequestStatus.QUEUED.value,
        "source": item.source.value,
        "case_id": item.case_id,
        "vulnerable": profile.transfer.vulnerable.is_vulnerable(_age(resident.birth_date, now.date())),
        "pickup_lat": resident.lat,
        "pickup_lon": resident.lon,
        "pickup_text": resident.place,
        "queued_at": now,
        "updated_at": now,
        "returns": 0,
        "last_reason": "",
    }


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _upgrade(ctx: Ctx, request: TransferRequest, item: QueueItem, profile: ProtocolProfile) -> bool:
    """A person becomes more serious (a contact now a case): re-queue in the new category, or — already on
    the road — remember it, so that the arrival moves them on from the site."""
    rank = profile.transfer.rank
    pending = request.upgrade_to or request.category
    if rank(item.category) >= rank(TransferCategory(pending)):
        return False
    destination = profile.transfer.destination_of(item.category)
    assert destination is not None
    request.case_id = item.case_id or request.case_id
    request.updated_at = ctx.clock.now()
    if request.status in (RequestStatus.DISPATCHED, RequestStatus.PICKED_UP):
        request.upgrade_to, request.upgrade_destination = item.category.value, destination.value
        return True
    was_planned = request.status == RequestStatus.PLANNED
    request.category, request.destination = item.category.value, destination.value
    if was_planned:
        back_to_queue(ctx, [request], f"now {item.category.value}: re-grouped")
    return True


def _deceased(ctx: Ctx, person_ids: Iterable[int]) -> set[int]:
    """The people among these with a recorded death (``died``: final, see ``people.outcomes``)."""
    found: set[int] = set()
    for chunk in chunks(person_ids):
        stmt = select(Event.person_id).where(Event.kind == EventKind.DIED.value, Event.person_id.in_(chunk))
        found.update(int(p) for p in ctx.session.scalars(stmt) if p is not None)
    return found


def _residents(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, _Resident]:
    """Where each person is picked up: their address, else their household's, else their jurisdiction's."""
    own, home = aliased(Address), aliased(Address)
    found: dict[int, _Resident] = {}
    for chunk in chunks(person_ids):
        stmt = (
            select(
                Person.id,
                Person.jurisdiction_id,
                Person.household_id,
                Person.birth_date,
                func.coalesce(own.lat, home.lat, Jurisdiction.lat),
                func.coalesce(own.lon, home.lon, Jurisdiction.lon),
                func.coalesce(own.text, home.text, Jurisdiction.name),
            )
            .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
            .outerjoin(own, own.id == Person.address_id)
            .outerjoin(Household, Household.id == Person.household_id)
            .outerjoin(home, home.id == Household.address_id)
            .where(Person.id.in_(chunk))
        )
        for row in ctx.session.execute(in_scope(ctx, stmt, Person.jurisdiction_id)):
            found[row[0]] = _Resident(row[1], row[2], row[3], row[4], row[5], row[6] or "")
    return found


def _open_requests_of(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, TransferRequest]:
    found: dict[int, TransferRequest] = {}
    for chunk in chunks(person_ids):
        for request in ctx.session.scalars(select(TransferRequest).where(TransferRequest.open_person_id.in_(chunk))):
            found[request.person_id] = request
    return found


def _last_deliveries(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, TransferRequest]:
    """Each person's latest arrived request: where they were delivered (the pickup then holds the site)."""
    found: dict[int, TransferRequest] = {}
    for chunk in chunks(person_ids):
        stmt = (
            select(TransferRequest)
            .where(TransferRequest.person_id.in_(chunk), TransferRequest.status == RequestStatus.ARRIVED.value)
            .order_by(TransferRequest.closed_at, TransferRequest.id)
        )
        for request in ctx.session.scalars(stmt):
            found[request.person_id] = request
    return found
