"""Pages of fast tracing (快流调): the investigations list, the investigator's case page, and the chains page.

The case page is where an investigator works: the facts form, the timeline (key moments and the
trajectory), adding and deleting visits, running the contact engine and reading its contacts. Every
form is a plain post answered with a redirect (or, when refused, the page again with the field's
error and what was typed), so it all works without JavaScript. Rules live in the services.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.support import Translations
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from bihuan.core.context import Ctx
from bihuan.core.deps import UserCtx
from bihuan.core.errors import BihuanError, FieldError, NotFound
from bihuan.core.permissions import Permission, can
from bihuan.people.schemas import Page
from bihuan.people.service import list_venues
from bihuan.protocol import ContactCategory
from bihuan.tracing.chains import UNKNOWN_LINEAGE
from bihuan.tracing.choices import InvestigationStatus, VisitSource
from bihuan.tracing.deps import RuntimeDep
from bihuan.tracing.schemas import ContactPublic, InvestigationPublic, InvestigationUpdate, TimelinePublic, VisitCreate
from bihuan.tracing.service import chains, contacts, investigations, views
from bihuan.tracing.service.runtime import TracingRuntime
from bihuan.web.labels import category_labels
from bihuan.web.templating import render, request_translations

router = APIRouter(include_in_schema=False)
LIST_SIZE = 25
CONTACTS_SIZE = 50
VENUE_CHOICES = 200
FACT_FIELDS = ("onset_date", "symptoms", "travel_history", "lineage", "isolated_at", "notes")
VISIT_FIELDS = ("venue_id", "place_text", "starts_at", "ends_at", "source", "note")
_SYMPTOM_SEPARATORS = re.compile(r"[,，、;；]")


def bad_row_labels(t: Translations) -> dict[str, str]:
    """The engine's kinds of bad scan rows, in words a data clerk acts on."""
    return {
        "missing_value": t.gettext("Missing value"),
        "unknown_person": t.gettext("Person not in the register"),
        "unknown_venue": t.gettext("Venue not registered"),
        "exit_before_entry": t.gettext("Exit before entry"),
        "outside_window": t.gettext("Outside the window"),
        "duplicate": t.gettext("Duplicate row"),
    }


# -- the list ------------------------------------------------------------------------------------------


@router.get("/tracing/investigations")
def investigation_list(
    ctx: UserCtx, request: Request, runtime: RuntimeDep, status: str = "", page: int = 1
) -> Response:
    """Investigations of the user's cases, newest first, with their window and contact counts."""
    chosen = InvestigationStatus(status) if status in set(InvestigationStatus) else None
    page = max(page, 1)
    rows, count = investigations.list_investigations(ctx, Page(page=page, page_size=LIST_SIZE), runtime, status=chosen)
    context = {
        "investigations": rows,
        "count": count,
        "page": page,
        "page_size": LIST_SIZE,
        "status": chosen.value if chosen else "",
        "statuses": list(InvestigationStatus),
        "categories": list(ContactCategory),
        "category_labels": category_labels(request_translations(request)),
    }
    return render(request, "tracing/investigation_list.html", context)


# -- the investigation page ----------------------------------------------------------------------------


def timeline_entries(timeline: TimelinePublic, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Key moments and visits in one time order (a moment before a visit that starts with it)."""
    entries: list[dict[str, Any]] = [{"at": m["at"], "moment": m["kind"], "order": 0} for m in timeline.moments]
    entries += [
        {
            "at": v.starts_at,
            "visit": v,
            "order": 1,
            "same_day": v.starts_at.astimezone(zone).date() == v.ends_at.astimezone(zone).date(),
        }
        for v in timeline.visits
    ]
    return sorted(entries, key=lambda entry: (entry["at"], entry["order"]))


def _plan_end(row: ContactPublic) -> date | None:
    """The last day of the contact's quarantine plan, when the profile gives one."""
    end = row.plan.get("end")
    return date.fromisoformat(end) if isinstance(end, str) else None


def _local_input(moment: datetime | None, zone: ZoneInfo) -> str:
    """An aware time as a datetime-local field's value in the display zone."""
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _parse_local(name: str, value: str, zone: ZoneInfo, t: Translations) -> datetime | None:
    """A datetime-local value read as display-zone wall time, aware; empty gives None."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(name, t.gettext("Enter a date and time, e.g. 2021-12-08 14:30")) from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _required_local(name: str, value: str, zone: ZoneInfo, t: Translations) -> datetime:
    moment = _parse_local(name, value, zone, t)
    if moment is None:
        raise FieldError(name, t.gettext("Enter a date and time, e.g. 2021-12-08 14:30"))
    return moment


def _facts_form(found: InvestigationPublic, zone: ZoneInfo) -> dict[str, str]:
    return {
        "onset_date": found.onset_date.isoformat() if found.onset_date else "",
        "symptoms": ", ".join(found.symptoms),
        "travel_history": found.travel_history,
        "lineage": found.lineage,
        "isolated_at": _local_input(found.isolated_at, zone),
        "notes": found.notes,
    }


def _field_error(error: ValidationError) -> FieldError:
    """The first complaint of a schema, on the field it names."""
    first = error.errors()[0]
    field = str(first["loc"][-1]) if first["loc"] else "form"
    return FieldError(field, str(first["msg"]))


def _page(
    ctx: Ctx,
    request: Request,
    runtime: TracingRuntime,
    investigation_id: int,
    *,
    facts: dict[str, str] | None = None,
    visit: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    flashes: list[tuple[str, str]] | None = None,
    contacts_page: int = 1,
    status_code: int = 200,
) -> Response:
    """The investigation page; a refused form comes back with what was typed and the field's error."""
    zone = runtime.zone
    t = request_translations(request)
    timeline = investigations.timeline(ctx, investigation_id, runtime)
    rows, contact_count = contacts.list_contacts(
        ctx, Page(page=contacts_page, page_size=CONTACTS_SIZE), investigation_id=investigation_id
    )
    venues, _ = list_venues(ctx, Page(page=1, page_size=VENUE_CHOICES))
    context = {
        "investigation": timeline.investigation,
        "entries": timeline_entries(timeline, zone),
        "facts": facts or _facts_form(timeline.investigation, zone),
        "visit": visit or {"source": VisitSource.SELF_REPORT.value},
        "errors": errors or {},
        "flashes": flashes or [],
        "venues": venues,
        "visit_sources": [VisitSource.SELF_REPORT, VisitSource.TRANSPORT_RECORD],
        "contacts": rows,
        "contact_count": contact_count,
        "contacts_page": contacts_page,
        "contacts_size": CONTACTS_SIZE,
        "reasons": views.describe_reasons(ctx, rows),
        "plan_ends": {row.id: _plan_end(row) for row in rows},
        "run": contacts.latest_run(ctx, investigation_id),
        "category_labels": category_labels(t),
        "bad_row_labels": bad_row_labels(t),
        "timezone": runtime.timezone,
        "may_investigate": can(ctx.actor, Permission.INVESTIGATE),
    }
    return render(request, "tracing/investigation.html", context, status_code=status_code)


def _done_flashes(
    ctx: Ctx, request: Request, investigation_id: int, done: str, traced: int | None
) -> list[tuple[str, str]]:
    t = request_translations(request)
    messages = {
        "facts": t.gettext("Investigation saved."),
        "visit_added": t.gettext("Visit added to the trajectory."),
        "visit_deleted": t.gettext("Visit deleted."),
        "closed": t.gettext("Investigation closed."),
    }
    flashes = [("success", messages[done])] if done in messages else []
    run = contacts.latest_run(ctx, investigation_id) if traced is not None else None
    if run is not None and run.id == traced:
        flashes.append(
            (
                "success",
                t.gettext("Contact engine run: %(new)s new contacts, %(changed)s changed.")
                % {"new": run.new_contacts, "changed": run.changed_contacts},
            )
        )
        labels = bad_row_labels(t)
        bad = [f"{labels.get(kind, kind)} {n}" for kind, n in sorted(run.bad_rows.items()) if n]
        if bad:
            flashes.append(("warning", t.gettext("Bad scan rows left out: %(rows)s") % {"rows": ", ".join(bad)}))
    return flashes


@router.get("/tracing/investigations/{investigation_id}")
def investigation_page(
    ctx: UserCtx,
    request: Request,
    runtime: RuntimeDep,
    investigation_id: int,
    done: str = "",
    traced: int | None = None,
    contacts_page: int = 1,
) -> Response:
    """The investigator's page of one case: facts, timeline, trajectory, contacts, the last engine run."""
    flashes = _done_flashes(ctx, request, investigation_id, done, traced)
    return _page(ctx, request, runtime, investigation_id, flashes=flashes, contacts_page=max(contacts_page, 1))


def _back(investigation_id: int, **query: str | int) -> RedirectResponse:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return RedirectResponse(f"/tracing/investigations/{investigation_id}?{params}", status_code=303)


@router.post("/tracing/investigations/{investigation_id}/facts")
def save_facts(
    ctx: UserCtx,
    request: Request,
    runtime: RuntimeDep,
    investigation_id: int,
    onset_date: Annotated[str, Form()] = "",
    symptoms: Annotated[str, Form()] = "",
    travel_history: Annotated[str, Form()] = "",
    lineage: Annotated[str, Form()] = "",
    isolated_at: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    """Save the facts form; a refused value comes back on its field, with everything typed kept."""
    t = request_translations(request)
    typed = dict(zip(FACT_FIELDS, (onset_date, symptoms, travel_history, lineage, isolated_at, notes), strict=True))
    try:
        try:
            onset = date.fromisoformat(onset_date.strip()) if onset_date.strip() else None
        except ValueError:
            raise FieldError("onset_date", t.gettext("Enter a date, e.g. 2021-12-08")) from None
        try:
            data = InvestigationUpdate(
                onset_date=onset,
                symptoms=[s.strip() for s in _SYMPTOM_SEPARATORS.split(symptoms) if s.strip()],
                travel_history=travel_history.strip(),
                lineage=lineage.strip(),
                isolated_at=_parse_local("isolated_at", isolated_at, runtime.zone, t),
                notes=notes.strip(),
            )
        except ValidationError as error:
            raise _field_error(error) from None
        investigations.update_investigation(ctx, investigation_id, data, runtime)
    except FieldError as error:
        ctx.session.rollback()
        flashes = [("error", t.gettext("Not saved: check the marked field."))]
        return _page(
            ctx,
            request,
            runtime,
            investigation_id,
            facts=typed,
            errors={error.field: error.reason},
            flashes=flashes,
            status_code=error.status_code,
        )
    return _back(investigation_id, done="facts")


@router.post("/tracing/investigations/{investigation_id}/visits")
def add_visit(
    ctx: UserCtx,
    request: Request,
    runtime: RuntimeDep,
    investigation_id: int,
    venue_id: Annotated[str, Form()] = "",
    place_text: Annotated[str, Form()] = "",
    starts_at: Annotated[str, Form()] = "",
    ends_at: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = VisitSource.SELF_REPORT.value,
    note: Annotated[str, Form()] = "",
) -> Response:
    """Add a stay to the trajectory; a clash or a bad time is shown with the service's reason, nothing stored."""
    t = request_translations(request)
    typed = dict(zip(VISIT_FIELDS, (venue_id, place_text, starts_at, ends_at, source, note), strict=True))
    try:
        if venue_id.strip() and not venue_id.strip().isdigit():
            raise FieldError("venue_id", t.gettext("Choose a venue from the list"))
        start = _required_local("starts_at", starts_at, runtime.zone, t)
        end = _required_local("ends_at", ends_at, runtime.zone, t)
        try:
            data = VisitCreate(
                venue_id=int(venue_id) if venue_id.strip() else None,
                place_text=place_text.strip(),
                starts_at=start,
                ends_at=end,
                source=source,
                note=note.strip(),
            )
        except ValidationError as error:
            raise _field_error(error) from None
        investigations.add_visit(ctx, investigation_id, data, runtime.zone)
    except FieldError as error:
        ctx.session.rollback()
        flashes = [("error", t.gettext("Visit not added: %(reason)s") % {"reason": error.reason})]
        return _page(
            ctx,
            request,
            runtime,
            investigation_id,
            visit=typed,
            errors={f"visit_{error.field}": error.reason},
            flashes=flashes,
            status_code=error.status_code,
        )
    return _back(investigation_id, done="visit_added")


@router.post("/tracing/investigations/{investigation_id}/visits/{visit_id}/delete")
def delete_visit(ctx: UserCtx, investigation_id: int, visit_id: int) -> Response:
    """Remove a stay from the trajectory (an investigator's correction)."""
    investigations.delete_visit(ctx, investigation_id, visit_id)
    return _back(investigation_id, done="visit_deleted")


@router.post("/tracing/investigations/{investigation_id}/trace")
def run_engine(ctx: UserCtx, runtime: RuntimeDep, investigation_id: int) -> Response:
    """Run the contact engine now; the page then flashes what it found and the bad rows by kind."""
    run = contacts.trace_contacts(ctx, investigation_id, runtime)
    return _back(investigation_id, traced=run.id)


@router.post("/tracing/investigations/{investigation_id}/close")
def close(ctx: UserCtx, request: Request, runtime: RuntimeDep, investigation_id: int) -> Response:
    """Close the investigation; closing a closed one is refused on the page."""
    try:
        investigations.close_investigation(ctx, investigation_id)
    except BihuanError as error:
        if isinstance(error, NotFound):
            raise
        ctx.session.rollback()
        return _page(
            ctx, request, runtime, investigation_id, flashes=[("error", str(error))], status_code=error.status_code
        )
    return _back(investigation_id, done="closed")


# -- chains, clusters, source tracing ------------------------------------------------------------------


def chain_chart(ctx: Ctx, graph: dict[str, Any], t: Translations) -> dict[str, Any]:
    """The chain graph for the page: categories in words, contacts named, case nodes linked to their page."""
    labels = category_labels(t)
    categories = [
        {"name": t.gettext("Unknown lineage") if c["name"] == UNKNOWN_LINEAGE else labels.get(c["name"], c["name"])}
        for c in graph["categories"]
    ]
    nodes = views.named_nodes(ctx, graph["nodes"])
    return {
        "nodes": nodes,
        "links": graph["links"],
        "categories": categories,
        "contacts_shown": graph.get("contacts_shown", False),
    }


@router.get("/tracing/chains")
def chains_page(ctx: UserCtx, request: Request, runtime: RuntimeDep) -> Response:
    """Transmission chains (传播链), clusters (聚集性疫情) and shared venues (溯源) of the user's cases."""
    t = request_translations(request)
    graph = chain_chart(ctx, chains.chain_graph(ctx), t)
    found = chains.clusters(ctx, runtime)
    leads = chains.shared_venues(ctx, runtime)
    case_ids = {c["case_id"] for cluster in found for c in cluster["cases"]}
    case_ids |= {c["case_id"] for lead in leads for c in lead["cases"]}
    context = {
        "graph": graph,
        "clusters": found,
        "leads": leads,
        "case_pages": views.investigations_of_cases(ctx, case_ids) if case_ids else {},
        "case_names": {c["case_id"]: c["name"] for cluster in found for c in cluster["cases"]},
        "unknown_lineage": UNKNOWN_LINEAGE,
    }
    return render(request, "tracing/chains.html", context)
