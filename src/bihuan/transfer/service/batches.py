"""Reading batches and plans (快转运看板): what is planned, on the road and done, and who is on board.

A user sees the batches carrying someone from their jurisdiction, and of those batches only the
people of their jurisdiction (names with masked IDs) and the stops where those people are picked up:
a batch shared with another county shows neither that county's addresses nor its head counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select

from bihuan.core.context import Ctx
from bihuan.core.db import count_rows, id_chunks
from bihuan.core.errors import NotFound
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_phone, mask_resident_id
from bihuan.isolation.models import IsolationSite
from bihuan.people.models import Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.transfer.choices import BatchStatus
from bihuan.transfer.models import Batch, BatchMember, TransferPlanRun, Vehicle
from bihuan.transfer.schemas import BatchDetail, BatchPublic, MemberPublic, PlanPublic, RouteStop, StopPublic


@dataclass(slots=True)
class _Seen:
    """What the actor sees of one batch: its members in scope, counted by status."""

    person_ids: set[int] = field(default_factory=set)
    by_status: dict[str, int] = field(default_factory=dict)

    def add(self, person_id: int, status: str) -> None:
        self.person_ids.add(person_id)
        self.by_status[status] = self.by_status.get(status, 0) + 1


def _visible(ctx: Ctx) -> Any:
    """Batches with at least one member in the actor's subtree."""
    members = in_scope(ctx, select(BatchMember.id).where(BatchMember.batch_id == Batch.id), BatchMember.jurisdiction_id)
    return exists(members)


def _batch_select() -> Any:
    return (
        select(Batch, Vehicle.code, IsolationSite.name, IsolationSite.city, IsolationSite.lat, IsolationSite.lon)
        .join(Vehicle, Vehicle.id == Batch.vehicle_id)
        .join(IsolationSite, IsolationSite.id == Batch.site_id)
    )


def list_batches(
    ctx: Ctx,
    page: Page,
    *,
    status: BatchStatus | None = None,
    vehicle_id: int | None = None,
    plan_id: int | None = None,
    newest_first: bool = False,
) -> tuple[list[BatchPublic], int]:
    """Batches by planned start (or newest first), with their routes and people counted by state (three queries).

    Routes and counts hold only the actor's people and the stops where they are picked up.
    """
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = _batch_select().where(_visible(ctx))
    if status is not None:
        stmt = stmt.where(Batch.status == status.value)
    if vehicle_id is not None:
        stmt = stmt.where(Batch.vehicle_id == vehicle_id)
    if plan_id is not None:
        stmt = stmt.where(Batch.plan_id == plan_id)
    count = count_rows(ctx.session, stmt)
    order = (Batch.planned_start.desc(), Batch.id.desc()) if newest_first else (Batch.planned_start, Batch.id)
    rows = list(ctx.session.execute(stmt.order_by(*order).offset(page.offset).limit(page.page_size)))
    seen = _seen_members(ctx, [row[0].id for row in rows])
    return [_public(row, seen.get(row[0].id, _Seen())) for row in rows], count


def _seen_members(ctx: Ctx, batch_ids: Sequence[int]) -> dict[int, _Seen]:
    """The members in the actor's scope of these batches (one query)."""
    if not batch_ids:
        return {}
    stmt = in_scope(
        ctx,
        select(BatchMember.batch_id, BatchMember.person_id, BatchMember.status).where(
            BatchMember.batch_id.in_(batch_ids)
        ),
        BatchMember.jurisdiction_id,
    )
    found: dict[int, _Seen] = defaultdict(_Seen)
    for batch_id, person_id, status in ctx.session.execute(stmt):
        found[batch_id].add(person_id, status)
    return found


def _visible_stops(
    stops: Iterable[dict[str, Any]], person_ids: set[int]
) -> list[tuple[int, dict[str, Any], list[int]]]:
    """The stops where someone the actor sees is picked up: (index on the route, stop, those people)."""
    found = []
    for index, stop in enumerate(stops):
        people = [p for p in stop["person_ids"] if p in person_ids]
        if people:
            found.append((index, stop, people))
    return found


def _public(row: Any, seen: _Seen) -> BatchPublic:
    batch, vehicle_code, site_name, city = row[0], row[1], row[2], row[3]
    return BatchPublic(
        id=batch.id,
        code=batch.code,
        plan_id=batch.plan_id,
        vehicle_id=batch.vehicle_id,
        vehicle_code=vehicle_code,
        sequence=batch.sequence,
        site_id=batch.site_id,
        site_name=site_name,
        site_city=city,
        category=batch.category,
        status=batch.status,
        km=batch.km,
        planned_start=batch.planned_start,
        planned_end=batch.planned_end,
        dispatched_at=batch.dispatched_at,
        completed_at=batch.completed_at,
        cancel_reason=batch.cancel_reason,
        people=sum(seen.by_status.values()),
        by_status=seen.by_status,
        site_lat=row[4],
        site_lon=row[5],
        route=[
            RouteStop(lat=s["lat"], lon=s["lon"], text=s.get("text", ""), people=len(people))
            for _, s, people in _visible_stops(batch.stops, seen.person_ids)
        ],
    )


def get_batch(ctx: Ctx, batch_id: int) -> BatchDetail:
    """One batch with its people of the actor's jurisdiction in pickup order, and the stops where they are
    picked up (a member's `stop_index` points into those stops)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    row = ctx.session.execute(_batch_select().where(Batch.id == batch_id, _visible(ctx))).first()
    if row is None:
        raise NotFound(f"batch {batch_id} not found")
    members = _members_public(ctx, batch_id)
    seen = _Seen()
    for member in members:
        seen.add(member.person_id, member.status)
    visible = _visible_stops(row[0].stops, seen.person_ids)
    position = {index: n for n, (index, _, _) in enumerate(visible)}
    stops = [
        StopPublic(lat=s["lat"], lon=s["lon"], text=s.get("text", ""), person_ids=people) for _, s, people in visible
    ]
    members = [m.model_copy(update={"stop_index": position.get(m.stop_index, m.stop_index)}) for m in members]
    return BatchDetail(**_public(row, seen).model_dump(), stops=stops, members=members)


def visible_member(ctx: Ctx, batch_id: int, person_id: int) -> MemberPublic:
    """One person on a batch, if both lie in the actor's view (else the same 404 as a missing one)."""
    for member in get_batch(ctx, batch_id).members:
        if member.person_id == person_id:
            return member
    raise NotFound(f"person {person_id} is not on batch {batch_id}")


def _members_public(ctx: Ctx, batch_id: int) -> list[MemberPublic]:
    stmt = in_scope(
        ctx,
        select(BatchMember, Person.name, Person.resident_id, Person.phone)
        .join(Person, Person.id == BatchMember.person_id)
        .where(BatchMember.batch_id == batch_id),
        BatchMember.jurisdiction_id,
    ).order_by(BatchMember.stop_index, BatchMember.id)
    return [
        MemberPublic(
            person_id=member.person_id,
            person_name=name,
            resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
            phone_masked=mask_phone(phone) if phone else None,
            stop_index=member.stop_index,
            status=member.status,
            picked_up_at=member.picked_up_at,
            arrived_at=member.arrived_at,
            returned_at=member.returned_at,
            return_reason=member.return_reason,
        )
        for member, name, resident_id, phone in ctx.session.execute(stmt)
    ]


def list_plans(ctx: Ctx, page: Page) -> tuple[list[PlanPublic], int]:
    """Planning runs, newest first (their unplaced lists are cut to the actor's jurisdiction)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = select(TransferPlanRun)
    count = count_rows(ctx.session, stmt)
    runs = list(ctx.session.scalars(stmt.order_by(TransferPlanRun.id.desc()).offset(page.offset).limit(page.page_size)))
    visible = _visible_people(ctx, [row["person_id"] for run in runs for row in run.unplaced])
    return [_plan_public(run, visible) for run in runs], count


def get_plan(ctx: Ctx, plan_id: int) -> PlanPublic:
    require(ctx.actor, Permission.READ_TRANSFER)
    run = ctx.session.get(TransferPlanRun, plan_id)
    if run is None:
        raise NotFound(f"transfer plan {plan_id} not found")
    return _plan_public(run, _visible_people(ctx, [row["person_id"] for row in run.unplaced]))


def _visible_people(ctx: Ctx, person_ids: Sequence[int]) -> set[int] | None:
    """Which of these people lie in the actor's jurisdiction (None: all of them), 1,000 ids per query."""
    if not ctx.actor.jurisdiction_path:
        return None
    visible: set[int] = set()
    for chunk in id_chunks(person_ids):
        stmt = in_scope(ctx, select(Person.id).where(Person.id.in_(chunk)), Person.jurisdiction_id)
        visible.update(ctx.session.scalars(stmt))
    return visible


def _plan_public(run: TransferPlanRun, visible: set[int] | None) -> PlanPublic:
    """The run with its unplaced people cut to `visible` (None: everyone)."""
    unplaced = list(run.unplaced)
    if visible is not None:
        unplaced = [row for row in unplaced if row["person_id"] in visible]
    data = {c.key: getattr(run, c.key) for c in TransferPlanRun.__table__.columns}
    return PlanPublic.model_validate({**data, "unplaced": unplaced})
