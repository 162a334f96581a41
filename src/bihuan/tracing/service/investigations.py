"""Investigations (流调): one per confirmed case, its facts, and its trajectory of visits.

An investigation opens when a case is confirmed (``case_confirmed``) and carries what the
investigator learns: onset, symptoms, travel history, lineage, isolation time and the trajectory.
The close-contact window is the profile's rule applied to those facts. A trajectory that
contradicts itself (a stay that ends before it starts, two stays at once) is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Select, func, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import count_rows
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.people.models import Household, Jurisdiction, Person, Venue
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.protocol import CaseFacts, close_contact_window
from bihuan.screening.models import Case
from bihuan.tracing.choices import InvestigationStatus, VisitSource
from bihuan.tracing.models import Investigation, TracedContact, TrajectoryVisit
from bihuan.tracing.schemas import (
    InvestigationPublic,
    InvestigationUpdate,
    TimelinePublic,
    VisitCreate,
    VisitPublic,
)
from bihuan.tracing.service.runtime import TracingRuntime


def open_investigation(ctx: Ctx, case_id: int) -> Investigation:
    """The case's investigation, opened now with ``investigation_opened`` (again: the same one)."""
    found = ctx.session.scalar(select(Investigation).where(Investigation.case_id == case_id))
    if found is not None:
        return found
    case = ctx.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    investigation = Investigation(
        case_id=case.id,
        person_id=case.person_id,
        jurisdiction_id=case.jurisdiction_id,
        status=InvestigationStatus.OPEN.value,
        opened_at=ctx.clock.now(),
        onset_date=case.onset_date,
        first_positive_sampling_date=case.first_positive_sampling_date,
        symptoms=[],
    )
    ctx.session.add(investigation)
    ctx.session.flush()
    _announce(ctx, investigation, EventKind.INVESTIGATION_OPENED)
    return investigation


def _announce(ctx: Ctx, investigation: Investigation, kind: EventKind) -> None:
    """An investigation's event, on the case's person (their loop timeline shows it)."""
    record(
        ctx,
        kind,
        person_id=investigation.person_id,
        jurisdiction_id=investigation.jurisdiction_id,
        subject_type="investigation",
        subject_id=investigation.id,
        refs={"case": investigation.case_id},
    )


def scoped_investigation(ctx: Ctx, investigation_id: int) -> Investigation:
    """An investigation of a case in the actor's subtree (404 outside it, as for a missing one)."""
    stmt = in_scope(ctx, select(Investigation), Investigation.jurisdiction_id).where(
        Investigation.id == investigation_id
    )
    found = ctx.session.scalar(stmt)
    if found is None:
        raise NotFound(f"investigation {investigation_id} not found")
    return found


def exposure_window(investigation: Investigation, runtime: TracingRuntime) -> tuple[datetime, datetime | None]:
    """The close-contact window (密接判定窗口) from the profile, as aware UTC times: [start, end or open]."""
    facts = CaseFacts(
        onset_date=investigation.onset_date,
        first_positive_sampling_date=investigation.first_positive_sampling_date,
        isolated_at=investigation.isolated_at,
    )
    window = close_contact_window(facts, runtime.profile)
    return runtime.local_midnight(window.start), window.end


def update_investigation(
    ctx: Ctx, investigation_id: int, data: InvestigationUpdate, runtime: TracingRuntime
) -> Investigation:
    """Record what the investigator learnt; a fact that contradicts the case is refused naming the field."""
    require(ctx.actor, Permission.INVESTIGATE)
    investigation = scoped_investigation(ctx, investigation_id)
    changes = data.model_dump(exclude_unset=True)
    now = ctx.clock.now()
    case = ctx.session.get(Case, investigation.case_id)
    assert case is not None
    confirmed_day = runtime.local_date(case.confirmed_at)
    if changes.get("onset_date") is not None and changes["onset_date"] > confirmed_day:
        raise FieldError("onset_date", f"is after the case was confirmed ({confirmed_day.isoformat()})")
    isolated_at = changes.get("isolated_at")
    if isolated_at is not None:
        if isolated_at.tzinfo is None:
            raise FieldError("isolated_at", "needs a time zone (e.g. 2021-12-10T08:00:00+08:00)")
        if isolated_at > now:
            raise FieldError("isolated_at", "is in the future")
    if "symptoms" in changes and changes["symptoms"] is not None:
        changes["symptoms"] = sorted({s.strip() for s in changes["symptoms"] if s.strip()})
    for name, value in changes.items():
        if value is None and name not in ("onset_date", "isolated_at"):
            continue
        setattr(investigation, name, value.astimezone(UTC) if isinstance(value, datetime) else value)
    ctx.session.flush()
    return investigation


def close_investigation(ctx: Ctx, investigation_id: int) -> Investigation:
    """Close the investigation (``investigation_closed``); closing twice is refused as a conflict."""
    require(ctx.actor, Permission.INVESTIGATE)
    investigation = scoped_investigation(ctx, investigation_id)
    if investigation.status == InvestigationStatus.CLOSED:
        raise Conflict(f"investigation {investigation_id} is already closed")
    investigation.status = InvestigationStatus.CLOSED.value
    investigation.closed_at = ctx.clock.now()
    ctx.session.flush()
    _announce(ctx, investigation, EventKind.INVESTIGATION_CLOSED)
    return investigation


# -- the trajectory ------------------------------------------------------------------------------------


def add_visit(ctx: Ctx, investigation_id: int, data: VisitCreate, zone: tzinfo = UTC) -> TrajectoryVisit:
    """Add a stay to the trajectory; the same stay again returns the stored one. A clash names the stay
    it clashes with, its times in ``zone`` (the display zone)."""
    require(ctx.actor, Permission.INVESTIGATE)
    investigation = scoped_investigation(ctx, investigation_id)
    starts_at, ends_at = _checked_span(ctx, data)
    if data.venue_id is None and not data.place_text.strip():
        raise FieldError("venue_id", "give a registered venue or the place's address (place_text)")
    if data.venue_id is not None and ctx.session.get(Venue, data.venue_id) is None:
        raise FieldError("venue_id", f"no venue with id {data.venue_id}")
    for visit in _visits(ctx, investigation.id):
        same_place = visit.venue_id == data.venue_id and visit.place_text == data.place_text.strip()
        if same_place and (visit.starts_at, visit.ends_at) == (starts_at, ends_at):
            return visit
        if visit.starts_at < ends_at and starts_at < visit.ends_at:
            span = f"{_local(visit.starts_at, zone)} – {_local(visit.ends_at, zone)}"
            raise FieldError(
                "starts_at",
                f"overlaps visit {visit.id} ({span}): a person is in one place at a time; "
                "correct or delete that visit first",
            )
    visit = TrajectoryVisit(
        investigation_id=investigation.id,
        venue_id=data.venue_id,
        place_text=data.place_text.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        source=data.source.value,
        note=data.note,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(visit)
    ctx.session.flush()
    return visit


def _local(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _checked_span(ctx: Ctx, data: VisitCreate) -> tuple[datetime, datetime]:
    for name in ("starts_at", "ends_at"):
        if getattr(data, name).tzinfo is None:
            raise FieldError(name, "needs a time zone (e.g. 2021-12-08T12:00:00+08:00)")
    starts_at, ends_at = data.starts_at.astimezone(UTC), data.ends_at.astimezone(UTC)
    if ends_at <= starts_at:
        raise FieldError("ends_at", "is not after starts_at: a stay ends after it begins")
    if ends_at > ctx.clock.now():
        raise FieldError("ends_at", "is in the future")
    return starts_at, ends_at


def delete_visit(ctx: Ctx, investigation_id: int, visit_id: int) -> None:
    """Remove a stay from the trajectory (an investigator's correction)."""
    require(ctx.actor, Permission.INVESTIGATE)
    investigation = scoped_investigation(ctx, investigation_id)
    visit = ctx.session.get(TrajectoryVisit, visit_id)
    if visit is None or visit.investigation_id != investigation.id:
        raise NotFound(f"visit {visit_id} not found")
    ctx.session.delete(visit)
    ctx.session.flush()


def import_scan_visits(ctx: Ctx, investigation: Investigation, runtime: TracingRuntime) -> int:
    """Copy the case's own venue scans inside the window onto the trajectory (source: venue_scan)."""
    start, end = exposure_window(investigation, runtime)
    scans = runtime.store.visits_of(investigation.person_id, start, end or ctx.clock.now())
    known = {(v.venue_id, v.starts_at, v.ends_at) for v in _visits(ctx, investigation.id)}
    registered = set(ctx.session.scalars(select(Venue.id).where(Venue.id.in_({s[0] for s in scans}))))
    added = 0
    for venue_id, time_in, time_out in scans:
        if (venue_id, time_in, time_out) in known or venue_id not in registered:
            continue  # already there, or a scan at an unregistered venue (a bad row the engine counts)
        ctx.session.add(
            TrajectoryVisit(
                investigation_id=investigation.id,
                venue_id=venue_id,
                place_text="",
                starts_at=time_in,
                ends_at=time_out,
                source=VisitSource.VENUE_SCAN.value,
                created_at=ctx.clock.now(),
            )
        )
        known.add((venue_id, time_in, time_out))
        added += 1
    ctx.session.flush()
    return added


def _visits(ctx: Ctx, investigation_id: int) -> Sequence[TrajectoryVisit]:
    stmt = select(TrajectoryVisit).where(TrajectoryVisit.investigation_id == investigation_id)
    return ctx.session.scalars(stmt.order_by(TrajectoryVisit.starts_at, TrajectoryVisit.id)).all()


def list_visits(ctx: Ctx, investigation_id: int) -> list[VisitPublic]:
    """The trajectory in time order, with venue names."""
    investigation = scoped_investigation(ctx, investigation_id)
    rows = ctx.session.execute(
        select(TrajectoryVisit, Venue.name, Venue.kind)
        .outerjoin(Venue, Venue.id == TrajectoryVisit.venue_id)
        .where(TrajectoryVisit.investigation_id == investigation.id)
        .order_by(TrajectoryVisit.starts_at, TrajectoryVisit.id)
    )
    return [
        VisitPublic(
            id=v.id,
            investigation_id=v.investigation_id,
            venue_id=v.venue_id,
            venue_name=name,
            venue_kind=kind,
            place_text=v.place_text,
            starts_at=v.starts_at,
            ends_at=v.ends_at,
            source=VisitSource(v.source),
            note=v.note,
        )
        for v, name, kind in rows
    ]


# -- reading -------------------------------------------------------------------------------------------


def _public_query(ctx: Ctx) -> Select[Any]:
    """Investigations in the actor's subtree, with their case, person, place and household."""
    scoped = in_scope(ctx, select(Investigation), Investigation.jurisdiction_id)
    return (
        scoped.add_columns(Case, Person.name, Person.resident_id, Jurisdiction.name, Household.code)
        .join(Case, Case.id == Investigation.case_id)
        .join(Person, Person.id == Investigation.person_id)
        .join(Jurisdiction, Jurisdiction.id == Investigation.jurisdiction_id)
        .outerjoin(Household, Household.id == Person.household_id)
    )


def list_investigations(
    ctx: Ctx,
    page: Page,
    runtime: TracingRuntime,
    *,
    status: InvestigationStatus | None = None,
    only_id: int | None = None,
) -> tuple[list[InvestigationPublic], int]:
    """Investigations of cases in the actor's subtree, newest first, with contact counts by category."""
    require(ctx.actor, Permission.READ_TRACING)
    stmt = _public_query(ctx)
    if status is not None:
        stmt = stmt.where(Investigation.status == status.value)
    if only_id is not None:
        stmt = stmt.where(Investigation.id == only_id)
    count = count_rows(ctx.session, stmt)
    rows = ctx.session.execute(
        stmt.order_by(Investigation.opened_at.desc(), Investigation.id.desc()).limit(page.page_size).offset(page.offset)
    ).all()
    counts = _contact_counts(ctx, [row[0].id for row in rows])
    return [_public(row, runtime, counts.get(row[0].id, {})) for row in rows], count


def get_investigation(ctx: Ctx, investigation_id: int, runtime: TracingRuntime) -> InvestigationPublic:
    found, _ = list_investigations(ctx, Page(page=1, page_size=1), runtime, only_id=investigation_id)
    if not found:
        raise NotFound(f"investigation {investigation_id} not found")
    return found[0]


def _contact_counts(ctx: Ctx, investigation_ids: list[int]) -> dict[int, dict[str, int]]:
    if not investigation_ids:
        return {}
    rows = ctx.session.execute(
        select(TracedContact.investigation_id, TracedContact.category, func.count())
        .where(TracedContact.investigation_id.in_(investigation_ids))
        .group_by(TracedContact.investigation_id, TracedContact.category)
    )
    counts: dict[int, dict[str, int]] = {}
    for investigation_id, category, n in rows:
        counts.setdefault(investigation_id, {})[category] = n
    return counts


def _public(row: Any, runtime: TracingRuntime, contacts: dict[str, int]) -> InvestigationPublic:
    investigation, case, name, resident_id, place, household = row
    start, end = exposure_window(investigation, runtime)
    return InvestigationPublic(
        id=investigation.id,
        case_id=case.id,
        person_id=investigation.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        jurisdiction_id=investigation.jurisdiction_id,
        jurisdiction_name=place,
        household_code=household,
        classification=case.classification,
        confirmed_at=case.confirmed_at,
        status=InvestigationStatus(investigation.status),
        opened_at=investigation.opened_at,
        closed_at=investigation.closed_at,
        onset_date=investigation.onset_date,
        first_positive_sampling_date=investigation.first_positive_sampling_date,
        symptoms=list(investigation.symptoms or []),
        travel_history=investigation.travel_history,
        lineage=investigation.lineage,
        isolated_at=investigation.isolated_at,
        notes=investigation.notes,
        last_traced_at=investigation.last_traced_at,
        window_start=start,
        window_end=end,
        contacts=contacts,
    )


def timeline(ctx: Ctx, investigation_id: int, runtime: TracingRuntime) -> TimelinePublic:
    """The investigation page's timeline: window, onset, sampling, confirmation, isolation, and the visits."""
    public = get_investigation(ctx, investigation_id, runtime)
    moments: list[dict[str, Any]] = [{"kind": "window_start", "at": public.window_start}]
    if public.onset_date is not None:
        moments.append({"kind": "onset", "at": runtime.local_midnight(public.onset_date)})
    moments.append(
        {"kind": "first_positive_sampling", "at": runtime.local_midnight(public.first_positive_sampling_date)}
    )
    moments.append({"kind": "confirmed", "at": public.confirmed_at})
    if public.isolated_at is not None:
        moments.append({"kind": "isolated", "at": public.isolated_at})
    moments.sort(key=lambda m: m["at"])
    return TimelinePublic(investigation=public, visits=list_visits(ctx, investigation_id), moments=moments)
