"""Planning transfers (快编组 → 快转运): the waiting queue, the sites' free places and the vehicles, into batches.

The engine does the optimisation (OR-Tools); this module feeds it what is stored now and stores
what it decided: one batch per vehicle trip, every person either on a batch or left queued with
the reason the plan could not take them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import core_table, serialise
from bihuan.core.errors import FieldError
from bihuan.core.events import make_event, record, record_many
from bihuan.core.permissions import Permission, require
from bihuan.grouping import service as queue
from bihuan.grouping.choices import RequestStatus
from bihuan.grouping.models import TransferRequest
from bihuan.isolation import service as sites
from bihuan.protocol import ProtocolProfile, TransferCategory
from bihuan.transfer import engine
from bihuan.transfer.choices import BatchStatus, MemberStatus
from bihuan.transfer.models import Batch, BatchMember, TransferPlanRun, Vehicle
from bihuan.transfer.service import vehicles as fleet

OPEN_BATCHES = (BatchStatus.PLANNED.value, BatchStatus.DISPATCHED.value)
_ON_BOARD = (MemberStatus.PLANNED.value, MemberStatus.PICKED_UP.value)


def plan(
    ctx: Ctx,
    profile: ProtocolProfile,
    *,
    categories: Sequence[TransferCategory] = (),
    request_ids: Sequence[int] | None = None,
    trigger: str = "by hand",
) -> TransferPlanRun:
    """Plan the waiting people (all, some categories, or named requests) onto batches; never fails as a whole."""
    require(ctx.actor, Permission.PLAN_TRANSFER)
    serialise(ctx.session, "transfer-plan")  # one planner at a time: no place, person or vehicle promised twice
    if request_ids is not None:
        _check_requests(ctx, request_ids)
    waiting = queue.waiting(ctx, categories=categories, request_ids=request_ids)
    now = ctx.clock.now()
    travellers = {r.person_id: queue.traveller_of(r, now) for r in waiting}
    result = engine.plan_transfers(
        [t for t in travellers.values() if t is not None],
        sites_for_plan(ctx, now, profile),
        _fleet_for_plan(ctx, now),
        engine.PlanRules.from_profile(profile.transfer),
    )
    nowhere = [_no_pickup(r) for r in waiting if travellers[r.person_id] is None]
    return _store(ctx, result, waiting, now, trigger, nowhere)


def _no_pickup(request: TransferRequest) -> dict[str, Any]:
    return {
        "request_id": request.id,
        "person_id": request.person_id,
        "reason": queue.NO_PICKUP,
        "detail": "no address, household address or place with coordinates to pick them up",
    }


def _check_requests(ctx: Ctx, request_ids: Sequence[int]) -> None:
    """Refuse a plan that names a request twice, an unknown request, or one not waiting in the queue."""
    found = queue.requests_by_id(ctx, request_ids)
    seen: set[int] = set()
    for index, request_id in enumerate(request_ids):
        where = f"request_ids[{index}]"
        if request_id in seen:
            raise FieldError(where, f"request {request_id} is listed twice")
        seen.add(request_id)
        request = found.get(request_id)
        if request is None:
            raise FieldError(where, f"no transfer request {request_id} (or not in your jurisdiction)")
        if request.status != RequestStatus.QUEUED:
            raise FieldError(where, f"request {request_id} is {request.status}, not waiting in the queue")


def sites_for_plan(ctx: Ctx, now: datetime, profile: ProtocolProfile) -> list[engine.Site]:
    """Open sites with their free places until the plan's horizon, less those already promised to batches."""
    until = (now + timedelta(hours=profile.transfer.horizon_hours)).date()
    promised = _promised_places(ctx)
    return [
        engine.Site(
            site_id=site.site_id,
            lat=site.lat,
            lon=site.lon,
            city=site.city,
            free={cat: max(free - promised.get((site.site_id, cat), 0), 0) for cat, free in site.free.items()},
        )
        for site in sites.capacity_for_planning(ctx, profile, until)
    ]


def _promised_places(ctx: Ctx) -> dict[tuple[int, str], int]:
    """People on open batches, by (site, category): on their way, not yet counted as occupied."""
    stmt = (
        select(Batch.site_id, Batch.category, func.count())
        .join(BatchMember, BatchMember.batch_id == Batch.id)
        .where(Batch.status.in_(OPEN_BATCHES), BatchMember.status.in_(_ON_BOARD))
        .group_by(Batch.site_id, Batch.category)
    )
    return {(int(s), str(c)): int(n) for s, c, n in ctx.session.execute(stmt)}


def _fleet_for_plan(ctx: Ctx, now: datetime) -> list[engine.Vehicle]:
    """Available vehicles: idle ones at their depots, busy ones where and when their last open batch ends."""
    last_open: dict[int, Batch] = {}
    for open_batch in ctx.session.scalars(
        select(Batch).where(Batch.status.in_(OPEN_BATCHES)).order_by(Batch.planned_end)
    ):
        last_open[open_batch.vehicle_id] = open_batch
    ends = _site_points(ctx, {b.site_id for b in last_open.values()})
    fleet_now = []
    for vehicle in fleet.available_vehicles(ctx):
        batch = last_open.get(vehicle.id)
        where = (vehicle.lat, vehicle.lon) if batch is None else ends[batch.site_id]
        free_from = 0.0 if batch is None else max((batch.planned_end - now).total_seconds() / 60, 0.0)
        fleet_now.append(_engine_vehicle(vehicle, where, free_from))
    return fleet_now


def _site_points(ctx: Ctx, site_ids: set[int]) -> dict[int, tuple[float, float]]:
    return {site.site_id: (site.lat, site.lon) for site in sites.sites_at(ctx, site_ids)}


def _engine_vehicle(vehicle: Vehicle, where: tuple[float, float], free_from: float) -> engine.Vehicle:
    categories = None if vehicle.categories is None else frozenset(vehicle.categories)
    return engine.Vehicle(vehicle.id, vehicle.seats, where[0], where[1], categories, free_from_minute=free_from)


# -- storing the plan ----------------------------------------------------------------------------


def _store(
    ctx: Ctx,
    result: engine.TransferPlan,
    waiting: Sequence[TransferRequest],
    now: datetime,
    trigger: str,
    nowhere: list[dict[str, Any]],
) -> TransferPlanRun:
    by_person = {r.person_id: r for r in waiting}
    run = TransferPlanRun(
        created_at=now,
        actor_name=ctx.actor.username,
        trigger=trigger,
        solver=result.solver,
        seconds=round(result.seconds, 3),
        people=len(waiting),
        placed=sum(len(t.person_ids) for t in result.trips),
        trips=len(result.trips),
        total_km=round(result.total_km, 2),
        makespan_minutes=round(result.makespan_minutes, 1),
        unplaced=nowhere + [_unplaced_row(u, by_person[u.person_id]) for u in result.unplaced],
    )
    ctx.session.add(run)
    ctx.session.flush()
    batches = [_batch(run, trip, index, now, by_person) for index, trip in enumerate(result.trips, start=1)]
    ctx.session.add_all(batches)
    ctx.session.flush()
    batch_of_request = _store_members(ctx, run, batches, result.trips, by_person)
    queue.mark_planned(ctx, batch_of_request)
    queue.note_unplaced(ctx, {row["request_id"]: f"{row['reason']}: {row['detail']}" for row in run.unplaced})
    record(
        ctx,
        EventKind.TRANSFER_PLANNED,
        subject_type="transfer_plan",
        subject_id=run.id,
        payload={
            "people": run.people,
            "placed": run.placed,
            "trips": run.trips,
            "km": run.total_km,
            "trigger": trigger,
        },
    )
    return run


def _unplaced_row(unplaced: engine.Unplaced, request: TransferRequest) -> dict[str, Any]:
    return {
        "request_id": request.id,
        "person_id": unplaced.person_id,
        "reason": unplaced.reason.value,
        "detail": unplaced.detail,
    }


def _batch(
    run: TransferPlanRun, trip: engine.Trip, index: int, now: datetime, by_person: dict[int, TransferRequest]
) -> Batch:
    return Batch(
        code=f"P{run.id:04d}-{index:04d}",
        plan_id=run.id,
        vehicle_id=trip.vehicle_id,
        sequence=trip.sequence,
        site_id=trip.site_id,
        category=trip.category,
        status=BatchStatus.PLANNED.value,
        stops=[
            {
                "lat": stop.lat,
                "lon": stop.lon,
                "text": by_person[stop.person_ids[0]].pickup_text,
                "person_ids": list(stop.person_ids),
            }
            for stop in trip.stops
        ],
        km=round(trip.km, 2),
        planned_start=now + timedelta(minutes=trip.start_minute),
        planned_end=now + timedelta(minutes=trip.end_minute),
        cancel_reason="",
    )


def _store_members(
    ctx: Ctx,
    run: TransferPlanRun,
    batches: Sequence[Batch],
    trips: Sequence[engine.Trip],
    by_person: dict[int, TransferRequest],
) -> dict[int, int]:
    rows: list[dict[str, Any]] = []
    events = []
    batch_of_request: dict[int, int] = {}
    for batch, trip in zip(batches, trips, strict=True):
        for stop_index, stop in enumerate(trip.stops):
            for person_id in stop.person_ids:
                request = by_person[person_id]
                batch_of_request[request.id] = batch.id
                rows.append(_member_row(batch, request, stop_index))
                events.append(_planned_event(ctx, run, batch, request))
    if rows:
        ctx.session.execute(insert(core_table(BatchMember)), rows)
    record_many(ctx, events)
    return batch_of_request


def _member_row(batch: Batch, request: TransferRequest, stop_index: int) -> dict[str, Any]:
    return {
        "batch_id": batch.id,
        "request_id": request.id,
        "person_id": request.person_id,
        "jurisdiction_id": request.jurisdiction_id,
        "stop_index": stop_index,
        "status": MemberStatus.PLANNED.value,
        "return_reason": "",
    }


def _planned_event(ctx: Ctx, run: TransferPlanRun, batch: Batch, request: TransferRequest) -> Any:
    return make_event(
        ctx,
        EventKind.BATCH_PLANNED,
        person_id=request.person_id,
        jurisdiction_id=request.jurisdiction_id,
        subject_type="batch",
        subject_id=batch.id,
        refs={"batch": batch.id, "vehicle": batch.vehicle_id, "site": batch.site_id, "plan": run.id},
        payload={
            "category": batch.category,
            "sequence": batch.sequence,
            "planned_start": batch.planned_start.isoformat(),
        },
    )
