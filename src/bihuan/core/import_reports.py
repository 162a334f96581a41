"""Import reports (导入报告): what one bulk import did, kept for every kind of import (persons, lab results...)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.choices import EventKind
from bihuan.core.db import Base, JsonDoc, UTCDateTime
from bihuan.core.errors import FieldError
from bihuan.core.events import record

if TYPE_CHECKING:
    from bihuan.core.context import Ctx
    from bihuan.core.db import Database


class ImportReport(Base):
    """What one bulk import did: rows stored, unchanged and rejected, each rejection with row, field, reason."""

    __tablename__ = "import_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))


class ImportStatus(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"


def start_report(ctx: Ctx, kind: str, filename: str, content_sha256: str) -> ImportReport:
    """A report for an import about to run (not yet added to the session)."""
    return ImportReport(
        kind=kind,
        filename=filename[:255],
        sha256=content_sha256,
        status=ImportStatus.COMPLETED.value,
        started_at=ctx.clock.now(),
        actor_id=ctx.actor.user_id,
        jurisdiction_id=ctx.actor.jurisdiction_id,
        rows_total=0,
        rows_created=0,
        rows_updated=0,
        rows_unchanged=0,
        rows_rejected=0,
        errors=[],
    )


def finish_report(
    ctx: Ctx, report: ImportReport, event: EventKind, *, total: int, errors: list[dict[str, Any]], **facts: Any
) -> None:
    """Close a report (rows read, every rejection ordered by row then field) and record its completion event."""
    report.rows_total = total
    report.errors = sorted(errors, key=lambda e: (e["row"], e["field"]))
    report.rows_rejected = len(report.errors)
    report.finished_at = ctx.clock.now()
    record(
        ctx,
        event,
        jurisdiction_id=ctx.actor.jurisdiction_id,
        subject_type="import_report",
        subject_id=report.id,
        payload={
            "filename": report.filename,
            "created": report.rows_created,
            "rejected": report.rows_rejected,
            **facts,
        },
    )
    ctx.session.flush()


def keep_failed_report(ctx: Ctx, report: ImportReport, error: Exception) -> None:
    """After a rollback, write the failed report in a transaction of its own, so the failure itself is kept."""
    database: Database | None = ctx.session.info.get("database")
    if database is None:
        return
    reason = f"{error.field}: {error.reason}" if isinstance(error, FieldError) else type(error).__name__
    failed = start_report(ctx, report.kind, report.filename, report.sha256)
    failed.started_at = report.started_at
    failed.status = ImportStatus.FAILED.value
    failed.finished_at = ctx.clock.now()
    failed.errors = [{"row": 0, "field": "file", "reason": reason}]
    with database.session() as session:
        session.add(failed)
