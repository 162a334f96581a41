"""Bulk import of persons from CSV or XLSX (批量导入).

Valid rows are stored, each bad row is reported with its row, field and reason, and the report
is kept. The same file again changes nothing (idempotent on the identity number). The rows
are written in one transaction: a crash part-way leaves the register as it was, with a failed
report saying why.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.events import make_event, record, record_many
from bihuan.core.import_reports import ImportReport, finish_report, keep_failed_report, start_report
from bihuan.core.permissions import Permission, require
from bihuan.people import service
from bihuan.people.choices import ImportKind
from bihuan.people.models import Address, Household, Jurisdiction, Person
from bihuan.people.validation import PersonIdentity, clean_identity

COLUMNS = (
    "resident_id",
    "passport_no",
    "nationality",
    "name",
    "sex",
    "birth_date",
    "phone",
    "jurisdiction_code",
    "household_code",
    "address_code",
)
REQUIRED_COLUMNS = ("name", "jurisdiction_code")
_IDENTITY_FIELDS = ("resident_id", "passport_no", "nationality", "name", "sex", "birth_date", "phone")
_CHUNK = 1000
Progress = Callable[[int, int], None]


@dataclass
class _Row:
    number: int  # the row number a spreadsheet shows: the header is row 1
    identity: PersonIdentity
    jurisdiction_id: int
    household_code: str | None
    address_code: str | None


@dataclass
class _Outcome:
    rows: list[_Row] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0

    def reject(self, row: int, field_: str, reason: str) -> None:
        self.errors.append({"row": row, "field": field_, "reason": reason})


# -- reading files --------------------------------------------------------------------------------


def _decode(content: bytes) -> tuple[list[str], list[int]]:
    """Lines of text; UTF-8 (with or without BOM) or, failing that, GB18030 as Excel in China writes.

    Returns the lines and the line numbers (1-based) that could be decoded in neither encoding."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding).splitlines(), []
        except UnicodeDecodeError:
            continue
    lines, bad = [], []
    for number, raw in enumerate(content.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
        for encoding in ("utf-8", "gb18030"):  # line by line, so a GB18030 file keeps its good rows too
            try:
                lines.append(raw.decode(encoding))
                break
            except UnicodeDecodeError:
                continue
        else:
            lines.append("")
            bad.append(number)
    return lines, bad


def _csv_records(content: bytes, outcome: _Outcome) -> Iterator[tuple[int, dict[str, Any]]]:
    lines, undecodable = _decode(content)
    for number in undecodable:
        if number > 1:
            outcome.reject(number, "encoding", "the row is neither UTF-8 nor GB18030 text")
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header or 1 in undecodable:
        raise FieldError("file", "no readable header row")
    names = _check_header(header)
    for index, values in enumerate(reader, start=2):
        if index in undecodable or not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            outcome.reject(index, "row", f"has {len(values)} columns, the header has {len(names)}")
            continue
        yield index, dict(zip(names, values, strict=True))


def _xlsx_records(content: bytes, outcome: _Outcome) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise FieldError("file", f"not a readable XLSX workbook ({type(error).__name__})") from None
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise FieldError("file", "no header row")
    names = _check_header(["" if h is None else str(h) for h in header])
    for index, values in enumerate(rows, start=2):
        cells = ["" if v is None else v for v in values][: len(names)]
        if not any(str(c).strip() for c in cells):
            continue
        cells += [""] * (len(names) - len(cells))
        yield index, dict(zip(names, cells, strict=True))


def _check_header(header: list[str]) -> list[str]:
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise FieldError("file", f"missing column(s): {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        raise FieldError("file", f"unknown column(s): {', '.join(unknown)}; expected {', '.join(COLUMNS)}")
    return names


def _records(filename: str, content: bytes, outcome: _Outcome) -> Iterator[tuple[int, dict[str, Any]]]:
    if filename.lower().endswith((".xlsx", ".xlsm")) or content[:2] == b"PK":
        return _xlsx_records(content, outcome)
    return _csv_records(content, outcome)


# -- validating rows ------------------------------------------------------------------------------


def _validate(ctx: Ctx, filename: str, content: bytes) -> _Outcome:
    outcome = _Outcome()
    records = list(_records(filename, content, outcome))
    outcome.total = len(records) + len(outcome.errors)
    codes = {str(r.get("jurisdiction_code", "")).strip() for _, r in records}
    jurisdictions = service.jurisdictions_by_code(ctx, codes - {""})
    seen: dict[tuple[str | None, str | None, str], int] = {}
    today = ctx.clock.now().date()
    for number, raw in records:
        try:
            identity = clean_identity({k: raw.get(k) for k in _IDENTITY_FIELDS}, today=today)
        except FieldError as error:
            outcome.reject(number, error.field, error.reason)
            continue
        code = str(raw.get("jurisdiction_code", "")).strip()
        if code not in jurisdictions:
            reason = "is required" if not code else f"{code} is unknown or outside your jurisdiction"
            outcome.reject(number, "jurisdiction_code", reason)
            continue
        key = (identity.resident_id, identity.passport_no, identity.nationality)
        if key in seen:
            outcome.reject(
                number, "resident_id" if identity.resident_id else "passport_no", f"the same person as row {seen[key]}"
            )
            continue
        seen[key] = number
        outcome.rows.append(
            _Row(
                number,
                identity,
                jurisdictions[code].id,
                str(raw.get("household_code") or "").strip() or None,
                str(raw.get("address_code") or "").strip() or None,
            )
        )
    return outcome


# -- storing --------------------------------------------------------------------------------------


def _lookup(ctx: Ctx, column: Any, keys: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(keys)
    model = column.class_
    for start in range(0, len(ordered), _CHUNK):
        stmt = select(column, model.id).where(column.in_(ordered[start : start + _CHUNK]))
        found.update((key, id_) for key, id_ in ctx.session.execute(stmt))
    return found


def _outside_scope_codes(ctx: Ctx, model: type[Address] | type[Household], found: dict[str, int]) -> set[str]:
    """The codes among those found whose address or household lies outside the actor's subtree."""
    if not ctx.actor.jurisdiction_path or not found:
        return set()
    ids, visible = sorted(found.values()), set[int]()
    for start in range(0, len(ids), _CHUNK):
        stmt = select(model.id).where(model.id.in_(ids[start : start + _CHUNK]))
        visible.update(ctx.session.scalars(service.in_scope(ctx, stmt, model.jurisdiction_id)))
    return {code for code, id_ in found.items() if id_ not in visible}


def _resolve_addresses_and_households(ctx: Ctx, outcome: _Outcome) -> tuple[dict[str, int], dict[str, int]]:
    addresses = _lookup(ctx, Address.code, {r.address_code for r in outcome.rows if r.address_code})
    households = _lookup(ctx, Household.code, {r.household_code for r in outcome.rows if r.household_code})
    foreign_addresses = _outside_scope_codes(ctx, Address, addresses)
    foreign_households = _outside_scope_codes(ctx, Household, households)
    kept: list[_Row] = []
    for row in outcome.rows:
        if row.address_code and row.address_code not in addresses:
            outcome.reject(row.number, "address_code", f"{row.address_code} is not a registered address")
        elif row.address_code in foreign_addresses:
            outcome.reject(row.number, "address_code", f"{row.address_code} is registered outside your jurisdiction")
        elif row.household_code in foreign_households:
            outcome.reject(
                row.number, "household_code", f"{row.household_code} is registered outside your jurisdiction"
            )
        else:
            kept.append(row)
    outcome.rows = kept
    new = {r.household_code: r for r in kept if r.household_code and r.household_code not in households}
    if new:
        ctx.session.execute(
            insert(Household),
            [
                {
                    "code": code,
                    "jurisdiction_id": r.jurisdiction_id,
                    "address_id": addresses.get(r.address_code) if r.address_code else None,
                }
                for code, r in new.items()
            ],
        )
        households.update(_lookup(ctx, Household.code, set(new)))
    return addresses, households


def _person_values(row: _Row, addresses: dict[str, int], households: dict[str, int]) -> dict[str, Any]:
    identity = row.identity
    return {
        "resident_id": identity.resident_id,
        "passport_no": identity.passport_no,
        "nationality": identity.nationality,
        "name": identity.name,
        "sex": identity.sex,
        "birth_date": identity.birth_date,
        "phone": identity.phone,
        "jurisdiction_id": row.jurisdiction_id,
        "household_id": households.get(row.household_code) if row.household_code else None,
        "address_id": addresses.get(row.address_code) if row.address_code else None,
    }


def _existing_persons(ctx: Ctx, rows: list[_Row]) -> dict[tuple[str | None, str | None, str], Person]:
    existing: dict[tuple[str | None, str | None, str], Person] = {}
    rids = sorted({r.identity.resident_id for r in rows if r.identity.resident_id})
    for start in range(0, len(rids), _CHUNK):
        for p in ctx.session.scalars(select(Person).where(Person.resident_id.in_(rids[start : start + _CHUNK]))):
            existing[(p.resident_id, None, p.nationality)] = p
    passports = sorted({r.identity.passport_no for r in rows if r.identity.passport_no})
    for start in range(0, len(passports), _CHUNK):
        stmt = select(Person).where(Person.passport_no.in_(passports[start : start + _CHUNK]))
        for p in ctx.session.scalars(stmt):
            existing[(None, p.passport_no, p.nationality)] = p
    return existing


def _outside_scope(ctx: Ctx, persons: list[Person]) -> set[int]:
    """Ids of registered persons outside the actor's subtree: an import may neither change nor move them."""
    if not ctx.actor.jurisdiction_path or not persons:
        return set()
    stmt = select(Jurisdiction.id, Jurisdiction.path).where(Jurisdiction.id.in_({p.jurisdiction_id for p in persons}))
    paths = {id_: path for id_, path in ctx.session.execute(stmt)}
    return {p.id for p in persons if not ctx.actor.sees(paths[p.jurisdiction_id])}


def _store(ctx: Ctx, outcome: _Outcome, report: ImportReport, progress: Progress | None) -> None:
    addresses, households = _resolve_addresses_and_households(ctx, outcome)
    existing = _existing_persons(ctx, outcome.rows)
    outside = _outside_scope(ctx, list(existing.values()))
    now = ctx.clock.now()
    creates: list[dict[str, Any]] = []
    for done, row in enumerate(outcome.rows, start=1):
        values = _person_values(row, addresses, households)
        key = (row.identity.resident_id, row.identity.passport_no, row.identity.nationality)
        person = existing.get(key)
        if person is None:
            creates.append(values | {"created_at": now, "updated_at": now})
        elif person.id in outside:
            field_ = "resident_id" if row.identity.resident_id else "passport_no"
            outcome.reject(row.number, field_, "is registered to a person outside your jurisdiction")
        else:
            _update_if_changed(ctx, person, values, report)
        if progress and done % _CHUNK == 0:
            progress(done, len(outcome.rows))
    for start in range(0, len(creates), _CHUNK):
        chunk = creates[start : start + _CHUNK]
        ids = ctx.session.execute(insert(Person).returning(Person.id, Person.jurisdiction_id), chunk).all()
        record_many(
            ctx,
            (
                make_event(
                    ctx,
                    EventKind.PERSON_CREATED,
                    person_id=pid,
                    jurisdiction_id=jid,
                    subject_type="person",
                    subject_id=pid,
                    refs={"import_report": report.id},
                    payload={"source": "import"},
                )
                for pid, jid in ids
            ),
        )
    report.rows_created = len(creates)


def _update_if_changed(ctx: Ctx, person: Person, values: dict[str, Any], report: ImportReport) -> None:
    diff = {k: v for k, v in values.items() if v is not None and getattr(person, k) != v}
    if not diff:
        report.rows_unchanged += 1
        return
    ctx.session.execute(update(Person).where(Person.id == person.id).values(**diff, updated_at=ctx.clock.now()))
    report.rows_updated += 1
    record(
        ctx,
        EventKind.PERSON_UPDATED,
        person_id=person.id,
        jurisdiction_id=values["jurisdiction_id"],
        subject_type="person",
        subject_id=person.id,
        refs={"import_report": report.id},
        payload={"source": "import", "fields": sorted(diff)},
    )


def import_persons(ctx: Ctx, filename: str, content: bytes, *, progress: Progress | None = None) -> ImportReport:
    """Import a CSV or XLSX of persons in one transaction; returns the kept report."""
    require(ctx.actor, Permission.IMPORT_PEOPLE)
    report = start_report(ctx, ImportKind.PERSONS.value, filename, hashlib.sha256(content).hexdigest())
    try:
        outcome = _validate(ctx, filename, content)
        ctx.session.add(report)
        ctx.session.flush()
        _store(ctx, outcome, report, progress)
    except Exception as error:
        ctx.session.rollback()
        keep_failed_report(ctx, report, error)
        raise
    finish_report(
        ctx, report, EventKind.IMPORT_COMPLETED, total=outcome.total, errors=outcome.errors, updated=report.rows_updated
    )
    return report


def get_report(ctx: Ctx, report_id: int) -> ImportReport:
    report = ctx.session.get(ImportReport, report_id)
    if report is None or (
        ctx.actor.jurisdiction_path
        and report.jurisdiction_id != ctx.actor.jurisdiction_id
        and report.actor_id != ctx.actor.user_id
    ):
        raise NotFound(f"import report {report_id} not found")
    return report
