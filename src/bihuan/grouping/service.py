"""Use cases of the transfer queue (快编组): who waits to be moved, from where, and since when.

Confirmed cases and contacts enter from their events (see `reactions`); transfer takes them onto
batches and hands them back here when a pick-up fails, a vehicle breaks down or a site is full.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import core_table, count_rows
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.events import make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.grouping.choices import OPEN_STATUSES, QueueSource, RequestStatus
from bihuan.grouping.engine import Traveller
from bihuan.grouping.models import TransferRequest
from bihuan.grouping.schemas import QueueCount, QueueOutcome, QueueSummary, RequestPublic
from bihuan.people.models import Address, Household, Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import ProtocolProfile, TransferCategory

_CHUNK = 1000
_OPEN = [s.value for s in OPEN_STATUSES]
# The more serious category wins when one person is queued twice (a close contact who becomes a case).
_PRECEDENCE = {
    TransferCategory.CONFIRMED: 0,
    TransferCategory.CLOSE_CONTACT: 1,
    TransferCategory.INBOUND: 2,
    TransferCategory.SECONDARY_CONTACT: 3,
    TransferCategory.COMPANION: 4,
    TransferCategory.SEALED_RESIDENT: 5,
    TransferCategory.GENERAL_CONTACT: 6,
}


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


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    keys = sorted(set(ids))
    return [keys[i : i + _CHUNK] for i in range(0, len(keys), _CHUNK)]


# -- entering the queue --------------------------------------------------------------------------


def check_queue_items(ctx: Ctx, items: Sequence[QueueItem]) -> None:
    """Refuse a hand-made request naming a person twice or a person not in the register."""
    seen: dict[int, int] = {}
    for index, item in enumerate(items):
        if item.person_id in seen:
            raise FieldError(
                f"items[{index}].person_id",
                f"person {item.person_id} is listed twice (also items[{seen[item.person_id]}])",
            )
        seen[item.person_id] = index
    known = _residents(ctx, seen)
    for person_id, index in seen.items():
        if person_id not in known:
            raise FieldError(
                f"items[{index}].person_id", f"no person {person_id} in the register (or not in your jurisdiction)"
            )


def enqueue(ctx: Ctx, items: Sequence[QueueItem], profile: ProtocolProfile) -> QueueOutcome:
    """Queue people whose category the profile moves; one open request per person, the most serious category."""
    wanted, not_moved = _most_serious_per_person(items, profile)
    residents = _residents(ctx, wanted)
    open_requests = _open_requests_of(ctx, wanted)
    now = ctx.clock.now()
    new_rows: list[dict[str, Any]] = []
    upgraded: list[int] = []
    already: list[int] = []
    for person_id, item in wanted.items():
        request = open_requests.get(person_id)
        resident = residents.get(person_id)
        if resident is None:
            not_moved.append(person_id)
        elif request is None:
            new_rows.append(_new_request(item, resident, profile, now))
        elif _PRECEDENCE[item.category] < _PRECEDENCE[TransferCategory(request.category)] and _upgrade(
            ctx, request, item, profile
        ):
            upgraded.append(request.id)
        else:
            already.append(person_id)
    queued = _insert_requests(ctx, new_rows)
    return QueueOutcome(queued=queued, upgraded=upgraded, already_queued=already, not_transferred=sorted(not_moved))


def _most_serious_per_person(
    items: Sequence[QueueItem], profile: ProtocolProfile
) -> tuple[dict[int, QueueItem], list[int]]:
    wanted: dict[int, QueueItem] = {}
    not_moved: list[int] = []
    for item in items:
        if profile.transfer.destination_of(item.category) is None:
            not_moved.append(item.person_id)
            continue
        held = wanted.get(item.person_id)
        if held is None or _PRECEDENCE[item.category] < _PRECEDENCE[held.category]:
            wanted[item.person_id] = item
    return wanted, [p for p in dict.fromkeys(not_moved) if p not in wanted]


def _new_request(item: QueueItem, resident: _Resident, profile: ProtocolProfile, now: datetime) -> dict[str, Any]:
    destination = profile.transfer.destination_of(item.category)
    assert destination is not None
    lat, lon = resident.lat, resident.lon
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
        "pickup_lat": lat,
        "pickup_lon": lon,
        "pickup_text": resident.place,
        "queued_at": now,
        "updated_at": now,
        "returns": 0,
        "last_reason": "",
    }


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _insert_requests(ctx: Ctx, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    table = core_table(TransferRequest)
    ctx.session.execute(insert(table), rows)
    ids = _open_ids_of(ctx, [row["person_id"] for row in rows])
    record_many(
        ctx,
        [
            make_event(
                ctx,
                EventKind.TRANSFER_QUEUED,
                person_id=row["person_id"],
                jurisdiction_id=row["jurisdiction_id"],
                subject_type="transfer_request",
                subject_id=ids[row["person_id"]],
                refs={"case": row["case_id"]} if row["case_id"] else {},
                payload={"category": row["category"], "destination": row["destination"], "source": row["source"]},
            )
            for row in rows
        ],
    )
    return [ids[row["person_id"]] for row in rows]


def _upgrade(ctx: Ctx, request: TransferRequest, item: QueueItem, profile: ProtocolProfile) -> bool:
    """A queued or planned person becomes more serious (a contact now a case): re-queue in the new category.

    A person already on the road keeps their batch; the arrival hands them on from the site.
    """
    if request.status not in (RequestStatus.QUEUED, RequestStatus.PLANNED):
        return False
    destination = profile.transfer.destination_of(item.category)
    assert destination is not None
    was_planned = request.status == RequestStatus.PLANNED
    request.category, request.destination = item.category.value, destination.value
    request.case_id = item.case_id or request.case_id
    if was_planned:
        _back_to_queue(ctx, [request], f"now {item.category.value}: re-grouped")
    request.updated_at = ctx.clock.now()
    return True


# -- reading the queue ---------------------------------------------------------------------------


def _residents(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, _Resident]:
    """Where each person is picked up: their address, else their household's, else their jurisdiction's."""
    own, home = aliased(Address), aliased(Address)
    found: dict[int, _Resident] = {}
    for chunk in _chunks(person_ids):
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
    for chunk in _chunks(person_ids):
        for request in ctx.session.scalars(select(TransferRequest).where(TransferRequest.open_person_id.in_(chunk))):
            found[request.person_id] = request
    return found


def _open_ids_of(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for chunk in _chunks(person_ids):
        stmt = select(TransferRequest.person_id, TransferRequest.id).where(TransferRequest.open_person_id.in_(chunk))
        found.update({int(p): int(i) for p, i in ctx.session.execute(stmt)})
    return found


def get_request(ctx: Ctx, request_id: int) -> TransferRequest:
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = in_scope(
        ctx, select(TransferRequest).where(TransferRequest.id == request_id), TransferRequest.jurisdiction_id
    )
    request = ctx.session.scalar(stmt)
    if request is None:
        raise NotFound(f"transfer request {request_id} not found")
    return request


def requests_by_id(ctx: Ctx, request_ids: Iterable[int]) -> dict[int, TransferRequest]:
    """Requests by id, in the actor's jurisdiction (others are left out)."""
    found: dict[int, TransferRequest] = {}
    for chunk in _chunks(request_ids):
        stmt = in_scope(
            ctx, select(TransferRequest).where(TransferRequest.id.in_(chunk)), TransferRequest.jurisdiction_id
        )
        found.update({r.id: r for r in ctx.session.scalars(stmt)})
    return found


def waiting(
    ctx: Ctx, *, categories: Sequence[TransferCategory] = (), request_ids: Sequence[int] | None = None
) -> list[TransferRequest]:
    """Requests queued and on no batch, longest waiting first (the vulnerable first among equals)."""
    stmt = select(TransferRequest).where(TransferRequest.status == RequestStatus.QUEUED.value)
    if categories:
        stmt = stmt.where(TransferRequest.category.in_([c.value for c in categories]))
    stmt = in_scope(ctx, stmt, TransferRequest.jurisdiction_id).order_by(TransferRequest.queued_at, TransferRequest.id)
    if request_ids is None:
        return list(ctx.session.scalars(stmt))
    wanted = set(request_ids)
    return [r for r in ctx.session.scalars(stmt) if r.id in wanted]


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
        household=None if request.household_id is None else f"h{request.household_id}",
        waited_minutes=max((now - request.queued_at).total_seconds() / 60, 0.0),
        vulnerable=request.vulnerable,
    )


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
        stmt = stmt.where(TransferRequest.status.in_(_OPEN))
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
    ).where(TransferRequest.status.in_(_OPEN))
    stmt = in_scope(ctx, stmt, TransferRequest.jurisdiction_id).group_by(
        TransferRequest.category, TransferRequest.status
    )
    counts = [
        QueueCount(category=c, status=s, people=n, oldest_queued_at=oldest)
        for c, s, n, oldest in ctx.session.execute(stmt)
    ]
    counts.sort(key=lambda c: (_PRECEDENCE[c.category], OPEN_STATUSES.index(c.status)))
    queued = sum(c.people for c in counts if c.status == RequestStatus.QUEUED)
    return QueueSummary(counts=counts, waiting=queued, in_transit=sum(c.people for c in counts) - queued)


# -- moving through transfer (called by the transfer service) ------------------------------------


def mark_planned(ctx: Ctx, batch_of_request: dict[int, int]) -> None:
    """Requests taken onto planned batches."""
    now = ctx.clock.now()
    for request in requests_by_id(ctx, batch_of_request).values():
        request.status, request.batch_id, request.updated_at = (
            RequestStatus.PLANNED.value,
            batch_of_request[request.id],
            now,
        )
        request.last_reason = ""


def mark(ctx: Ctx, request_ids: Iterable[int], status: RequestStatus) -> None:
    """Requests moved on by their batch: dispatched, picked up, arrived (arrived closes them)."""
    now = ctx.clock.now()
    closing = status in (RequestStatus.ARRIVED, RequestStatus.CANCELLED)
    for request in requests_by_id(ctx, request_ids).values():
        request.status, request.updated_at = status.value, now
        if closing:
            request.open_person_id, request.closed_at = None, now


def note_unplaced(ctx: Ctx, reasons: dict[int, str]) -> None:
    """Why the last plan could not take these queued requests; they stay queued for the next plan."""
    for request in requests_by_id(ctx, reasons).values():
        request.last_reason = reasons[request.id][:255]


def return_to_queue(
    ctx: Ctx, request_ids: Iterable[int], reason: str, *, pickup: tuple[float, float] | None = None
) -> list[TransferRequest]:
    """Hand people back to the queue with the reason (a failed pick-up, a vehicle failure, a full site)."""
    requests = [r for r in requests_by_id(ctx, request_ids).values() if r.status in _OPEN]
    if pickup is not None:
        for request in requests:
            if request.status == RequestStatus.PICKED_UP:
                request.pickup_lat, request.pickup_lon = pickup
                request.pickup_text = f"{pickup[0]:.5f},{pickup[1]:.5f}"
    _back_to_queue(ctx, requests, reason)
    return requests


def _back_to_queue(ctx: Ctx, requests: Sequence[TransferRequest], reason: str) -> None:
    now = ctx.clock.now()
    events = []
    for request in requests:
        events.append(
            make_event(
                ctx,
                EventKind.RETURNED_TO_QUEUE,
                person_id=request.person_id,
                jurisdiction_id=request.jurisdiction_id,
                subject_type="transfer_request",
                subject_id=request.id,
                refs={"batch": request.batch_id} if request.batch_id else {},
                payload={"reason": reason, "from": request.status, "category": request.category},
            )
        )
        request.status, request.batch_id, request.updated_at = RequestStatus.QUEUED.value, None, now
        request.returns, request.last_reason = request.returns + 1, reason[:255]
    record_many(ctx, events)


def cancel(ctx: Ctx, request_id: int, reason: str) -> TransferRequest:
    """Take a queued person off the queue (e.g. moved to home isolation); a person on a batch is refused."""
    require(ctx.actor, Permission.PLAN_TRANSFER)
    request = get_request(ctx, request_id)
    if request.status == RequestStatus.CANCELLED:
        return request
    if request.status != RequestStatus.QUEUED:
        raise FieldError("status", f"request {request_id} is {request.status}: only a queued request can be cancelled")
    now = ctx.clock.now()
    ctx.session.execute(
        update(TransferRequest)
        .where(TransferRequest.id == request.id)
        .values(
            status=RequestStatus.CANCELLED.value, open_person_id=None, closed_at=now, updated_at=now, last_reason=reason
        )
    )
    ctx.session.refresh(request)
    record_many(
        ctx,
        [
            make_event(
                ctx,
                EventKind.TRANSFER_CANCELLED,
                person_id=request.person_id,
                jurisdiction_id=request.jurisdiction_id,
                subject_type="transfer_request",
                subject_id=request.id,
                payload={"reason": reason},
            )
        ],
    )
    return request
