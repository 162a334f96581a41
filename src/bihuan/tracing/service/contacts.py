"""Traced contacts (密接、次密接、时空伴随者、一般接触者): the contact engine run for an investigation.

A run reads the scan store through the engine (DuckDB by default, Spark by configuration), stores
one contact per (case, person) with every reason it was found for, and raises ``contact_identified``
for each new contact — the grouping queue — or for one whose category changed. Running again on
the same data changes nothing and raises nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import aliased

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import core_table, count_rows
from bihuan.core.errors import FieldError
from bihuan.core.events import Event, EventRecord, make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import ContactCategory, plan_document, quarantine_plan
from bihuan.tracing.backends import DuckDBBackend, QueryBackend
from bihuan.tracing.choices import InvestigationStatus, VisitSource
from bihuan.tracing.engine import CaseExposure, Contact, ContactFindings, find_contacts
from bihuan.tracing.models import Investigation, TracedContact, TracingRun, TrajectoryVisit
from bihuan.tracing.schemas import ContactPublic
from bihuan.tracing.service import chains
from bihuan.tracing.service.investigations import exposure_window, import_scan_visits, scoped_investigation
from bihuan.tracing.service.runtime import TracingRuntime

_CHUNK = 1000
_BULK = 20_000


def trace_contacts(ctx: Ctx, investigation_id: int, runtime: TracingRuntime) -> TracingRun:
    """Run the contact engine for one investigation and store what it finds (快流调)."""
    require(ctx.actor, Permission.INVESTIGATE)
    return trace_investigations(ctx, [scoped_investigation(ctx, investigation_id)], runtime)[0]


def trace_pending(ctx: Ctx, runtime: TracingRuntime) -> list[TracingRun]:
    """Trace every open investigation that was never traced, in one engine run (a drill's or demo's batch)."""
    require(ctx.actor, Permission.INVESTIGATE)
    stmt = select(Investigation).where(
        Investigation.last_traced_at.is_(None), Investigation.status == InvestigationStatus.OPEN.value
    )
    pending = list(ctx.session.scalars(stmt.order_by(Investigation.id)))
    return trace_investigations(ctx, pending, runtime) if pending else []


def trace_investigations(ctx: Ctx, batch: Sequence[Investigation], runtime: TracingRuntime) -> list[TracingRun]:
    """One engine run for these investigations (the engine reads the big logs once for all of them);
    each gets its contacts stored, its source links and a run record with the bad rows the run met."""
    cases = [_exposure(ctx, investigation, runtime) for investigation in batch]
    began = time.perf_counter()
    backend = _backend(runtime)
    try:
        findings = find_contacts(
            backend,
            runtime.store.sources(ctx),
            cases,
            runtime.profile,
            isolated_at=_isolation_times(ctx, {i.person_id for i in batch}),
            case_visits=_reported_visits(ctx, batch),
            until=_naive(ctx.clock.now()),
        )
    finally:
        backend.close()
    seconds = round(time.perf_counter() - began, 3)
    return [_record_run(ctx, investigation, findings, seconds, runtime) for investigation in batch]


def _exposure(ctx: Ctx, investigation: Investigation, runtime: TracingRuntime) -> CaseExposure:
    """The case's window for the engine, after copying its own scans onto the trajectory."""
    import_scan_visits(ctx, investigation, runtime)
    start, end = exposure_window(investigation, runtime)
    return CaseExposure(investigation.person_id, _naive(start), _naive(end) if end else None)


def _record_run(
    ctx: Ctx, investigation: Investigation, findings: ContactFindings, seconds: float, runtime: TracingRuntime
) -> TracingRun:
    found = tuple(findings.of_case(investigation.person_id).values())
    new, changed = _store(ctx, investigation, found, runtime)
    chains.link_contacts_who_are_cases(ctx, investigation)
    investigation.last_traced_at = ctx.clock.now()
    run = TracingRun(
        investigation_id=investigation.id,
        backend=runtime.backend,
        started_at=ctx.clock.now(),
        seconds=seconds,
        found=_by_category(found),
        new_contacts=new,
        changed_contacts=changed,
        bad_rows=dict(findings.bad_rows),
    )
    ctx.session.add(run)
    ctx.session.flush()
    return run


def _reported_visits(ctx: Ctx, batch: Sequence[Investigation]) -> pa.Table:
    """Self-reported and transport stays at registered venues: they count as the cases' own scans."""
    person_of = {i.id: i.person_id for i in batch}
    stmt = select(
        TrajectoryVisit.investigation_id, TrajectoryVisit.venue_id, TrajectoryVisit.starts_at, TrajectoryVisit.ends_at
    ).where(
        TrajectoryVisit.investigation_id.in_(list(person_of)),
        TrajectoryVisit.venue_id.is_not(None),
        TrajectoryVisit.source != VisitSource.VENUE_SCAN.value,
    )
    rows = ctx.session.execute(stmt).all()
    return pa.table(
        {
            "person_key": pa.array([person_of[r[0]] for r in rows], pa.int64()),
            "venue_id": pa.array([r[1] for r in rows], pa.int32()),
            "time_in": pa.array([_naive(r[2]) for r in rows], pa.timestamp("us")),
            "time_out": pa.array([_naive(r[3]) for r in rows], pa.timestamp("us")),
        }
    )


def _backend(runtime: TracingRuntime) -> QueryBackend:
    if runtime.backend == "spark":
        from bihuan.tracing.backends_spark import SparkBackend

        return SparkBackend(runtime.spark_master)
    if runtime.backend != "duckdb":
        raise FieldError("backend", f"unknown contact-engine backend {runtime.backend!r}: duckdb or spark")
    return DuckDBBackend()


def _naive(moment: datetime) -> datetime:
    """The scan store's times are naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _isolation_times(ctx: Ctx, case_person_ids: set[int]) -> dict[int, datetime]:
    """When traced people were isolated (``isolation_started``): their secondary windows end there."""
    rows = ctx.session.execute(
        select(Event.person_id, func.min(Event.occurred_at))
        .where(Event.kind == EventKind.ISOLATION_STARTED.value, Event.person_id.is_not(None))
        .where(Event.person_id.not_in(case_person_ids))
        .group_by(Event.person_id)
    )
    return {int(person): _naive(moment) for person, moment in rows if person is not None}


def _by_category(found: Sequence[Contact]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for contact in found:
        counts[str(contact.category)] = counts.get(str(contact.category), 0) + 1
    return counts


def plan_summary(category: ContactCategory, last_exposure: datetime, runtime: TracingRuntime) -> dict[str, Any]:
    """The quarantine plan (隔离方案) the last exposure sets, as plain data; empty when the profile has none."""
    try:
        plan = quarantine_plan(category, runtime.local_date(last_exposure), runtime.profile)
    except FieldError:
        return {}
    return plan_document(plan)


def _store(
    ctx: Ctx, investigation: Investigation, contacts: Sequence[Contact], runtime: TracingRuntime
) -> tuple[int, int]:
    """Insert new contacts in bulk and update changed ones, with one event each; unchanged ones stay as they are."""
    stored = {
        c.person_id: c
        for c in ctx.session.scalars(select(TracedContact).where(TracedContact.case_id == investigation.case_id))
    }
    plans = _PlanBook(runtime)
    fresh = [c for c in contacts if c.contact_key not in stored]
    rows = _insert_new(ctx, investigation, fresh, plans)
    updates = (_update(ctx, stored[c.contact_key], c, plans) for c in contacts if c.contact_key in stored)
    changed = [update for update in updates if update is not None]
    events = [_identified(ctx, investigation, row, None) for row in rows]
    events += [_identified(ctx, investigation, row, previous) for row, previous in changed if previous != row.category]
    record_many(ctx, events)
    return len(rows), len(changed)


class _PlanBook:
    """Quarantine plans by (category, last-exposure day): thousands of contacts share a few plans."""

    def __init__(self, runtime: TracingRuntime) -> None:
        self._runtime = runtime
        self._plans: dict[tuple[ContactCategory, date], dict[str, Any]] = {}

    def plan(self, category: ContactCategory, last_exposure: datetime) -> dict[str, Any]:
        key = (category, self._runtime.local_date(last_exposure))
        if key not in self._plans:
            self._plans[key] = plan_summary(category, last_exposure, self._runtime)
        return self._plans[key]


@dataclass(frozen=True, slots=True)
class _Stored:
    """A contact just inserted: its id and the values written (what its event needs)."""

    id: int
    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        return self.values[name]


def _insert_new(ctx: Ctx, investigation: Investigation, contacts: Sequence[Contact], plans: _PlanBook) -> list[_Stored]:
    """New contacts in bulk (executemany), returned as detached rows with their ids."""
    places = _jurisdictions(ctx, [c.contact_key for c in contacts])
    now = ctx.clock.now()
    values = [
        {
            "investigation_id": investigation.id,
            "case_id": investigation.case_id,
            "person_id": c.contact_key,
            "jurisdiction_id": places[c.contact_key],
            "category": c.category.value,
            "reasons": list(c.reasons),
            "first_exposure": _aware(c.first_exposure),
            "last_exposure": _aware(c.last_exposure),
            "minutes": c.minutes,
            "identified_at": now,
            "updated_at": now,
            "plan": plans.plan(c.category, _aware(c.last_exposure)),
        }
        for c in contacts
    ]
    for i in range(0, len(values), _BULK):
        ctx.session.execute(insert(core_table(TracedContact)), values[i : i + _BULK])
    ids = dict(_ids_of(ctx, investigation.case_id, [c.contact_key for c in contacts]))
    return [_Stored(ids[c.contact_key], row) for c, row in zip(contacts, values, strict=True)]


def _ids_of(ctx: Ctx, case_id: int, person_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(person id, contact id) of a case's stored contacts among these people."""
    found: list[tuple[int, int]] = []
    for i in range(0, len(person_ids), _CHUNK):
        stmt = select(TracedContact.person_id, TracedContact.id).where(
            TracedContact.case_id == case_id, TracedContact.person_id.in_(person_ids[i : i + _CHUNK])
        )
        found.extend((int(p), int(c)) for p, c in ctx.session.execute(stmt))
    return found


def _update(ctx: Ctx, row: TracedContact, found: Contact, plans: _PlanBook) -> tuple[TracedContact, str] | None:
    """Bring a stored contact up to what the engine found now; None when nothing changed."""
    first, last = _aware(found.first_exposure), _aware(found.last_exposure)
    current = (found.category.value, list(found.reasons), first, last)
    if (row.category, list(row.reasons), row.first_exposure, row.last_exposure) == current:
        return None
    previous = row.category
    row.category, row.reasons, row.first_exposure, row.last_exposure = current
    row.minutes, row.updated_at = found.minutes, ctx.clock.now()
    row.plan = plans.plan(found.category, last)
    return row, previous


def _identified(
    ctx: Ctx, investigation: Investigation, row: TracedContact | _Stored, previous: str | None
) -> EventRecord:
    """``contact_identified`` (密接判定 → 快编组): category, last exposure, the plan's end; the rest is on the row."""
    payload: dict[str, Any] = {
        "category": row.category,
        "last_exposure": row.last_exposure.isoformat(),
        "plan_end": row.plan.get("end"),
    }
    if previous is not None:
        payload["reclassified_from"] = previous
    return make_event(
        ctx,
        EventKind.CONTACT_IDENTIFIED,
        person_id=row.person_id,
        jurisdiction_id=row.jurisdiction_id,
        subject_type="contact",
        subject_id=row.id,
        refs={"case": investigation.case_id, "investigation": investigation.id},
        payload=payload,
    )


def _jurisdictions(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, int]:
    keys = sorted(set(person_ids))
    found: dict[int, int] = {}
    for i in range(0, len(keys), _CHUNK):
        rows = ctx.session.execute(select(Person.id, Person.jurisdiction_id).where(Person.id.in_(keys[i : i + _CHUNK])))
        found.update({int(p): int(j) for p, j in rows})
    return found


# -- reading -------------------------------------------------------------------------------------------


def _contacts_query(base: Select[Any]) -> Select[Any]:
    """Traced contacts with their person, place and the case's person."""
    case_person = aliased(Person)
    return (
        base.add_columns(Person.name, Person.resident_id, Jurisdiction.name, case_person.name)
        .join(Person, Person.id == TracedContact.person_id)
        .join(Jurisdiction, Jurisdiction.id == TracedContact.jurisdiction_id)
        .join(Investigation, Investigation.id == TracedContact.investigation_id)
        .join(case_person, case_person.id == Investigation.person_id)
    )


def list_contacts(
    ctx: Ctx,
    page: Page,
    *,
    investigation_id: int | None = None,
    category: ContactCategory | None = None,
    person_id: int | None = None,
) -> tuple[list[ContactPublic], int]:
    """Traced contacts: of one investigation (scoped by the case), or every contact living in the actor's subtree."""
    require(ctx.actor, Permission.READ_TRACING)
    if investigation_id is not None:
        scoped_investigation(ctx, investigation_id)
        stmt = _contacts_query(select(TracedContact).where(TracedContact.investigation_id == investigation_id))
    else:
        stmt = _contacts_query(in_scope(ctx, select(TracedContact), TracedContact.jurisdiction_id))
    if category is not None:
        stmt = stmt.where(TracedContact.category == category.value)
    if person_id is not None:
        stmt = stmt.where(TracedContact.person_id == person_id)
    count = count_rows(ctx.session, stmt)
    rows = ctx.session.execute(
        stmt.order_by(TracedContact.category, TracedContact.last_exposure.desc(), TracedContact.id)
        .limit(page.page_size)
        .offset(page.offset)
    )
    return [_contact_public(*row) for row in rows], count


def _contact_public(
    row: TracedContact, name: str, resident_id: str | None, place: str, case_name: str
) -> ContactPublic:
    return ContactPublic(
        id=row.id,
        case_id=row.case_id,
        case_person_name=case_name,
        person_id=row.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        jurisdiction_name=place,
        category=ContactCategory(row.category),
        reasons=list(row.reasons),
        first_exposure=row.first_exposure,
        last_exposure=row.last_exposure,
        minutes=row.minutes,
        identified_at=row.identified_at,
        plan=dict(row.plan or {}),
    )


def latest_run(ctx: Ctx, investigation_id: int) -> TracingRun | None:
    """The investigation's last engine run (its bad-row report), if any."""
    scoped_investigation(ctx, investigation_id)
    stmt = select(TracingRun).where(TracingRun.investigation_id == investigation_id)
    return ctx.session.scalar(stmt.order_by(TracingRun.id.desc()).limit(1))


def plans_of(ctx: Ctx, person_ids: Sequence[int], category: ContactCategory) -> dict[int, dict[str, Any]]:
    """The quarantine plan (隔离方案) of each person's latest exposure in `category`, as tracing stored it
    (its ``last_exposure_date`` is the local date); people not traced in that category are left out."""
    found: dict[int, tuple[datetime, dict[str, Any]]] = {}
    for i in range(0, len(person_ids), _CHUNK):
        stmt = select(TracedContact.person_id, TracedContact.last_exposure, TracedContact.plan).where(
            TracedContact.person_id.in_(person_ids[i : i + _CHUNK]), TracedContact.category == category.value
        )
        for person_id, last, plan in ctx.session.execute(stmt):
            if plan and (person_id not in found or last > found[person_id][0]):
                found[person_id] = (last, dict(plan))
    return {person_id: plan for person_id, (_, plan) in found.items()}
