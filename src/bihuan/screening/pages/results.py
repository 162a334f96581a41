"""Pages of fast testing: lab upload with its error report, and the positive-pool follow-up list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from bihuan.core.deps import UserCtx
from bihuan.core.errors import BihuanError, FieldError
from bihuan.core.permissions import Permission, can
from bihuan.people.schemas import Page
from bihuan.protocol import loop_target_hours
from bihuan.protocol.choices import LoopStage
from bihuan.screening.choices import ConfirmationStatus, RetestStatus
from bihuan.screening.service import followup, results
from bihuan.web.templating import render, request_translations

router = APIRouter(include_in_schema=False)
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
LIST_SIZE = 50


def _lab_page(ctx: UserCtx, request: Request, *, report_id: int | None = None, error: str | None = None) -> Response:
    report = results.get_upload(ctx, report_id) if report_id else None
    held, held_count = results.list_held(ctx, Page(page=1, page_size=LIST_SIZE))
    uploads = results.list_uploads(ctx, Page(page=1, page_size=10))
    context = {
        "report": report,
        "held": held,
        "held_count": held_count,
        "uploads": uploads,
        "columns": results.COLUMNS,
        "error": error,
        "timezone": request.app.state.settings.timezone,
    }
    return render(request, "screening/lab_upload.html", context, status_code=422 if error else 200)


@router.get("/screening/lab")
def lab_upload_page(ctx: UserCtx, request: Request, report: int | None = None) -> Response:
    """Upload a lab export; a report (?report=id) lists every rejected row."""
    return _lab_page(ctx, request, report_id=report)


@router.post("/screening/lab")
def lab_upload(ctx: UserCtx, request: Request, file: Annotated[UploadFile, File()]) -> Response:
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    try:
        if not content:
            raise FieldError("file", request_translations(request).gettext("Choose a CSV or XLSX file."))
        if len(content) > MAX_UPLOAD_BYTES:
            raise FieldError("file", f"larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        report = results.ingest_lab_file(
            ctx, file.filename or "upload.csv", content, timezone=request.app.state.settings.timezone
        )
    except FieldError as exc:
        return _lab_page(ctx, request, error=exc.reason)
    return RedirectResponse(f"/screening/lab?report={report.id}", status_code=303)


def _followup_page(ctx: UserCtx, request: Request, flashes: list[tuple[str, str]], status_code: int = 200) -> Response:
    profile = request.app.state.profile
    retest_target = loop_target_hours(LoopStage.SAMPLE_TO_RESULT, profile)
    confirm_target = loop_target_hours(LoopStage.RESULT_TO_CONFIRMED, profile)
    first = Page(page=1, page_size=LIST_SIZE)
    open_, open_count = followup.list_retests(ctx, first, status=RetestStatus.OPEN, target_hours=retest_target)
    sampled, sampled_count = followup.list_retests(ctx, first, status=RetestStatus.SAMPLED, target_hours=retest_target)
    pending, pending_count = followup.list_confirmations(
        ctx, first, status=ConfirmationStatus.PENDING, target_hours=confirm_target
    )
    context = {
        "open_retests": open_,
        "open_count": open_count,
        "sampled_retests": sampled,
        "sampled_count": sampled_count,
        "pending": pending,
        "pending_count": pending_count,
        "retest_target": retest_target,
        "confirm_target": confirm_target,
        "flashes": flashes,
        "may_decide": can(ctx.actor, Permission.DECIDE_CASES),
    }
    return render(request, "screening/followup.html", context, status_code=status_code)


@router.get("/screening/followup")
def followup_page(ctx: UserCtx, request: Request, done: str = "") -> Response:
    """Open re-tests by age, people under in-place control awaiting a result, pending confirmations."""
    gettext = request_translations(request).gettext
    messages = {"sampled": gettext("Re-test sampled."), "decided": gettext("Confirmation decided.")}
    flashes = [("success", messages[done])] if done in messages else []
    return _followup_page(ctx, request, flashes)


def _refused(ctx: UserCtx, request: Request, error: BihuanError) -> Response:
    ctx.session.rollback()
    return _followup_page(ctx, request, [("error", str(error))], status_code=error.status_code)


@router.post("/screening/retests/{retest_id}/sample")
def retest_sample(ctx: UserCtx, request: Request, retest_id: int, barcode: Annotated[str, Form()] = "") -> Response:
    try:
        followup.sample_retest(ctx, retest_id, barcode)
    except BihuanError as error:
        return _refused(ctx, request, error)
    return RedirectResponse("/screening/followup?done=sampled", status_code=303)


@router.post("/screening/confirmations/{confirmation_id}/decide")
def confirmation_decide(
    ctx: UserCtx,
    request: Request,
    confirmation_id: int,
    outcome: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        followup.decide_confirmation(ctx, confirmation_id, outcome, note, timezone=request.app.state.settings.timezone)
    except BihuanError as error:
        return _refused(ctx, request, error)
    return RedirectResponse("/screening/followup?done=decided", status_code=303)
