"""HTTP API of fast tracing (快流调): investigations, trajectories, contact-engine runs, contacts, chains."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from bihuan.core.deps import UserCtx
from bihuan.people.schemas import Page
from bihuan.protocol import ContactCategory
from bihuan.tracing.choices import InvestigationStatus
from bihuan.tracing.deps import RuntimeDep
from bihuan.tracing.schemas import (
    ContactsPublic,
    InvestigationPublic,
    InvestigationsPublic,
    InvestigationUpdate,
    LinkCreate,
    LinkPublic,
    TimelinePublic,
    TracingRunPublic,
    VisitCreate,
    VisitPublic,
)
from bihuan.tracing.service import chains, contacts, investigations

router = APIRouter(prefix="/api", tags=["tracing"])
PageDep = Annotated[Page, Depends()]


@router.get("/investigations")
def list_investigations(
    ctx: UserCtx, runtime: RuntimeDep, page: PageDep, status: InvestigationStatus | None = None
) -> InvestigationsPublic:
    """Investigations of cases in your jurisdiction, newest first, with contact counts by category."""
    rows, count = investigations.list_investigations(ctx, page, runtime, status=status)
    return InvestigationsPublic(data=rows, count=count)


@router.get("/investigations/{investigation_id}")
def get_investigation(ctx: UserCtx, runtime: RuntimeDep, investigation_id: int) -> InvestigationPublic:
    return investigations.get_investigation(ctx, investigation_id, runtime)


@router.patch("/investigations/{investigation_id}")
def update_investigation(
    ctx: UserCtx, runtime: RuntimeDep, investigation_id: int, data: InvestigationUpdate
) -> InvestigationPublic:
    """Onset, symptoms, travel history, lineage, isolation time, notes; a contradiction is refused."""
    investigations.update_investigation(ctx, investigation_id, data, runtime)
    return investigations.get_investigation(ctx, investigation_id, runtime)


@router.post("/investigations/{investigation_id}/close")
def close_investigation(ctx: UserCtx, runtime: RuntimeDep, investigation_id: int) -> InvestigationPublic:
    investigations.close_investigation(ctx, investigation_id)
    return investigations.get_investigation(ctx, investigation_id, runtime)


@router.get("/investigations/{investigation_id}/timeline")
def get_timeline(ctx: UserCtx, runtime: RuntimeDep, investigation_id: int) -> TimelinePublic:
    """The case's key moments and trajectory in time order."""
    return investigations.timeline(ctx, investigation_id, runtime)


@router.post("/investigations/{investigation_id}/visits", status_code=201)
def add_visit(ctx: UserCtx, runtime: RuntimeDep, investigation_id: int, data: VisitCreate) -> VisitPublic:
    """Add a stay to the trajectory; the same stay again is harmless; a clash is refused with the reason."""
    visit = investigations.add_visit(ctx, investigation_id, data, runtime.zone)
    return next(v for v in investigations.list_visits(ctx, investigation_id) if v.id == visit.id)


@router.delete("/investigations/{investigation_id}/visits/{visit_id}", status_code=204)
def delete_visit(ctx: UserCtx, investigation_id: int, visit_id: int) -> Response:
    investigations.delete_visit(ctx, investigation_id, visit_id)
    return Response(status_code=204)


@router.post("/investigations/{investigation_id}/trace")
def trace(ctx: UserCtx, runtime: RuntimeDep, investigation_id: int) -> TracingRunPublic:
    """Run the contact engine for this case now; contacts found are stored, new ones raise contact_identified."""
    run = contacts.trace_contacts(ctx, investigation_id, runtime)
    return TracingRunPublic.model_validate(run)


@router.get("/investigations/{investigation_id}/contacts")
def list_case_contacts(
    ctx: UserCtx, investigation_id: int, page: PageDep, category: ContactCategory | None = None
) -> ContactsPublic:
    """The case's contacts with every reason they were found for and their quarantine plan."""
    rows, count = contacts.list_contacts(ctx, page, investigation_id=investigation_id, category=category)
    return ContactsPublic(data=rows, count=count)


@router.get("/contacts")
def list_contacts(
    ctx: UserCtx, page: PageDep, category: ContactCategory | None = None, person_id: int | None = None
) -> ContactsPublic:
    """Traced contacts living in your jurisdiction (what community workers and grouping act on)."""
    rows, count = contacts.list_contacts(ctx, page, category=category, person_id=person_id)
    return ContactsPublic(data=rows, count=count)


@router.post("/investigations/{investigation_id}/source", status_code=201)
def link_source(ctx: UserCtx, investigation_id: int, data: LinkCreate) -> LinkPublic:
    """Record the investigator's judgement of who infected this case."""
    return chains.link_by_hand(ctx, investigation_id, data)


@router.get("/chains")
def get_chains(ctx: UserCtx) -> dict[str, Any]:
    """The transmission graph (infector → infectee, case → contacts) of your jurisdiction, for ECharts."""
    return chains.chain_graph(ctx)


@router.get("/clusters")
def get_clusters(ctx: UserCtx, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Clusters (聚集性疫情) of linked cases at or above the profile's size, with their lineages."""
    return chains.clusters(ctx, runtime)


@router.get("/source-tracing")
def source_tracing(ctx: UserCtx, runtime: RuntimeDep) -> list[dict[str, Any]]:
    """Venues visited by two or more cases inside their incubation windows, most shared first (溯源)."""
    return chains.shared_venues(ctx, runtime)
