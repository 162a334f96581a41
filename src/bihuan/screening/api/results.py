"""HTTP API of fast testing: lab results, held results, positive-pool follow-up and confirmations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile

from bihuan.core.deps import UserCtx
from bihuan.core.errors import FieldError
from bihuan.people.schemas import Page
from bihuan.protocol import loop_target_hours
from bihuan.protocol.choices import LoopStage
from bihuan.screening.choices import ConfirmationStatus, RetestStatus
from bihuan.screening.schemas.results import (
    ConfirmationDecision,
    ConfirmationPublic,
    ConfirmationsPublic,
    HeldResultPublic,
    HeldResultsPublic,
    LabResultIn,
    LabUploadPublic,
    RetestPublic,
    RetestSample,
    RetestsPublic,
)
from bihuan.screening.service import followup, results

router = APIRouter()
PageDep = Annotated[Page, Depends()]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def timezone(request: Request) -> str:
    """The zone naive times in lab files are read in (BIHUAN_TIMEZONE)."""
    zone: str = request.app.state.settings.timezone
    return zone


def target(request: Request, stage: LoopStage) -> float:
    return loop_target_hours(stage, request.app.state.profile)


@router.post("/lab-results", status_code=201)
def record_results(ctx: UserCtx, request: Request, items: list[LabResultIn]) -> LabUploadPublic:
    """A batch of results; each bad item is reported (row = its position, from 1); idempotent per lab, tube, run."""
    report = results.record_results(
        ctx, [item.model_dump() for item in items], timezone=timezone(request), source="api"
    )
    return results.get_upload(ctx, report.id)


@router.post("/lab-results/upload", status_code=201)
def upload_results(
    ctx: UserCtx, request: Request, file: Annotated[UploadFile, File(description="lab export, CSV or XLSX")]
) -> LabUploadPublic:
    """A lab export; valid rows stored, each bad row reported with row, field and reason; the report is kept."""
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise FieldError("file", f"larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    report = results.ingest_lab_file(ctx, file.filename or "upload.csv", content, timezone=timezone(request))
    return results.get_upload(ctx, report.id)


@router.get("/lab-results/uploads/{report_id}")
def get_upload(ctx: UserCtx, report_id: int) -> LabUploadPublic:
    return results.get_upload(ctx, report_id)


@router.get("/lab-results/held")
def list_held(ctx: UserCtx, page: PageDep) -> HeldResultsPublic:
    """Results whose tube is not known yet: kept, and matched when the tube is opened."""
    rows, count = results.list_held(ctx, page)
    return HeldResultsPublic(data=[HeldResultPublic.model_validate(r) for r in rows], count=count)


@router.get("/retests")
def list_retests(ctx: UserCtx, request: Request, page: PageDep, status: RetestStatus | None = None) -> RetestsPublic:
    """Re-test tasks of positive pools in your jurisdiction, oldest first, with their turnaround."""
    rows, count = followup.list_retests(
        ctx, page, status=status, target_hours=target(request, LoopStage.SAMPLE_TO_RESULT)
    )
    return RetestsPublic(data=rows, count=count)


@router.post("/retests/{retest_id}/sample")
def sample_retest(ctx: UserCtx, request: Request, retest_id: int, data: RetestSample) -> RetestPublic:
    """Record the single-tube re-sample (its tube barcode)."""
    followup.sample_retest(ctx, retest_id, data.barcode)
    return followup.get_retest(ctx, retest_id, target_hours=target(request, LoopStage.SAMPLE_TO_RESULT))


@router.get("/confirmations")
def list_confirmations(
    ctx: UserCtx, request: Request, page: PageDep, status: ConfirmationStatus | None = None
) -> ConfirmationsPublic:
    rows, count = followup.list_confirmations(
        ctx, page, status=status, target_hours=target(request, LoopStage.RESULT_TO_CONFIRMED)
    )
    return ConfirmationsPublic(data=rows, count=count)


@router.post("/confirmations/{confirmation_id}/decide")
def decide_confirmation(
    ctx: UserCtx, request: Request, confirmation_id: int, data: ConfirmationDecision
) -> ConfirmationPublic:
    """Confirmed or asymptomatic makes a case (case_confirmed, which tracing reacts to); or not confirmed."""
    followup.decide_confirmation(ctx, confirmation_id, data.outcome, data.note, timezone=timezone(request))
    return followup.get_confirmation(ctx, confirmation_id, target_hours=target(request, LoopStage.RESULT_TO_CONFIRMED))
