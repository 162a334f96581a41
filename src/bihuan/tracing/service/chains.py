"""Transmission chains (传播链), clusters (聚集性疫情) and source tracing (溯源) over stored cases.

Links between cases are stored (``transmission_links``): read from contact tracing when a contact
becomes a case, or set by an investigator. Chains, clusters and shared venues are derived on read
by the pure functions of ``bihuan.tracing.chains``, keyed by the cases' person ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select

from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.permissions import Permission, require
from bihuan.people.models import Person, Venue
from bihuan.people.service import in_scope
from bihuan.protocol import ContactCategory
from bihuan.screening.models import Case
from bihuan.tracing import chains as pure
from bihuan.tracing.choices import LinkBasis
from bihuan.tracing.models import Investigation, TracedContact, TrajectoryVisit, TransmissionLink
from bihuan.tracing.schemas import LinkCreate, LinkPublic
from bihuan.tracing.service.investigations import scoped_investigation
from bihuan.tracing.service.runtime import TracingRuntime

GRAPH_CONTACT_LIMIT = 3000
"""Above this many traced contacts the chain graph shows cases only (a picture, not a list)."""


def link_to_source(ctx: Ctx, case_id: int) -> TransmissionLink | None:
    """Link a new case to its likely source when they were a traced contact of earlier cases (密接转确诊).

    Only cases whose onset (or first positive sampling) is not later than this case's can be its source.
    """
    if ctx.session.scalar(select(TransmissionLink.id).where(TransmissionLink.infectee_case_id == case_id)):
        return None
    case = ctx.session.get(Case, case_id)
    if case is None:
        return None
    own_day = _reference_day(ctx.session.scalar(_onset(case.id)), case)
    stmt = (
        select(TracedContact, Case, _onset(Case.id).scalar_subquery())
        .join(Case, Case.id == TracedContact.case_id)
        .where(TracedContact.person_id == case.person_id, TracedContact.case_id != case_id)
    )
    rows = [
        (row, source.person_id)
        for row, source, onset in ctx.session.execute(stmt).all()
        if _reference_day(onset, source) <= own_day  # a source falls ill (or tests positive) first
    ]
    candidates = [
        pure.ContactLink(source_person, row.person_id, ContactCategory(row.category), row.last_exposure)
        for row, source_person in rows
    ]
    choice = pure.link_source(candidates)
    if choice is None:
        return None
    by_source: dict[int | str, TracedContact] = {source_person: row for row, source_person in rows}
    # The best source that does not descend from this case: two cases found the same day are often each
    # other's contacts, and the one traced first must not become the other's infectee as well.
    usable = [
        link
        for link in (choice.link, *choice.passed_over)
        if case_id not in _ancestors(ctx, by_source[link.case].case_id)
    ]
    if not usable:
        return None
    chosen = by_source[usable[0].case]
    reason = choice.reason if usable[0] is choice.link else "source that makes no loop"
    link = TransmissionLink(
        infector_case_id=chosen.case_id,
        infectee_case_id=case_id,
        basis=LinkBasis.CONTACT.value,
        contact_id=chosen.id,
        reason=f"{chosen.category}: {reason}",
        linked_at=ctx.clock.now(),
    )
    ctx.session.add(link)
    ctx.session.flush()
    return link


def _onset(case_id: Any) -> Select[Any]:
    """The onset date the case's investigation records."""
    return select(Investigation.onset_date).where(Investigation.case_id == case_id)


def _reference_day(investigated_onset: date | None, case: Case) -> date:
    """Onset as the investigation has it (else the case's), or the first positive sampling if asymptomatic."""
    return investigated_onset or case.onset_date or case.first_positive_sampling_date


def link_contacts_who_are_cases(ctx: Ctx, investigation: Investigation) -> int:
    """After a run: contacts of this case who are already cases themselves get their source link."""
    linked = select(TransmissionLink.infectee_case_id)
    stmt = (
        select(Case.id)
        .join(TracedContact, TracedContact.person_id == Case.person_id)
        .where(TracedContact.case_id == investigation.case_id, Case.id.not_in(linked))
    )
    return sum(link_to_source(ctx, case_id) is not None for case_id in ctx.session.scalars(stmt).all())


def link_by_hand(ctx: Ctx, investigation_id: int, data: LinkCreate) -> LinkPublic:
    """The investigator's judgement of the source; refused when it would make a loop or names no case."""
    require(ctx.actor, Permission.INVESTIGATE)
    investigation = scoped_investigation(ctx, investigation_id)
    infectee = investigation.case_id
    if data.infector_case_id == infectee:
        raise FieldError("infector_case_id", "a case cannot infect itself")
    if ctx.session.get(Case, data.infector_case_id) is None:
        raise FieldError("infector_case_id", f"no case with id {data.infector_case_id}")
    if infectee in _ancestors(ctx, data.infector_case_id):
        raise FieldError("infector_case_id", f"case {data.infector_case_id} descends from this case: a loop")
    link = ctx.session.scalar(select(TransmissionLink).where(TransmissionLink.infectee_case_id == infectee))
    if link is None:
        link = TransmissionLink(infectee_case_id=infectee)
        ctx.session.add(link)
    link.infector_case_id = data.infector_case_id
    link.basis = LinkBasis.INVESTIGATOR.value
    link.contact_id = None
    link.reason = data.reason
    link.linked_at = ctx.clock.now()
    ctx.session.flush()
    return LinkPublic.model_validate(link)


def _ancestors(ctx: Ctx, case_id: int) -> set[int]:
    """The case's infector, the infector's infector, and so on (stops at a loop)."""
    rows = ctx.session.execute(select(TransmissionLink.infectee_case_id, TransmissionLink.infector_case_id))
    infector_of = {infectee: infector for infectee, infector in rows}
    found: set[int] = set()
    current = infector_of.get(case_id)
    while current is not None and current not in found:
        found.add(current)
        current = infector_of.get(current)
    return found


# -- reading -------------------------------------------------------------------------------------------


def _cases(ctx: Ctx) -> list[tuple[Case, Investigation | None, str]]:
    stmt = (
        in_scope(ctx, select(Case), Case.jurisdiction_id)
        .add_columns(Investigation, Person.name)
        .join(Person, Person.id == Case.person_id)
        .outerjoin(Investigation, Investigation.case_id == Case.id)
    )
    return [(case, investigation, name) for case, investigation, name in ctx.session.execute(stmt.order_by(Case.id))]


def _graph(ctx: Ctx, *, with_contacts: bool) -> tuple[pure.TransmissionGraph, dict[int, str], dict[int, int]]:
    """The graph of the actor's cases keyed by person id, with names and each person's case id."""
    rows = _cases(ctx)
    cases = [
        pure.Case(
            key=case.person_id,
            first_positive_sampling_date=case.first_positive_sampling_date,
            onset_date=(investigation.onset_date if investigation else None) or case.onset_date,
            lineage=(investigation.lineage or None) if investigation else None,
        )
        for case, investigation, _ in rows
    ]
    person_of = {case.id: case.person_id for case, _, _ in rows}
    names = {case.person_id: name for case, _, name in rows}
    links = ctx.session.execute(select(TransmissionLink.infector_case_id, TransmissionLink.infectee_case_id)).all()
    infections = [pure.Infection(person_of[a], person_of[b]) for a, b in links if a in person_of and b in person_of]
    contacts: list[pure.ContactLink] = []
    if with_contacts and person_of:
        contacts = _contact_links(ctx, person_of)
    graph = pure.transmission_graph(cases, infections, contacts, infer_sources=False)
    return graph, names, {person: case for case, person in person_of.items()}


def _contact_links(ctx: Ctx, person_of: dict[int, int]) -> list[pure.ContactLink]:
    stmt = select(TracedContact.case_id, TracedContact.person_id, TracedContact.category, TracedContact.last_exposure)
    stmt = stmt.where(TracedContact.case_id.in_(list(person_of)))
    rows = ctx.session.execute(stmt.limit(GRAPH_CONTACT_LIMIT + 1)).all()
    if len(rows) > GRAPH_CONTACT_LIMIT:
        return []
    return [
        pure.ContactLink(person_of[case_id], person_id, ContactCategory(category), last)
        for case_id, person_id, category, last in rows
        if person_of[case_id] != person_id
    ]


def chain_graph(ctx: Ctx) -> dict[str, Any]:
    """The chain graph for ECharts: cases by lineage, infections, and contacts while they are few enough."""
    require(ctx.actor, Permission.READ_TRACING)
    graph, names, _ = _graph(ctx, with_contacts=True)
    shown = pure.echarts_graph(graph, labels=dict(names), include_contacts=bool(graph.contacts))
    shown["contacts_shown"] = bool(graph.contacts)
    return shown


def clusters(ctx: Ctx, runtime: TracingRuntime) -> list[dict[str, Any]]:
    """Clusters at or above the profile's size, each with its cases, index cases and lineages."""
    require(ctx.actor, Permission.READ_TRACING)
    graph, names, case_of = _graph(ctx, with_contacts=False)
    return [_cluster(chain, names, case_of) for chain in pure.clusters(graph, runtime.profile)]


def _cluster(chain: pure.Chain, names: dict[int, str], case_of: dict[int, int]) -> dict[str, Any]:
    return {
        "size": chain.size,
        "cases": [{"case_id": case_of[int(k)], "person_id": k, "name": names.get(int(k), "")} for k in chain.cases],
        "index_cases": [case_of[int(k)] for k in chain.index_cases],
        "lineages": dict(chain.lineage_counts),
        "dominant_lineage": chain.dominant_lineage,
        "mixed_lineages": chain.mixed_lineages,
        "unsequenced": chain.unsequenced,
    }


def shared_venues(ctx: Ctx, runtime: TracingRuntime) -> list[dict[str, Any]]:
    """Venues visited by two or more cases inside their incubation windows, most shared first (溯源)."""
    require(ctx.actor, Permission.READ_TRACING)
    graph, names, case_of = _graph(ctx, with_contacts=False)
    stmt = (
        select(Investigation.person_id, TrajectoryVisit.venue_id, TrajectoryVisit.starts_at, TrajectoryVisit.ends_at)
        .join(Investigation, Investigation.id == TrajectoryVisit.investigation_id)
        .where(TrajectoryVisit.venue_id.is_not(None), Investigation.person_id.in_(list(case_of)))
    )
    zone = runtime.zone
    visits = [
        pure.Visit(
            person, venue, start.astimezone(zone).replace(tzinfo=None), end.astimezone(zone).replace(tzinfo=None)
        )
        for person, venue, start, end in ctx.session.execute(stmt)
        if venue is not None
    ]
    leads = pure.rank_source_venues(graph.cases, visits, runtime.profile)
    venue_names = _venue_names(ctx, [int(lead.venue_id) for lead in leads])
    return [
        {
            "venue_id": lead.venue_id,
            "venue_name": venue_names.get(int(lead.venue_id), ""),
            "cases": [{"case_id": case_of[int(k)], "name": names.get(int(k), "")} for k in lead.cases],
            "days": [day.isoformat() for day in lead.days],
            "arrival_spread_hours": round(lead.arrival_spread / timedelta(hours=1), 2),
        }
        for lead in leads
    ]


def _venue_names(ctx: Ctx, venue_ids: Sequence[int]) -> dict[int, str]:
    if not venue_ids:
        return {}
    rows = ctx.session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(venue_ids)))
    return {venue_id: name for venue_id, name in rows}
