"""HTTP API of fast transfer (快转运): vehicles, planning runs, batches and each hand-over."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from bihuan.core.deps import ProfileDep, UserCtx
from bihuan.people.schemas import Page
from bihuan.transfer.choices import BatchStatus, VehicleStatus
from bihuan.transfer.schemas import (
    ArrivalIn,
    BatchDetail,
    BatchesPublic,
    FailureOutcome,
    MemberPublic,
    NotPickedUp,
    PlanPublic,
    PlanRequest,
    PlansPublic,
    SiteFullIn,
    VehicleCreate,
    VehicleFailure,
    VehiclePublic,
    VehiclesPublic,
)
from bihuan.transfer.service import batches, dispatch, failures, planning, vehicles

router = APIRouter(prefix="/api", tags=["transfer"])
PageDep = Annotated[Page, Depends()]


# -- vehicles ------------------------------------------------------------------------------------


@router.get("/vehicles")
def list_vehicles(ctx: UserCtx, page: PageDep, status: VehicleStatus | None = None) -> VehiclesPublic:
    rows, count = vehicles.list_vehicles(ctx, page, status=status)
    return VehiclesPublic(data=[VehiclePublic.model_validate(v) for v in rows], count=count)


@router.post("/vehicles", status_code=201)
def create_vehicle(ctx: UserCtx, profile: ProfileDep, data: VehicleCreate) -> VehiclePublic:
    """Register a vehicle; without its own categories it carries what the profile gives its kind."""
    return VehiclePublic.model_validate(vehicles.create_vehicle(ctx, profile, data))


@router.get("/vehicles/{vehicle_id}")
def get_vehicle(ctx: UserCtx, vehicle_id: int) -> VehiclePublic:
    return VehiclePublic.model_validate(vehicles.get_vehicle(ctx, vehicle_id))


@router.post("/vehicles/{vehicle_id}/failure")
def report_vehicle_failure(ctx: UserCtx, profile: ProfileDep, vehicle_id: int, data: VehicleFailure) -> FailureOutcome:
    """A breakdown: everyone not yet arrived goes back to the queue and is re-planned onto other vehicles."""
    where = (data.lat, data.lon) if data.lat is not None and data.lon is not None else None
    returned, cancelled, run = failures.vehicle_failed(
        ctx, profile, vehicle_id, data.reason, where=where, replan=data.replan
    )
    plan = None if run is None else batches.get_plan(ctx, run.id)
    return FailureOutcome(returned=len(returned), cancelled_batches=cancelled, plan=plan)


@router.post("/vehicles/{vehicle_id}/repaired")
def report_vehicle_repaired(ctx: UserCtx, vehicle_id: int) -> VehiclePublic:
    return VehiclePublic.model_validate(vehicles.mark_repaired(ctx, vehicle_id))


@router.post("/sites/{site_id}/full")
def report_site_full(ctx: UserCtx, profile: ProfileDep, site_id: int, data: SiteFullIn) -> FailureOutcome:
    """The site takes nobody more: batches heading there are cancelled and their people re-planned elsewhere."""
    returned, cancelled, run = failures.site_full(ctx, profile, site_id, data.reason, replan=data.replan)
    plan = None if run is None else batches.get_plan(ctx, run.id)
    return FailureOutcome(returned=len(returned), cancelled_batches=cancelled, plan=plan)


# -- plans ---------------------------------------------------------------------------------------


@router.post("/transfer-plans", status_code=201)
def create_plan(ctx: UserCtx, profile: ProfileDep, data: PlanRequest) -> PlanPublic:
    """Plan the waiting queue onto batches; whoever cannot be placed is listed with the reason."""
    run = planning.plan(ctx, profile, categories=data.categories, request_ids=data.request_ids)
    return batches.get_plan(ctx, run.id)


@router.get("/transfer-plans")
def list_plans(ctx: UserCtx, page: PageDep) -> PlansPublic:
    rows, count = batches.list_plans(ctx, page)
    return PlansPublic(data=rows, count=count)


@router.get("/transfer-plans/{plan_id}")
def get_plan(ctx: UserCtx, plan_id: int) -> PlanPublic:
    return batches.get_plan(ctx, plan_id)


# -- batches and hand-overs ----------------------------------------------------------------------


@router.get("/batches")
def list_batches(
    ctx: UserCtx,
    page: PageDep,
    status: BatchStatus | None = None,
    vehicle_id: int | None = None,
    plan_id: int | None = None,
) -> BatchesPublic:
    rows, count = batches.list_batches(ctx, page, status=status, vehicle_id=vehicle_id, plan_id=plan_id)
    return BatchesPublic(data=rows, count=count)


@router.get("/batches/{batch_id}")
def get_batch(ctx: UserCtx, batch_id: int) -> BatchDetail:
    return batches.get_batch(ctx, batch_id)


@router.post("/batches/{batch_id}/dispatch")
def dispatch_batch(ctx: UserCtx, batch_id: int) -> BatchDetail:
    batches.get_batch(ctx, batch_id)
    dispatch.dispatch(ctx, batch_id)
    return batches.get_batch(ctx, batch_id)


@router.post("/batches/{batch_id}/members/{person_id}/pickup")
def pick_up(ctx: UserCtx, batch_id: int, person_id: int) -> MemberPublic:
    batches.visible_member(ctx, batch_id, person_id)
    dispatch.pick_up(ctx, batch_id, person_id)
    return batches.visible_member(ctx, batch_id, person_id)


@router.post("/batches/{batch_id}/members/{person_id}/not-picked-up")
def not_picked_up(ctx: UserCtx, batch_id: int, person_id: int, data: NotPickedUp) -> MemberPublic:
    """The person was not at the pickup: back to the queue with the reason."""
    batches.visible_member(ctx, batch_id, person_id)
    dispatch.not_picked_up(ctx, batch_id, person_id, data.reason)
    return batches.visible_member(ctx, batch_id, person_id)


@router.post("/batches/{batch_id}/arrive")
def arrive(ctx: UserCtx, profile: ProfileDep, batch_id: int, data: ArrivalIn) -> BatchDetail:
    """Hand-over at the site; without names, everyone picked up arrives and the rest go back to the queue."""
    batches.get_batch(ctx, batch_id)
    dispatch.arrive(ctx, profile, batch_id, data.person_ids)
    return batches.get_batch(ctx, batch_id)
