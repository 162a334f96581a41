"""HTTP API of the capacity gauges (资源负荷): rooms, vehicles, lab throughput and tracing teams of now,
each with its normal / strained / alert status at the profile's thresholds.

Read with ``READ_TRACING``, as the loop's reads, checked in the service; the gauges are those of the
user's jurisdiction (or of a narrower one within it).
"""

from __future__ import annotations

from fastapi import APIRouter

from bihuan.command.capacity import capacity_gauges
from bihuan.command.capacity_schemas import CapacityPublic
from bihuan.core.deps import ProfileDep, UserCtx

router = APIRouter(tags=["command"])


@router.get("/api/capacity")
def read_capacity(ctx: UserCtx, profile: ProfileDep, jurisdiction_id: int | None = None) -> CapacityPublic:
    """The capacity gauges of now over your jurisdiction (or the `jurisdiction_id` subtree within it)."""
    return capacity_gauges(ctx, profile, ctx.clock.now(), jurisdiction_id=jurisdiction_id)
