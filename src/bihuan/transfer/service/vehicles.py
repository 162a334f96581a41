"""Vehicles of the transfer teams (转运车辆): register them, list them, mark a breakdown or a repair."""

from __future__ import annotations

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import count_rows
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile
from bihuan.transfer.choices import VehicleStatus
from bihuan.transfer.models import Vehicle
from bihuan.transfer.schemas import VehicleCreate


def create_vehicle(ctx: Ctx, profile: ProtocolProfile, data: VehicleCreate) -> Vehicle:
    """Register a vehicle; a code twice is refused.

    Without its own list of categories the vehicle carries what the profile gives its kind
    (``transfer.vehicle_categories``, else ``transfer.default_vehicle_categories``).
    """
    require(ctx.actor, Permission.PLAN_TRANSFER)
    if ctx.session.scalar(select(Vehicle.id).where(Vehicle.code == data.code)) is not None:
        raise Conflict(f"code: vehicle {data.code} exists")
    categories = data.categories if data.categories is not None else profile.transfer.vehicle_carries(data.kind)
    if not categories:
        raise FieldError("categories", "a vehicle must carry at least one category (or leave it empty for any)")
    now = ctx.clock.now()
    vehicle = Vehicle(
        **data.model_dump(exclude={"kind", "categories"}),
        kind=data.kind.value,
        categories=sorted({c.value for c in categories}),
        status=VehicleStatus.AVAILABLE.value,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(vehicle)
    ctx.session.flush()
    _record(ctx, EventKind.VEHICLE_CREATED, vehicle, vehicle_kind=vehicle.kind, seats=vehicle.seats)
    return vehicle


def get_vehicle(ctx: Ctx, vehicle_id: int) -> Vehicle:
    require(ctx.actor, Permission.READ_TRANSFER)
    vehicle = ctx.session.get(Vehicle, vehicle_id)
    if vehicle is None:
        raise NotFound(f"vehicle {vehicle_id} not found")
    return vehicle


def list_vehicles(ctx: Ctx, page: Page, *, status: VehicleStatus | None = None) -> tuple[list[Vehicle], int]:
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = select(Vehicle)
    if status is not None:
        stmt = stmt.where(Vehicle.status == status.value)
    count = count_rows(ctx.session, stmt)
    rows = ctx.session.scalars(stmt.order_by(Vehicle.code).offset(page.offset).limit(page.page_size))
    return list(rows), count


def available_vehicles(ctx: Ctx) -> list[Vehicle]:
    """Vehicles that may take batches (not broken down, not retired)."""
    stmt = select(Vehicle).where(Vehicle.status == VehicleStatus.AVAILABLE.value).order_by(Vehicle.id)
    return list(ctx.session.scalars(stmt))


def mark_failed(ctx: Ctx, vehicle_id: int, reason: str) -> Vehicle:
    """The vehicle broke down; the dispatch service hands its passengers back and re-plans them."""
    require(ctx.actor, Permission.DISPATCH)
    vehicle = get_vehicle(ctx, vehicle_id)
    if vehicle.status != VehicleStatus.FAILED:
        vehicle.status, vehicle.status_reason, vehicle.updated_at = VehicleStatus.FAILED.value, reason, ctx.clock.now()
        _record(ctx, EventKind.VEHICLE_FAILED, vehicle, reason=reason)
    return vehicle


def mark_repaired(ctx: Ctx, vehicle_id: int) -> Vehicle:
    require(ctx.actor, Permission.DISPATCH)
    vehicle = get_vehicle(ctx, vehicle_id)
    if vehicle.status != VehicleStatus.AVAILABLE:
        vehicle.status, vehicle.status_reason, vehicle.updated_at = VehicleStatus.AVAILABLE.value, "", ctx.clock.now()
        _record(ctx, EventKind.VEHICLE_UPDATED, vehicle, status=vehicle.status)
    return vehicle


def _record(ctx: Ctx, kind: EventKind, vehicle: Vehicle, **payload: object) -> None:
    record(ctx, kind, subject_type="vehicle", subject_id=vehicle.id, payload={"code": vehicle.code, **payload})
