"""Pages of grouping and transfer (快编组、快转运): the command board and the transfer team's batch page.

The board shows the queue, a "plan now" form, the batches, the vehicles, the sites' free places and
a map; the batch page is what a team holds on a phone: the route's stops and people, and one big
button per hand-over. Every form is a plain post answered with a redirect (or, when refused, the
page again with the service's reason), so it all works without JavaScript. Rules live in the services.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from bihuan.core.context import Ctx
from bihuan.core.deps import ProfileDep, UserCtx
from bihuan.core.errors import BihuanError, FieldError, Forbidden, NotFound
from bihuan.core.permissions import Permission, can
from bihuan.grouping import service as queue
from bihuan.grouping.choices import RequestStatus
from bihuan.isolation import service as sites
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile, TransferCategory
from bihuan.transfer import _page_helpers as helpers
from bihuan.transfer.choices import BatchStatus
from bihuan.transfer.schemas import BatchDetail, NotPickedUp, PlanPublic, SiteFullIn, VehicleFailure, VehiclePublic
from bihuan.transfer.service import batches, dispatch, failures, planning, vehicles
from bihuan.web.labels import transfer_category_labels
from bihuan.web.templating import render, request_translations

router = APIRouter(include_in_schema=False)
QUEUE_SIZE = 25
BATCHES_SHOWN = 50
RECENT_SHOWN = 10
VEHICLES_SHOWN = 200
MAP_ROUTES = 30  # open batches drawn on the map (each is read with its stops)


def _refused(error: BihuanError) -> bool:
    """Errors a page answers itself (a stale state, a refused value); 403 and 404 go to the error page."""
    return not isinstance(error, NotFound | Forbidden)


# -- the board -------------------------------------------------------------------------------------------


def _latest_plan(ctx: Ctx, plan_id: int | None) -> PlanPublic | None:
    if plan_id is not None:
        return batches.get_plan(ctx, plan_id)
    plans, _ = batches.list_plans(ctx, Page(page=1, page_size=1))
    return plans[0] if plans else None


def _board(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    *,
    page: int = 1,
    plan_id: int | None = None,
    flashes: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    """The transfer board (转运看板); a refused form comes back here with the reason."""
    t = request_translations(request)
    labels = transfer_category_labels(t)
    summary = queue.summary(ctx)
    waiting, waiting_count = queue.list_requests(
        ctx, Page(page=page, page_size=QUEUE_SIZE), status=RequestStatus.QUEUED
    )
    on_road, on_road_count = batches.list_batches(
        ctx, Page(page=1, page_size=BATCHES_SHOWN), status=BatchStatus.DISPATCHED
    )
    planned, planned_count = batches.list_batches(
        ctx, Page(page=1, page_size=BATCHES_SHOWN), status=BatchStatus.PLANNED
    )
    fleet, fleet_count = vehicles.list_vehicles(ctx, Page(page=1, page_size=VEHICLES_SHOWN))
    site_rows = sites.list_sites(ctx)
    routes = (on_road + planned)[:MAP_ROUTES]
    plan = _latest_plan(ctx, plan_id)
    recent = helpers.recent_batches(ctx, RECENT_SHOWN)
    context = {
        "summary": summary,
        "queue_rows": helpers.queue_rows(summary),
        "open_statuses": helpers.OPEN_STATUS_VALUES,
        "waiting": waiting,
        "waiting_count": waiting_count,
        "reasons": {r.id: helpers.describe_reason(r.last_reason, t) for r in waiting},
        "page": page,
        "page_size": QUEUE_SIZE,
        "planned": planned,
        "planned_count": planned_count,
        "on_road": on_road,
        "on_road_count": on_road_count,
        "recent": recent,
        "recent_reasons": {b.id: helpers.describe_reason(b.cancel_reason, t) for b in recent},
        "vehicles": [VehiclePublic.model_validate(v) for v in fleet],
        "vehicle_count": fleet_count,
        "vehicle_batches": {b.vehicle_id: b for b in [*reversed(planned), *on_road]},  # on the road, else next
        "sites": site_rows,
        "plan": plan,
        "plan_unplaced": helpers.plan_unplaced(plan) if plan else {},
        "plan_categories": helpers.moved_categories(profile),
        "map": helpers.map_data(site_rows, routes, labels, t),
        "category_labels": labels,
        "unplaced_labels": helpers.unplaced_labels(t),
        "may_plan": can(ctx.actor, Permission.PLAN_TRANSFER),
        "may_dispatch": can(ctx.actor, Permission.DISPATCH),
        "may_manage_sites": can(ctx.actor, Permission.MANAGE_SITES),
        "flashes": flashes or [],
    }
    return render(request, "transfer/board.html", context, status_code=status_code)


def _outcome_flashes(request: Request, done: str, returned: int, cancelled: int) -> list[tuple[str, str]]:
    """What the last form on the board did: a plan, a breakdown, a full site, a repair."""
    t = request_translations(request)
    counts = {"returned": returned, "cancelled": cancelled}
    messages = {
        "planned": t.gettext("Plan made: see the result below."),
        "vehicle_failed": t.gettext(
            "Breakdown recorded: %(returned)s people back in the queue, %(cancelled)s batches cancelled."
        )
        % counts,
        "site_full": t.gettext(
            "Site reported full: %(returned)s people back in the queue, %(cancelled)s batches cancelled."
        )
        % counts,
        "repaired": t.gettext("Vehicle available again."),
        "reopened": t.gettext("Site open again."),
    }
    return [("success", messages[done])] if done in messages else []


@router.get("/transfer")
def board(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    page: int = 1,
    plan: int | None = None,
    done: str = "",
    returned: int = 0,
    cancelled: int = 0,
) -> Response:
    """The board of command staff and transfer teams: queue, plan, batches, vehicles, sites, map."""
    flashes = _outcome_flashes(request, done, returned, cancelled)
    return _board(ctx, request, profile, page=max(page, 1), plan_id=plan, flashes=flashes)


def _to_board(anchor: str, **query: str | int | None) -> RedirectResponse:
    params = "&".join(f"{key}={value}" for key, value in query.items() if value is not None)
    return RedirectResponse(f"/transfer?{params}#{anchor}", status_code=303)


def _field_error(error: ValidationError, reason: str | None = None) -> FieldError:
    """The first complaint of a schema, on the field it names (in the page's words when given)."""
    first = error.errors()[0]
    return FieldError(str(first["loc"][-1]) if first["loc"] else "form", reason or str(first["msg"]))


def _board_refusal(ctx: Ctx, request: Request, profile: ProtocolProfile, error: BihuanError, what: str) -> Response:
    ctx.session.rollback()
    t = request_translations(request)
    message = t.gettext("%(what)s refused: %(reason)s") % {"what": what, "reason": str(error)}
    return _board(ctx, request, profile, flashes=[("error", message)], status_code=error.status_code)


@router.post("/transfer/plan")
def plan_now(
    ctx: UserCtx, request: Request, profile: ProfileDep, categories: Annotated[list[str] | None, Form()] = None
) -> Response:
    """Plan the waiting queue (all of it, or the ticked categories); the board then shows the result."""
    t = request_translations(request)
    try:
        chosen = [TransferCategory(c) for c in categories or []]
    except ValueError:
        raise FieldError("categories", t.gettext("Choose categories from the list")) from None
    try:
        run = planning.plan(ctx, profile, categories=chosen)
    except BihuanError as error:
        if not _refused(error):
            raise
        return _board_refusal(ctx, request, profile, error, t.gettext("Plan"))
    return _to_board("plan", done="planned", plan=run.id)


@router.post("/transfer/vehicles/{vehicle_id}/failure")
def vehicle_failure(
    ctx: UserCtx, request: Request, profile: ProfileDep, vehicle_id: int, reason: Annotated[str, Form()] = ""
) -> Response:
    """A breakdown: its people go back to the queue and are re-planned at once onto other vehicles."""
    t = request_translations(request)
    try:
        try:
            data = VehicleFailure(reason=reason.strip())
        except ValidationError as error:
            raise _field_error(error, t.gettext("Give the reason, in at most 255 characters.")) from None
        returned, cancelled, run = failures.vehicle_failed(ctx, profile, vehicle_id, data.reason)
    except BihuanError as error:
        if not _refused(error):
            raise
        return _board_refusal(ctx, request, profile, error, t.gettext("Breakdown report"))
    outcome = {"returned": len(returned), "cancelled": len(cancelled), "plan": run.id if run else None}
    return _to_board("vehicles", done="vehicle_failed", **outcome)


@router.post("/transfer/vehicles/{vehicle_id}/repaired")
def vehicle_repaired(ctx: UserCtx, vehicle_id: int) -> Response:
    """The vehicle is back in service: the next plan may use it."""
    vehicles.mark_repaired(ctx, vehicle_id)
    return _to_board("vehicles", done="repaired")


@router.post("/transfer/sites/{site_id}/full")
def site_full(
    ctx: UserCtx, request: Request, profile: ProfileDep, site_id: int, reason: Annotated[str, Form()] = ""
) -> Response:
    """The site takes nobody more: batches heading there are cancelled and their people re-planned."""
    t = request_translations(request)
    try:
        try:
            data = SiteFullIn(reason=reason.strip())
        except ValidationError as error:
            raise _field_error(error) from None
        returned, cancelled, run = failures.site_full(ctx, profile, site_id, data.reason)
    except BihuanError as error:
        if not _refused(error):
            raise
        return _board_refusal(ctx, request, profile, error, t.gettext("Full report"))
    outcome = {"returned": len(returned), "cancelled": len(cancelled), "plan": run.id if run else None}
    return _to_board("sites", done="site_full", **outcome)


@router.post("/transfer/sites/{site_id}/reopen")
def site_reopen(ctx: UserCtx, request: Request, profile: ProfileDep, site_id: int) -> Response:
    """The site takes people again, unless it still breaks the profile's standards."""
    try:
        sites.reopen(ctx, site_id, profile=profile)
    except BihuanError as error:
        if not _refused(error):
            raise
        return _board_refusal(ctx, request, profile, error, request_translations(request).gettext("Open again"))
    return _to_board("sites", done="reopened")


# -- the transfer team's batch page -----------------------------------------------------------------------


def _batch_page(
    ctx: Ctx,
    request: Request,
    batch_id: int,
    *,
    flashes: list[tuple[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """One batch as its team works it: stops in order, people at each, a button per hand-over."""
    t = request_translations(request)
    detail = batches.get_batch(ctx, batch_id)
    labels = transfer_category_labels(t)
    context = {
        "batch": detail,
        "stops": helpers.route_stops(detail),
        "member_reasons": {m.person_id: helpers.describe_reason(m.return_reason, t) for m in detail.members},
        "cancel_reason": helpers.describe_reason(detail.cancel_reason, t),
        "category_labels": labels,
        "errors": errors or {},
        "typed": typed or {},
        "map": helpers.map_data([], [detail], labels, t),
        "may_dispatch": can(ctx.actor, Permission.DISPATCH),
        "flashes": flashes or [],
    }
    return render(request, "transfer/batch.html", context, status_code=status_code)


def _done_flashes(request: Request, done: str) -> list[tuple[str, str]]:
    t = request_translations(request)
    messages = {
        "dispatched": t.gettext("Batch dispatched: the vehicle is on its way."),
        "picked_up": t.gettext("Picked up."),
        "not_picked_up": t.gettext("Not picked up: back in the queue with the reason."),
        "arrived": t.gettext("Arrival recorded: the batch is handed over at the site."),
    }
    return [("success", messages[done])] if done in messages else []


@router.get("/transfer/batches/{batch_id}")
def batch_page(ctx: UserCtx, request: Request, batch_id: int, done: str = "") -> Response:
    """The transfer team's page of one batch (mobile first, works without JavaScript)."""
    return _batch_page(ctx, request, batch_id, flashes=_done_flashes(request, done))


def _to_batch(batch_id: int, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/transfer/batches/{batch_id}?done={done}{anchor}", status_code=303)


def _visible_batch(ctx: Ctx, batch_id: int, person_id: int | None = None) -> BatchDetail:
    """The batch as the user may see it (404 outside their jurisdiction), and the person on it when named."""
    detail = batches.get_batch(ctx, batch_id)
    if person_id is not None and person_id not in {m.person_id for m in detail.members}:
        raise NotFound(f"person {person_id} is not on batch {detail.code}")
    return detail


def _batch_refusal(
    ctx: Ctx,
    request: Request,
    batch_id: int,
    error: BihuanError,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    ctx.session.rollback()
    t = request_translations(request)
    reason = error.reason if isinstance(error, FieldError) else str(error)
    message = t.gettext("Not recorded: %(reason)s") % {"reason": reason}
    return _batch_page(
        ctx, request, batch_id, flashes=[("error", message)], errors=errors, typed=typed, status_code=error.status_code
    )


@router.post("/transfer/batches/{batch_id}/dispatch")
def dispatch_batch(ctx: UserCtx, request: Request, batch_id: int) -> Response:
    """Send the vehicle on its way (派车)."""
    _visible_batch(ctx, batch_id)
    try:
        dispatch.dispatch(ctx, batch_id)
    except BihuanError as error:
        if not _refused(error):
            raise
        return _batch_refusal(ctx, request, batch_id, error)
    return _to_batch(batch_id, "dispatched")


@router.post("/transfer/batches/{batch_id}/members/{person_id}/pickup")
def pick_up(ctx: UserCtx, request: Request, batch_id: int, person_id: int) -> Response:
    """The person is on board (已接到)."""
    _visible_batch(ctx, batch_id, person_id)
    try:
        dispatch.pick_up(ctx, batch_id, person_id)
    except BihuanError as error:
        if not _refused(error):
            raise
        return _batch_refusal(ctx, request, batch_id, error)
    return _to_batch(batch_id, "picked_up", f"#person-{person_id}")


@router.post("/transfer/batches/{batch_id}/members/{person_id}/not-picked-up")
def not_picked_up(
    ctx: UserCtx, request: Request, batch_id: int, person_id: int, reason: Annotated[str, Form()] = ""
) -> Response:
    """The person was not at the pickup: back to the queue with the reason the team gives."""
    t = request_translations(request)
    _visible_batch(ctx, batch_id, person_id)
    field = f"reason-{person_id}"
    try:
        try:
            data = NotPickedUp(reason=reason.strip())
        except ValidationError as error:
            raise _field_error(error, t.gettext("Give the reason, in at most 255 characters.")) from None
        dispatch.not_picked_up(ctx, batch_id, person_id, data.reason)
    except BihuanError as error:
        if not _refused(error):
            raise
        errors = {field: error.reason} if isinstance(error, FieldError) else {}
        return _batch_refusal(ctx, request, batch_id, error, errors=errors, typed={field: reason})
    return _to_batch(batch_id, "not_picked_up", f"#person-{person_id}")


@router.post("/transfer/batches/{batch_id}/arrive")
def arrive(ctx: UserCtx, request: Request, profile: ProfileDep, batch_id: int) -> Response:
    """The whole batch is handed over at the site; anyone never picked up goes back to the queue."""
    _visible_batch(ctx, batch_id)
    try:
        dispatch.arrive(ctx, profile, batch_id)
    except BihuanError as error:
        if not _refused(error):
            raise
        return _batch_refusal(ctx, request, batch_id, error)
    return _to_batch(batch_id, "arrived")
