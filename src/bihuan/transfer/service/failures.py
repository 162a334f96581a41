"""When a transfer goes wrong (快转运应急): a vehicle breaks down, a site reports full.

Everyone affected is either still on their way (a vehicle on the road turned to another site with
room) or back in the queue with the reason and re-planned at once; nobody is left in between.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select

from bihuan.core.choices import EventKind
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.events import record
from bihuan.isolation import service as sites
from bihuan.protocol import ProtocolProfile
from bihuan.transfer import engine
from bihuan.transfer._geo import road_km
from bihuan.transfer.choices import BatchStatus, MemberStatus
from bihuan.transfer.models import Batch, BatchMember, TransferPlanRun
from bihuan.transfer.service import dispatch, planning
from bihuan.transfer.service import vehicles as fleet

Outcome = tuple[list[int], list[int], TransferPlanRun | None]  # requests returned, batches cancelled, re-plan
_ABOARD = (MemberStatus.PLANNED, MemberStatus.PICKED_UP)


def vehicle_failed(
    ctx: Ctx,
    profile: ProtocolProfile,
    vehicle_id: int,
    reason: str,
    *,
    where: tuple[float, float] | None = None,
    replan: bool = True,
) -> Outcome:
    """A breakdown: its open batches are cancelled, everyone not yet arrived returns to the queue (those on
    board to be picked up where it stopped), and they are re-planned at once onto other vehicles."""
    vehicle = fleet.mark_failed(ctx, vehicle_id, reason)
    batches = _open_batches(ctx, Batch.vehicle_id == vehicle.id)
    return _cancel_and_replan(ctx, profile, batches, f"vehicle {vehicle.code} failed: {reason}", where, replan)


def site_full(ctx: Ctx, profile: ProtocolProfile, site_id: int, reason: str = "", *, replan: bool = True) -> Outcome:
    """A site reports full: vehicles on the road there turn to the nearest site with room for everyone
    aboard; planned batches are cancelled and their people re-planned to other sites."""
    site = sites.report_full(ctx, site_id, reason)
    why = f"site {site.name} full" + (f": {reason}" if reason else "")
    heading = _open_batches(ctx, Batch.site_id == site.id)
    on_road = [b for b in heading if b.status == BatchStatus.DISPATCHED]
    stuck = [b for b in on_road if not _turn_to_another_site(ctx, profile, b, why)]
    planned = [b for b in heading if b.status == BatchStatus.PLANNED]
    return _cancel_and_replan(ctx, profile, planned + stuck, why, None, replan)


def _open_batches(ctx: Ctx, condition: ColumnElement[bool]) -> list[Batch]:
    stmt = select(Batch).where(Batch.status.in_(planning.OPEN_BATCHES), condition).order_by(Batch.id)
    return list(ctx.session.scalars(stmt))


def _aboard(ctx: Ctx, batch: Batch) -> list[BatchMember]:
    stmt = select(BatchMember).where(BatchMember.batch_id == batch.id).order_by(BatchMember.stop_index, BatchMember.id)
    return [m for m in ctx.session.scalars(stmt) if m.status in _ABOARD]


def _turn_to_another_site(ctx: Ctx, profile: ProtocolProfile, batch: Batch, why: str) -> bool:
    """Send a vehicle on the road to the nearest open site with room for all aboard, within reach."""
    aboard = _aboard(ctx, batch)
    last_stop = (batch.stops[-1]["lat"], batch.stops[-1]["lon"])
    rules = profile.transfer
    candidates = [
        (road_km(last_stop, (s.lat, s.lon), rules.road_factor), s)
        for s in planning.sites_for_plan(ctx, ctx.clock.now(), profile)
        if s.free.get(batch.category, 0) >= len(aboard)
    ]
    reachable = sorted((c for c in candidates if c[0] <= rules.max_reach_km), key=lambda c: (c[0], c[1].site_id))
    if not reachable:
        return False
    _turn(ctx, batch, reachable[0][1], aboard, why)
    return True


def _turn(ctx: Ctx, batch: Batch, site: engine.Site, aboard: Sequence[BatchMember], why: str) -> None:
    previous = batch.site_id
    batch.site_id = site.site_id
    dispatch.record_members(
        ctx,
        EventKind.BATCH_PLANNED,
        batch,
        aboard,
        turned_from_site=previous,
        reason=why[:255],
        sequence=batch.sequence,
    )


def _cancel_and_replan(
    ctx: Ctx,
    profile: ProtocolProfile,
    batches: Sequence[Batch],
    reason: str,
    where: tuple[float, float] | None,
    replan: bool,
) -> Outcome:
    returned: set[int] = set()
    for batch in batches:
        aboard = _aboard(ctx, batch)
        returned.update(dispatch.hand_back(ctx, batch, aboard, reason, pickup=where))
        batch.status, batch.cancel_reason, batch.completed_at = (
            BatchStatus.CANCELLED.value,
            reason[:255],
            ctx.clock.now(),
        )
        record(
            ctx,
            EventKind.BATCH_CANCELLED,
            subject_type="batch",
            subject_id=batch.id,
            refs={"vehicle": batch.vehicle_id, "site": batch.site_id},
            payload={"reason": reason, "people": len(aboard)},
        )
    run = None
    if replan and returned:
        ctx.session.flush()
        replanner = Ctx(session=ctx.session, clock=ctx.clock, actor=SYSTEM)  # re-planning is the platform's reaction
        run = planning.plan(replanner, profile, request_ids=sorted(returned), trigger=reason[:64])
    return sorted(returned), [b.id for b in batches], run
