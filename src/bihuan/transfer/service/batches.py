"""Reading batches and plans (快转运看板): what is planned, on the road and done, and who is on board.

A user sees the batches carrying someone from their jurisdiction, and of those batches only the
people of their jurisdiction (names with masked IDs).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, select

from bihuan.core.context import Ctx
from bihuan.core.db import count_rows
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
    """Batches by planned start (or newest first), with their routes and people counted by state (three queries)."""
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
    counts = _member_counts(ctx, [row[0].id for row in rows])
    return [_public(row, counts.get(row[0].id, {})) for row in rows], count


def _member_counts(ctx: Ctx, batch_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    if not batch_ids:
        return {}
    stmt = in_scope(
        ctx,
        select(BatchMember.batch_id, BatchMember.status, func.count()).where(BatchMember.batch_id.in_(batch_ids)),
        BatchMember.jurisdiction_id,
    ).group_by(BatchMember.batch_id, BatchMember.status)
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for batch_id, status, n in ctx.session.execute(stmt):
        found[batch_id][status] = n
    return found


def _public(row: Any, by_status: dict[str, int]) -> BatchPublic:
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
        people=sum(by_status.values()),
        by_status=by_status,
        site_lat=row[4],
        site_lon=row[5],
        route=[
            RouteStop(lat=s["lat"], lon=s["lon"], text=s.get("text", ""), people=len(s["person_ids"]))
            for s in batch.stops
        ],
    )


def get_batch(ctx: Ctx, batch_id: int) -> BatchDetail:
    """One batch with its route and its people of the actor's jurisdiction, in pickup order."""
    require(ctx.actor, Permission.READ_TRANSFER)
    row = ctx.session.execute(_batch_select().where(Batch.id == batch_id, _visible(ctx))).first()
    if row is None:
        raise NotFound(f"batch {batch_id} not found")
    members = _members_public(ctx, batch_id)
    counts: dict[str, int] = defaultdict(int)
    for member in members:
        counts[member.status] += 1
    visible = {m.person_id for m in members}
    stops = [
        StopPublic(
            lat=s["lat"], lon=s["lon"], text=s.get("text", ""), person_ids=[p for p in s["person_ids"] if p in visible]
        )
        for s in row[0].stops
    ]
    return BatchDetail(**_public(row, dict(counts)).model_dump(), stops=stops, members=members)


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
    return [_plan_public(ctx, run) for run in runs], count


def get_plan(ctx: Ctx, plan_id: int) -> PlanPublic:
    require(ctx.actor, Permission.READ_TRANSFER)
    run = ctx.session.get(TransferPlanRun, plan_id)
    if run is None:
        raise NotFound(f"transfer plan {plan_id} not found")
    return _plan_public(ctx, run)


def _plan_public(ctx: Ctx, run: TransferPlanRun) -> PlanPublic:
    unplaced = list(run.unplaced)
    if ctx.actor.jurisdiction_path and unplaced:
        person_ids = [row["person_id"] for row in unplaced]
        stmt = in_scope(ctx, select(Person.id).where(Person.id.in_(person_ids)), Person.jurisdiction_id)
        visible = set(ctx.session.scalars(stmt))
        unplaced = [row for row in unplaced if row["person_id"] in visible]
    data = {c.key: getattr(run, c.key) for c in TransferPlanRun.__table__.columns}
    return PlanPublic.model_validate({**data, "unplaced": unplaced})
