"""Lab results (检测结果): recorded idempotently, held until their tube is known, then followed up.

Results come as a JSON batch (API) or a lab export (CSV in UTF-8 or GB18030, or XLSX) with the
columns ``tube_barcode, result, ct_orf1ab, ct_n, ct_e, lab, run_id, received_at, tested_at``.
Each batch keeps an import report (kind ``lab_results``): every bad row with its row, field and
reason; the good rows stored in the same transaction. The same result (lab, tube, run) sent
again changes nothing. Naive times are local times of the zone the caller passes (the app's
``settings.timezone``). Storing goes through one bulk path (``screening.engine``), used alike
by the API, the upload page and the benchmark.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.import_reports import ImportReport, finish_report, keep_failed_report, start_report
from bihuan.core.permissions import Permission, require
from bihuan.people.schemas import Page
from bihuan.screening.choices import VALID_RESULTS, TestResult, TubeKind
from bihuan.screening.engine import LabRow, ResultRef, StoreOutcome, mark_resulted, store_results
from bihuan.screening.models import LabResult, Tube
from bihuan.screening.schemas.results import LabUploadPublic
from bihuan.screening.service.followup import FollowUpSummary, follow_up

LAB_RESULTS = "lab_results"  # ImportReport.kind of lab result batches
COLUMNS = ("tube_barcode", "result", "ct_orf1ab", "ct_n", "ct_e", "lab", "run_id", "received_at", "tested_at")
REQUIRED_COLUMNS = ("tube_barcode", "result", "lab", "run_id", "tested_at")
CT_GENES = {"ct_orf1ab": "orf1ab", "ct_n": "n", "ct_e": "e"}
CT_RANGE = (0.0, 45.0)
RESULT_WORDS = {
    "negative": TestResult.NEGATIVE,
    "neg": TestResult.NEGATIVE,
    "阴性": TestResult.NEGATIVE,
    "positive": TestResult.POSITIVE,
    "pos": TestResult.POSITIVE,
    "阳性": TestResult.POSITIVE,
    "invalid": TestResult.INVALID,
    "无效": TestResult.INVALID,
}
FUTURE_TOLERANCE = timedelta(hours=1)  # lab clocks drift; a time further ahead is a typing error
_LIMITS = {"tube_barcode": 40, "lab": 64, "run_id": 64}
_INDEX = {name: i for i, name in enumerate(COLUMNS)}


@dataclass
class _Outcome:
    rows: list[LabRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def reject(self, row: int, field_: str, reason: str) -> None:
        self.errors.append({"row": row, "field": field_, "reason": reason})


# -- reading files ----------------------------------------------------------------------------------


def _check_header(header: Sequence[Any]) -> list[str]:
    names = ["" if h is None else str(h).strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise FieldError("file", f"missing column(s): {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    unknown = [n for n in names if n and n not in _INDEX]
    if unknown:
        raise FieldError("file", f"unknown column(s): {', '.join(unknown)}; expected {', '.join(COLUMNS)}")
    return names


def _aligned(names: list[str], values: Sequence[Any]) -> list[Any]:
    """The row's values in COLUMNS order (a missing column is None)."""
    out: list[Any] = [None] * len(COLUMNS)
    for name, value in zip(names, values, strict=False):
        if name:
            out[_INDEX[name]] = value
    return out


def _csv_rows(content: bytes, outcome: _Outcome) -> Iterator[tuple[int, list[Any]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text_ = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FieldError("file", "neither UTF-8 nor GB18030 text: save the export as CSV UTF-8 or as XLSX")
    reader = csv.reader(io.StringIO(text_, newline=""))
    header = next(reader, None)
    if not header:
        raise FieldError("file", "no header row")
    names = _check_header(header)
    in_order = names == list(COLUMNS)
    for number, values in enumerate(reader, start=2):
        if len(values) != len(names):
            if any(v.strip() for v in values):
                outcome.reject(number, "row", f"has {len(values)} columns, the header has {len(names)}")
            continue
        if not values[0].strip() and not any(v.strip() for v in values):
            continue
        yield number, values if in_order else _aligned(names, values)


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise FieldError("file", f"not a readable XLSX workbook ({type(error).__name__})") from None
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise FieldError("file", "no header row")
    names = _check_header(header)
    for number, values in enumerate(rows, start=2):
        if not any(v is not None and str(v).strip() for v in values):
            continue
        yield number, _aligned(names, values)


# -- checking rows ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # a barcode or run typed as a number in Excel
        return str(int(value))
    return str(value).strip()


class _Checker:
    """Checks rows one by one; time strings are parsed once per distinct value (lab exports repeat them)."""

    def __init__(self, zone: tzinfo, now: datetime) -> None:
        self.zone = zone
        self.latest = now + FUTURE_TOLERANCE
        self._times: dict[str, datetime] = {}

    def moment(self, name: str, value: Any) -> datetime | None:
        if value is None or value == "":
            return None
        cached = self._times.get(value) if isinstance(value, str) else None
        if cached is not None:
            return cached
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=self.zone)
            return moment.astimezone(UTC)
        text_ = str(value).strip()
        if not text_:
            return None
        try:
            parsed = datetime.fromisoformat(text_.replace("/", "-"))
        except ValueError:
            raise FieldError(name, f"{text_!r} is not a time (use 2021-12-10 08:30)") from None
        cached = (parsed if parsed.tzinfo else parsed.replace(tzinfo=self.zone)).astimezone(UTC)
        self._times[value] = cached
        return cached

    @staticmethod
    def key(name: str, raw: Any) -> str:
        value = raw.strip() if type(raw) is str else _text(raw)
        if not value:
            raise FieldError(name, "is required")
        if len(value) > _LIMITS[name]:
            raise FieldError(name, f"is longer than {_LIMITS[name]} characters")
        return value

    @staticmethod
    def ct(column: str, raw: Any) -> float | None:
        if raw is None or (type(raw) is str and not raw.strip()):
            return None
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise FieldError(column, f"{raw!r} is not a number") from None
        if not CT_RANGE[0] <= value <= CT_RANGE[1]:
            raise FieldError(column, f"{value:g} is outside {CT_RANGE[0]:g}–{CT_RANGE[1]:g}")
        return value

    def row(self, number: int, values: Sequence[Any]) -> LabRow:
        """One row in COLUMNS order, checked; the first problem raises FieldError(field, reason)."""
        barcode_raw, word_raw, orf1ab, n, e, lab_raw, run_raw, received_raw, tested_raw = values
        barcode = self.key("tube_barcode", barcode_raw)
        result = RESULT_WORDS.get(word_raw) if type(word_raw) is str else None
        if result is None:
            word = _text(word_raw)
            result = RESULT_WORDS.get(word.lower())
            if result is None:
                reason = "is required" if not word else f"{word!r} is not a result: use negative, positive or invalid"
                raise FieldError("result", reason)
        ct: dict[str, float] = {}
        if orf1ab or n or e:
            for column, raw in (("ct_orf1ab", orf1ab), ("ct_n", n), ("ct_e", e)):
                value = self.ct(column, raw)
                if value is not None:
                    ct[CT_GENES[column]] = value
        lab = self.key("lab", lab_raw)
        run_id = self.key("run_id", run_raw)
        received = self.moment("received_at", received_raw)
        tested = self.moment("tested_at", tested_raw)
        if tested is None:
            raise FieldError("tested_at", "is required")
        if received is not None and tested < received:
            raise FieldError("tested_at", "is before received_at")
        if tested > self.latest:
            raise FieldError("tested_at", "is in the future")
        return LabRow(number, lab, barcode, run_id, result, ct, received, tested)


def _check(ctx: Ctx, records: Iterator[tuple[int, list[Any]]], zone: tzinfo, outcome: _Outcome) -> None:
    checker = _Checker(zone, ctx.clock.now())
    seen: dict[tuple[str, str, str], int] = {}
    for number, values in records:
        outcome.total += 1
        try:
            row = checker.row(number, values)
        except FieldError as error:
            outcome.reject(number, error.field, error.reason)
            continue
        key = (row.lab, row.tube_barcode, row.run_id)
        first = seen.setdefault(key, number)
        if first != number:
            outcome.reject(number, "tube_barcode", f"the same tube, lab and run as row {first}")
            continue
        outcome.rows.append(row)
    outcome.total += sum(1 for e in outcome.errors if e["field"] == "row")


# -- storing ----------------------------------------------------------------------------------------


def _zone(timezone: str | tzinfo) -> tzinfo:
    return ZoneInfo(timezone) if isinstance(timezone, str) else timezone


def _store(ctx: Ctx, report: ImportReport, outcome: _Outcome) -> tuple[StoreOutcome, FollowUpSummary]:
    stored = store_results(ctx.session, outcome.rows, recorded_at=ctx.clock.now(), upload_id=report.id)
    for row_no, old in stored.conflicts:
        outcome.reject(
            row_no, "result", f"already recorded as {old} for this tube, lab and run; a correction needs a new run_id"
        )
    summary = follow_up(ctx, stored.to_follow)
    report.rows_created = stored.created
    report.rows_unchanged = len(stored.unchanged)
    finish_report(
        ctx,
        report,
        EventKind.LAB_RESULT_RECORDED,
        total=outcome.total,
        errors=outcome.errors,
        unchanged=report.rows_unchanged,
        held=stored.held,
        positive=stored.positive,
        controlled=summary.controlled,
        confirmations=summary.confirmations,
    )
    return stored, summary


def _ingest(ctx: Ctx, filename: str, digest: str, read: Any, timezone: str | tzinfo) -> ImportReport:
    require(ctx.actor, Permission.RECORD_RESULTS)
    report = start_report(ctx, LAB_RESULTS, filename, digest)
    try:
        outcome = _Outcome()
        _check(ctx, read(outcome), _zone(timezone), outcome)
        ctx.session.add(report)
        ctx.session.flush()
        _store(ctx, report, outcome)
    except Exception as error:
        ctx.session.rollback()
        keep_failed_report(ctx, report, error)
        raise
    return report


def ingest_lab_file(ctx: Ctx, filename: str, content: bytes, *, timezone: str | tzinfo) -> ImportReport:
    """Store a lab export (CSV or XLSX) in one transaction; returns the kept report."""

    def read(outcome: _Outcome) -> Iterator[tuple[int, list[Any]]]:
        if filename.lower().endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":
            return _xlsx_rows(content)
        return _csv_rows(content, outcome)

    return _ingest(ctx, filename, hashlib.sha256(content).hexdigest(), read, timezone)


def record_results(
    ctx: Ctx, items: Sequence[Mapping[str, Any]], *, timezone: str | tzinfo, source: str = "api"
) -> ImportReport:
    """Store a batch of results (API): the same checks and report as a file; item 1 is row 1."""
    digest = hashlib.sha256(json.dumps(list(items), default=str, sort_keys=True).encode()).hexdigest()

    def read(_outcome: _Outcome) -> Iterator[tuple[int, list[Any]]]:
        for number, item in enumerate(items, start=1):
            yield number, [item.get(name) for name in COLUMNS]

    return _ingest(ctx, source, digest, read, timezone)


# -- reading back -----------------------------------------------------------------------------------


def get_upload(ctx: Ctx, report_id: int) -> LabUploadPublic:
    """A kept lab-results report, with how many of its results are still held and how many are positive."""
    report = ctx.session.get(ImportReport, report_id)
    if (
        report is None
        or report.kind != LAB_RESULTS
        or (
            ctx.actor.jurisdiction_path
            and report.jurisdiction_id != ctx.actor.jurisdiction_id
            and report.actor_id != ctx.actor.user_id
        )
    ):
        raise NotFound(f"lab upload {report_id} not found")
    counts = ctx.session.execute(
        select(
            func.count(LabResult.id).filter(LabResult.tube_id.is_(None)),
            func.count(LabResult.id).filter(LabResult.result == TestResult.POSITIVE.value),
        ).where(LabResult.upload_id == report_id)
    ).one()
    public = LabUploadPublic.model_validate(report)
    public.held, public.positive = counts[0] or 0, counts[1] or 0
    return public


def list_uploads(ctx: Ctx, page: Page) -> list[ImportReport]:
    """The latest lab-results reports: all of them for an unscoped user, else their own jurisdiction's."""
    stmt = select(ImportReport).where(ImportReport.kind == LAB_RESULTS)
    if ctx.actor.jurisdiction_path:
        stmt = stmt.where(
            (ImportReport.jurisdiction_id == ctx.actor.jurisdiction_id) | (ImportReport.actor_id == ctx.actor.user_id)
        )
    stmt = stmt.order_by(ImportReport.id.desc()).limit(page.page_size).offset(page.offset)
    return list(ctx.session.scalars(stmt))


def list_held(ctx: Ctx, page: Page) -> tuple[list[LabResult], int]:
    """Results waiting for their tube (held), oldest first; they name no person."""
    require(ctx.actor, Permission.RECORD_RESULTS)
    stmt = select(LabResult).where(LabResult.tube_id.is_(None))
    count = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = ctx.session.scalars(
        stmt.order_by(LabResult.recorded_at, LabResult.id).limit(page.page_size).offset(page.offset)
    )
    return list(rows), count


def on_tubes_opened(ctx: Ctx, tubes: list[Tube]) -> None:
    """Match results that arrived before their tube (held results) to these new tubes, and follow them up.

    Safe to call again for the same tubes (e.g. when a pooled tube closes): members added since
    a positive result was matched are then controlled too; nothing is done twice.
    """
    if not tubes:
        return
    ctx.session.flush()
    by_barcode = {t.barcode: t for t in tubes}
    refs: list[ResultRef] = []
    resulted: list[int] = []
    barcodes = sorted(by_barcode)
    for start in range(0, len(barcodes), 1000):
        held = ctx.session.execute(
            select(LabResult.id, LabResult.tube_barcode, LabResult.result).where(
                LabResult.tube_id.is_(None), LabResult.tube_barcode.in_(barcodes[start : start + 1000])
            )
        ).all()
        for id_, barcode, result in held:
            tube = by_barcode[barcode]
            ctx.session.execute(update(LabResult).where(LabResult.id == id_).values(tube_id=tube.id))
            if tube.kind == TubeKind.SINGLE or result == TestResult.POSITIVE:
                refs.append(ResultRef(id_, tube.id, result, tube.kind))
            if result in VALID_RESULTS:
                resulted.append(tube.id)
    mark_resulted(ctx.session, resulted)
    matched = {r.lab_result_id for r in refs}
    kinds = {t.id: t.kind for t in tubes}
    earlier = ctx.session.execute(
        select(LabResult.id, LabResult.tube_id, LabResult.result).where(LabResult.tube_id.in_(sorted(kinds)))
    ).all()
    refs += [
        ResultRef(id_, tube_id, result, kinds[tube_id])
        for id_, tube_id, result in earlier
        if id_ not in matched
        and tube_id is not None
        and (kinds[tube_id] == TubeKind.SINGLE or result == TestResult.POSITIVE)
    ]
    follow_up(ctx, refs)
