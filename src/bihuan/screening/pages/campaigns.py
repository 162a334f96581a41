"""Pages of fast testing: the list of rounds, a round's progress (ECharts), and the sampler's phone page.

The sampler page walks one sampler through a round: pick a site, scan a tube's barcode, then
scan resident IDs one after another; each step is a form post (htmx swaps the panel, and the
same forms work without JavaScript). Refusals are shown in the panel, never lost.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bihuan.core.context import Ctx
from bihuan.core.deps import UserCtx
from bihuan.core.errors import BihuanError, FieldError, NotFound
from bihuan.core.permissions import Permission, can
from bihuan.people.schemas import Page
from bihuan.screening.choices import CampaignStatus
from bihuan.screening.schemas.campaigns import ProgressPublic, TubeOpen
from bihuan.screening.service import campaigns as service
from bihuan.screening.service import sampling
from bihuan.web.templating import render, request_translations

router = APIRouter()
PAGE_SIZE = 25


@router.get("/screening/campaigns")
def campaign_list(ctx: UserCtx, request: Request, status: str = "", page: int = 1) -> Response:
    """The rounds the user sees, with how far each has got."""
    chosen = CampaignStatus(status) if status in set(CampaignStatus) else None
    page = max(page, 1)
    rows, count = service.list_campaigns(ctx, Page(page=page, page_size=PAGE_SIZE), status=chosen)
    sampled = service.sampled_by_campaign(ctx, [c.id for c in rows])
    context = {
        "campaigns": rows,
        "sampled": sampled,
        "count": count,
        "page": page,
        "page_size": PAGE_SIZE,
        "status": chosen.value if chosen else "",
        "statuses": list(CampaignStatus),
    }
    return render(request, "screening/campaign_list.html", context)


def progress_chart(progress: ProgressPublic, labels: dict[str, str]) -> dict[str, Any]:
    """The ECharts data of a round's progress: bars of target and sampled by unit and by site."""
    return {
        "units": {
            "names": [u.jurisdiction_name for u in progress.units],
            "target": [u.target for u in progress.units],
            "sampled": [u.sampled for u in progress.units],
        },
        "sites": {
            "names": [s.name for s in progress.sites],
            "target": [s.capacity for s in progress.sites],
            "sampled": [s.sampled for s in progress.sites],
        },
        "labels": labels,
    }


@router.get("/screening/campaigns/{campaign_id}")
def campaign_detail(ctx: UserCtx, request: Request, campaign_id: int) -> Response:
    """A round: its deadline, progress by unit and by site (chart and tables), its sites."""
    progress = service.campaign_progress(ctx, campaign_id)
    t = request_translations(request)
    labels = {
        "target": t.gettext("Target"),
        "sampled": t.gettext("Sampled"),
        "capacity": t.gettext("Capacity"),
    }
    context = {
        "progress": progress,
        "campaign": service.get_campaign_view(ctx, campaign_id),
        "chart": progress_chart(progress, labels),
        "may_sample": can(ctx.actor, Permission.SAMPLE),
    }
    return render(request, "screening/campaign_detail.html", context)


# -- the sampler's page ----------------------------------------------------------------------------------


def _sampler_state(ctx: Ctx, campaign_id: int | None, site_id: int | None, tube_id: int | None) -> dict[str, Any]:
    """What the panel shows: the running rounds to choose from, the round's sites, the open tube and its fill."""
    state: dict[str, Any] = {"campaign": None, "site": None, "tube": None, "samples": [], "campaigns": [], "sites": []}
    if campaign_id is None:
        state["campaigns"], _ = service.list_campaigns(ctx, Page(page=1, page_size=100), status=CampaignStatus.RUNNING)
        return state
    state["campaign"] = service.get_campaign_view(ctx, campaign_id)
    state["sites"] = service.list_sites(ctx, campaign_id)
    if site_id is not None:
        site = next((s for s in state["sites"] if s.id == site_id), None)
        if site is None:
            raise NotFound(f"sampling site {site_id} not found")
        state["site"] = site
    if tube_id is not None:
        tube = sampling.get_tube(ctx, tube_id)
        state["tube"] = sampling.tube_public(ctx, tube)
        state["samples"] = sampling.tube_samples(ctx, tube_id)[-5:][::-1]
    return state


def _panel(
    request: Request, state: dict[str, Any], *, message: dict[str, str] | None = None, status: int = 200
) -> Response:
    """The panel alone for htmx (always 200, so htmx swaps it in), else the whole page with its status."""
    context = {**state, "message": message}
    if request.headers.get("hx-request"):
        return render(request, "screening/sampler_panel.html", context)
    return render(request, "screening/sampler.html", context, status_code=status)


def _refusal(request: Request, error: BihuanError) -> dict[str, str]:
    t = request_translations(request)
    if isinstance(error, sampling.TubeClosed):
        return {"category": "warning", "text": t.gettext("Tube full — scan a new tube"), "detail": str(error)}
    if isinstance(error, sampling.UnknownPerson):
        return {
            "category": "error",
            "text": t.gettext("Not in the register of your jurisdiction"),
            "detail": error.reason,
        }
    if isinstance(error, FieldError) and error.field == "resident_id":
        return {"category": "error", "text": t.gettext("Resident ID refused"), "detail": error.reason}
    if isinstance(error, FieldError) and error.field == "barcode":
        return {"category": "error", "text": t.gettext("Barcode refused"), "detail": error.reason}
    return {"category": "error", "text": t.gettext("Refused"), "detail": str(error)}


@router.get("/screening/sampler")
def sampler_page(
    ctx: UserCtx,
    request: Request,
    campaign_id: int | None = None,
    site_id: int | None = None,
    tube_id: int | None = None,
) -> Response:
    """The sampler's phone page: choose the round and the site, then scan tubes and people."""
    return render(
        request, "screening/sampler.html", {**_sampler_state(ctx, campaign_id, site_id, tube_id), "message": None}
    )


@router.post("/screening/sampler/tube")
def sampler_open_tube(
    ctx: UserCtx,
    request: Request,
    campaign_id: Annotated[int, Form()],
    site_id: Annotated[int, Form()],
    barcode: Annotated[str, Form()] = "",
) -> Response:
    """Scan a tube's barcode: opens it (or resumes it, when it is open at this site)."""
    t = request_translations(request)
    try:
        data = TubeOpen.model_validate({"site_id": site_id, "barcode": barcode.strip()})
    except ValueError:
        refused = FieldError("barcode", "letters, digits, - and _ only (1 to 40)")
        state = _sampler_state(ctx, campaign_id, site_id, None)
        return _panel(request, state, message=_refusal(request, refused), status=422)
    try:
        tube, created = sampling.open_tube(ctx, campaign_id, data)
    except BihuanError as error:
        if isinstance(error, NotFound):
            raise
        state = _sampler_state(ctx, campaign_id, site_id, None)
        return _panel(request, state, message=_refusal(request, error), status=error.status_code)
    text = t.gettext("Tube opened") if created else t.gettext("Tube resumed")
    state = _sampler_state(ctx, campaign_id, site_id, tube.id)
    return _panel(request, state, message={"category": "success", "text": text, "detail": tube.barcode})


@router.post("/screening/sampler/scan")
def sampler_scan(
    ctx: UserCtx, request: Request, tube_id: Annotated[int, Form()], resident_id: Annotated[str, Form()] = ""
) -> Response:
    """Scan one resident ID into the open tube; says when the tube is full."""
    t = request_translations(request)
    tube = sampling.get_tube(ctx, tube_id)
    campaign_id, site_id = tube.campaign_id, tube.site_id
    try:
        outcome = sampling.scan_person(ctx, tube_id, resident_id)
    except BihuanError as error:
        if isinstance(error, NotFound):
            raise
        keep = None if isinstance(error, sampling.TubeClosed) else tube_id
        state = _sampler_state(ctx, campaign_id, site_id, keep)
        return _panel(request, state, message=_refusal(request, error), status=error.status_code)
    sample = sampling.scan_public(ctx, outcome).sample
    who = f"{sample.person_name} {sample.resident_id_masked or ''}".strip()
    if not outcome.created:
        message = {"category": "info", "text": t.gettext("Already in this tube"), "detail": who}
    elif outcome.sample.duplicate:
        message = {
            "category": "warning",
            "text": t.gettext("Already sampled in this round: flagged, not counted"),
            "detail": who,
        }
    else:
        message = {"category": "success", "text": t.gettext("Sampled"), "detail": who}
    if outcome.tube.closed_at is not None:
        message = {**message, "full": t.gettext("Tube full — scan a new tube")}
        state = _sampler_state(ctx, campaign_id, site_id, None)
        state["last_tube"] = sampling.tube_public(ctx, outcome.tube, outcome.fill)
    else:
        state = _sampler_state(ctx, campaign_id, site_id, tube_id)
    return _panel(request, state, message=message)


@router.post("/screening/sampler/close")
def sampler_close_tube(ctx: UserCtx, request: Request, tube_id: Annotated[int, Form()]) -> Response:
    """Close the tube before it is full; the next scan needs a new tube."""
    t = request_translations(request)
    tube = sampling.close_tube(ctx, tube_id)
    state = _sampler_state(ctx, tube.campaign_id, tube.site_id, None)
    state["last_tube"] = sampling.tube_public(ctx, tube)
    return _panel(
        request, state, message={"category": "info", "text": t.gettext("Tube closed"), "detail": tube.barcode}
    )
