"""Transmission chains (传播链), clusters (聚集性疫情), source tracing (溯源) and lineage per cluster.

Pure functions over plain data: no database, no clock. Every number of policy (incubation days, the
size of a cluster) comes from the protocol profile; every ordering is deterministic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

import networkx as nx

from bihuan.core.errors import FieldError
from bihuan.protocol import ContactCategory, ProtocolProfile, incubation_window, is_cluster

PersonKey = int | str
VenueId = int | str

# How strongly each kind of contact link points to its case as the source, strongest first.
SOURCE_STRENGTH: tuple[ContactCategory, ...] = (
    ContactCategory.CLOSE_CONTACT,
    ContactCategory.SECONDARY_CONTACT,
    ContactCategory.COMPANION,
    ContactCategory.GENERAL_CONTACT,
)
UNKNOWN_LINEAGE = "unknown lineage"
# Presentation only: node sizes of the ECharts graph.
CASE_SYMBOL_SIZE = 18
CASE_SYMBOL_GROWTH = 3  # per person infected, up to the cap
CASE_SYMBOL_CAP = 6
CONTACT_SYMBOL_SIZE = 8


def _order(key: PersonKey | VenueId) -> tuple[int, int, str]:
    """A total order over int and str keys (ints first, by value), for deterministic tie-breaks."""
    return (0, key, "") if isinstance(key, int) else (1, 0, key)


@dataclass(frozen=True, slots=True)
class Case:
    """A confirmed case or asymptomatic infection as chains need it; `source_venue` is a believed source venue."""

    key: PersonKey
    first_positive_sampling_date: date
    onset_date: date | None = None
    lineage: str | None = None  # None: not sequenced (yet)
    source_venue: VenueId | None = None

    @property
    def reference_date(self) -> date:
        """Symptom onset, or the first positive sampling of an asymptomatic case: incubation counts back from it."""
        return self.onset_date if self.onset_date is not None else self.first_positive_sampling_date


@dataclass(frozen=True, slots=True)
class ContactLink:
    """A contact (密接, 次密接, 时空伴随者, 一般接触者) of a case, with their last exposure to that case."""

    case: PersonKey
    contact: PersonKey
    category: ContactCategory
    last_exposure: datetime


class SourceReason(StrEnum):
    """Why `link_source` chose a case as a contact's source."""

    ONLY_CANDIDATE = "only_candidate"  # they were the contact of one case only
    STRONGEST_CATEGORY = "strongest_category"  # e.g. close contact of this case, secondary of the others
    LATEST_EXPOSURE = "latest_exposure"  # same category: the most recent last exposure
    TIE_BREAK = "tie_break"  # same category and exposure: the lowest case key


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """The likely source of a contact who became a case, the link it rests on, why, and the links passed over."""

    link: ContactLink
    reason: SourceReason
    passed_over: tuple[ContactLink, ...] = ()

    @property
    def case(self) -> PersonKey:
        """The chosen source case."""
        return self.link.case


@dataclass(frozen=True, slots=True)
class Infection:
    """A transmission infector → infectee (case to case); `inferred` holds the choice when read from contact links."""

    infector: PersonKey
    infectee: PersonKey
    venue_id: VenueId | None = None
    inferred: SourceChoice | None = None


def _strength(category: ContactCategory) -> int:
    """Rank of a contact category as a pointer to the source (0: strongest)."""
    if category not in SOURCE_STRENGTH:
        raise FieldError("category", f"{category} is not a contact of a case; expected one of {list(SOURCE_STRENGTH)}")
    return SOURCE_STRENGTH.index(category)


def _best_first(links: Iterable[ContactLink]) -> list[ContactLink]:
    """Links strongest category first, then latest exposure, then lowest case key (stable sorts, last key first)."""
    ranked = sorted(links, key=lambda link: _order(link.case))
    ranked.sort(key=lambda link: link.last_exposure, reverse=True)
    ranked.sort(key=lambda link: _strength(link.category))
    return ranked


def link_source(candidates: Iterable[ContactLink]) -> SourceChoice | None:
    """The most likely source (传染源) of one person among the cases they were a contact of; None without links.

    Strongest category first (close, secondary, companion, general), then the latest last exposure, then the
    lowest case key. Several links to one case count once, by their best link.
    """
    links = _best_first(candidates)
    if not links:
        return None
    people = sorted({link.contact for link in links}, key=_order)
    if len(people) > 1:
        raise FieldError("candidates", f"links of one contact expected, got {people}")
    best_per_case: dict[PersonKey, ContactLink] = {}
    for link in links:
        best_per_case.setdefault(link.case, link)
    chosen, *others = best_per_case.values()
    return SourceChoice(link=chosen, reason=_reason(chosen, others[0] if others else None), passed_over=tuple(others))


def _reason(chosen: ContactLink, runner_up: ContactLink | None) -> SourceReason:
    """What set the chosen link apart from the next best."""
    if runner_up is None:
        return SourceReason.ONLY_CANDIDATE
    if _strength(chosen.category) < _strength(runner_up.category):
        return SourceReason.STRONGEST_CATEGORY
    if chosen.last_exposure > runner_up.last_exposure:
        return SourceReason.LATEST_EXPOSURE
    return SourceReason.TIE_BREAK


@dataclass(frozen=True)
class TransmissionGraph:
    """Cases, the infections between them and the contacts of each case (传播关系图), checked and ordered."""

    cases: tuple[Case, ...]
    infections: tuple[Infection, ...]
    contacts: tuple[ContactLink, ...] = ()

    @cached_property
    def by_key(self) -> dict[PersonKey, Case]:
        """The cases by their key."""
        return {case.key: case for case in self.cases}

    @cached_property
    def infector_of(self) -> dict[PersonKey, PersonKey]:
        """Each infected case's infector."""
        return {infection.infectee: infection.infector for infection in self.infections}


def transmission_graph(
    cases: Iterable[Case],
    infections: Iterable[Infection] = (),
    contacts: Iterable[ContactLink] = (),
    *,
    infer_sources: bool = True,
) -> TransmissionGraph:
    """Build the transmission graph; refuse unknown cases, self-links and a second infector, naming the item.

    With ``infer_sources``, a contact who became a case and has no known infector gets one from `link_source`.
    """
    by_key = _cases_by_key(cases)
    known = _checked_infections(tuple(infections), by_key)
    links = _checked_contacts(tuple(contacts), by_key)
    if infer_sources:
        known = known + _inferred_infections(links, by_key, {infection.infectee for infection in known})
    ordered_cases = tuple(sorted(by_key.values(), key=lambda case: _order(case.key)))
    ordered = tuple(sorted(known, key=lambda infection: (_order(infection.infector), _order(infection.infectee))))
    return TransmissionGraph(cases=ordered_cases, infections=ordered, contacts=links)


def _cases_by_key(cases: Iterable[Case]) -> dict[PersonKey, Case]:
    """The cases by key, refusing a key listed twice."""
    by_key: dict[PersonKey, Case] = {}
    for index, case in enumerate(cases):
        if case.key in by_key:
            raise FieldError(f"cases[{index}].key", f"case {case.key!r} is listed twice")
        by_key[case.key] = case
    return by_key


def _checked_infections(infections: Sequence[Infection], by_key: dict[PersonKey, Case]) -> tuple[Infection, ...]:
    """Refuse infections naming an unknown case, a case infecting itself, or a second infector."""
    infector_of: dict[PersonKey, PersonKey] = {}
    for index, infection in enumerate(infections):
        for role in ("infector", "infectee"):
            if getattr(infection, role) not in by_key:
                raise FieldError(f"infections[{index}].{role}", f"{getattr(infection, role)!r} is not a case")
        if infection.infector == infection.infectee:
            raise FieldError(f"infections[{index}].infectee", "a case cannot infect itself")
        if infection.infectee in infector_of:
            earlier = infector_of[infection.infectee]
            raise FieldError(f"infections[{index}].infectee", f"already infected by {earlier!r}")
        infector_of[infection.infectee] = infection.infector
    return tuple(infections)


def _checked_contacts(contacts: Sequence[ContactLink], by_key: dict[PersonKey, Case]) -> tuple[ContactLink, ...]:
    """Refuse contact links whose case is unknown, that link a case to itself, or of a category without a rank."""
    for index, link in enumerate(contacts):
        if link.case not in by_key:
            raise FieldError(f"contacts[{index}].case", f"{link.case!r} is not a case")
        if link.case == link.contact:
            raise FieldError(f"contacts[{index}].contact", "a case is not their own contact")
        if link.category not in SOURCE_STRENGTH:
            raise FieldError(f"contacts[{index}].category", f"{link.category} is not a contact of a case")
    return tuple(sorted(contacts, key=lambda link: (_order(link.case), _order(link.contact), link.last_exposure)))


def _inferred_infections(
    links: Sequence[ContactLink], by_key: dict[PersonKey, Case], infected: set[PersonKey]
) -> tuple[Infection, ...]:
    """Infections read from contact links, for contacts who became cases without a known infector."""
    candidates: dict[PersonKey, list[ContactLink]] = defaultdict(list)
    for link in links:
        if link.contact in by_key and link.contact not in infected:
            candidates[link.contact].append(link)
    inferred = []
    for person, person_links in candidates.items():
        choice = link_source(person_links)
        if choice is not None:
            inferred.append(Infection(infector=choice.case, infectee=person, inferred=choice))
    return tuple(inferred)


@dataclass(frozen=True, slots=True)
class Chain:
    """A connected group of linked cases (传播链), earliest first; one that meets the profile's size is a cluster.

    Index cases have no infector within the chain and the earliest onset (or sampling); lineage counts run
    most cases first and leave out unsequenced cases. A chain mixing lineages is what variant tracking
    (跟踪新型变异毒株传播路径) looks at.
    """

    cases: tuple[PersonKey, ...]
    index_cases: tuple[PersonKey, ...]
    lineage_counts: tuple[tuple[str, int], ...]
    dominant_lineage: str | None
    mixed_lineages: bool
    unsequenced: int
    source_venues: tuple[VenueId, ...] = ()

    @property
    def size(self) -> int:
        """The number of cases."""
        return len(self.cases)


def chains(graph: TransmissionGraph, *, by_source_venue: bool = False) -> tuple[Chain, ...]:
    """Every connected group of cases linked infector → infectee (and by a shared source venue, if asked).

    Largest first, then earliest, then by the first index case's key; a case without links is a chain of one.
    """
    network = nx.Graph()  # cases are nodes by key; a venue is a ("venue", id) node, which no int or str key equals
    network.add_nodes_from(graph.by_key)
    network.add_edges_from((infection.infector, infection.infectee) for infection in graph.infections)
    if by_source_venue:
        shared = [case for case in graph.cases if case.source_venue is not None]
        network.add_edges_from((case.key, ("venue", case.source_venue)) for case in shared)
    found = [_chain(graph, component) for component in nx.connected_components(network)]
    return tuple(sorted(found, key=lambda chain: (-chain.size, _earliest(graph, chain), _order(chain.index_cases[0]))))


def clusters(graph: TransmissionGraph, profile: ProtocolProfile, *, by_source_venue: bool = False) -> tuple[Chain, ...]:
    """The chains that make a cluster (聚集性疫情) under the profile's ``tracing.cluster.min_cases``."""
    return tuple(chain for chain in chains(graph, by_source_venue=by_source_venue) if is_cluster(chain.size, profile))


def _earliest(graph: TransmissionGraph, chain: Chain) -> date:
    """The reference date of the chain's first case."""
    return graph.by_key[chain.cases[0]].reference_date


def _chain(graph: TransmissionGraph, component: set[PersonKey | tuple[str, VenueId]]) -> Chain:
    """Describe one connected component: its cases, index cases, lineages and source venues."""
    members = [graph.by_key[node] for node in component if not isinstance(node, tuple)]
    members.sort(key=lambda case: (case.reference_date, _order(case.key)))
    keys = {case.key for case in members}
    roots = [case for case in members if graph.infector_of.get(case.key) not in keys] or members
    first_day = min(case.reference_date for case in roots)
    counts = Counter(case.lineage for case in members if case.lineage is not None)
    lineages = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    venues = {case.source_venue for case in members if case.source_venue is not None}
    return Chain(
        cases=tuple(case.key for case in members),
        index_cases=tuple(case.key for case in roots if case.reference_date == first_day),
        lineage_counts=lineages,
        dominant_lineage=lineages[0][0] if lineages else None,
        mixed_lineages=len(lineages) > 1,
        unsequenced=len(members) - sum(counts.values()),
        source_venues=tuple(sorted(venues, key=_order)),
    )


@dataclass(frozen=True, slots=True)
class Visit:
    """A case's stay at a venue (a venue-code scan, a trajectory entry), from start to end."""

    case: PersonKey
    venue_id: VenueId
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class VenueLead:
    """A venue visited by several cases inside their incubation windows: a candidate common source (溯源线索).

    `arrival_spread` is the shortest time in which every one of these cases arrived at least once: the
    smaller, the more tightly the visits cluster.
    """

    venue_id: VenueId
    cases: tuple[PersonKey, ...]
    days: tuple[date, ...]
    arrival_spread: timedelta
    visits: tuple[Visit, ...]


def rank_source_venues(
    cases: Iterable[Case], visits: Iterable[Visit], profile: ProtocolProfile, *, min_cases: int = 2
) -> tuple[VenueLead, ...]:
    """Rank venues visited by at least `min_cases` cases inside each one's incubation window (溯源).

    Most cases first, then the tightest arrivals, then by venue id; a visit outside its case's window is ignored.
    """
    windows = {case.key: incubation_window(case.reference_date, profile) for case in cases}
    at_venue: dict[VenueId, list[Visit]] = defaultdict(list)
    for index, visit in enumerate(visits):
        if _checked_visit(index, visit, windows):
            at_venue[visit.venue_id].append(visit)
    leads = [_lead(venue, found, windows) for venue, found in at_venue.items()]
    leads = [lead for lead in leads if len(lead.cases) >= min_cases]
    return tuple(sorted(leads, key=lambda lead: (-len(lead.cases), lead.arrival_spread, _order(lead.venue_id))))


def _checked_visit(index: int, visit: Visit, windows: dict[PersonKey, tuple[date, date]]) -> bool:
    """Whether a visit overlaps its case's incubation window; refuse an unknown case or an end before the start."""
    if visit.case not in windows:
        raise FieldError(f"visits[{index}].case", f"{visit.case!r} is not among the cases")
    if visit.end < visit.start:
        raise FieldError(f"visits[{index}].end", "is before the start")
    first_day, last_day = windows[visit.case]
    return visit.start.date() <= last_day and visit.end.date() >= first_day


def _lead(venue: VenueId, visits: list[Visit], windows: dict[PersonKey, tuple[date, date]]) -> VenueLead:
    """One venue's lead: its cases, the days they were there inside their windows, and how tight the arrivals are."""
    visits.sort(key=lambda visit: (visit.start, _order(visit.case)))
    days: set[date] = set()
    for visit in visits:
        first_day, last_day = windows[visit.case]
        day, last = max(visit.start.date(), first_day), min(visit.end.date(), last_day)
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return VenueLead(
        venue_id=venue,
        cases=tuple(sorted({visit.case for visit in visits}, key=_order)),
        days=tuple(sorted(days)),
        arrival_spread=_arrival_spread(visits),
        visits=tuple(visits),
    )


def _arrival_spread(visits: Sequence[Visit]) -> timedelta:
    """The shortest span of arrivals that holds one visit of every case (a sliding window over sorted visits)."""
    needed = len({visit.case for visit in visits})
    seen: Counter[PersonKey] = Counter()
    best = visits[-1].start - visits[0].start
    left = 0
    for visit in visits:
        seen[visit.case] += 1
        while len(seen) == needed:
            best = min(best, visit.start - visits[left].start)
            seen[visits[left].case] -= 1
            if not seen[visits[left].case]:
                del seen[visits[left].case]
            left += 1
    return best


def echarts_graph(
    graph: TransmissionGraph, *, labels: Mapping[Any, str] | None = None, include_contacts: bool = True
) -> dict[str, Any]:
    """The dict an ECharts ``graph`` series takes: nodes (id, name, category, symbolSize), links, categories.

    Cases are coloured by lineage, contacts by their strongest category; ids are the keys as strings, and
    `labels` (any mapping from key to name) names the nodes.
    """
    labels = labels or {}
    contacts = _contact_nodes(graph) if include_contacts else {}
    lineages = sorted({case.lineage or UNKNOWN_LINEAGE for case in graph.cases})
    kinds = [category for category in SOURCE_STRENGTH if category in contacts.values()]
    names = [*lineages, *(str(kind) for kind in kinds)]
    index = {name: position for position, name in enumerate(names)}
    infected = Counter(infection.infector for infection in graph.infections)
    nodes = [_case_node(case, labels, index, infected[case.key]) for case in graph.cases]
    nodes += [_node(key, labels, index[str(kind)], CONTACT_SYMBOL_SIZE) for key, kind in contacts.items()]
    links = [{"source": str(i.infector), "target": str(i.infectee), "value": "infection"} for i in graph.infections]
    links += _contact_edges(graph, include_contacts)
    return {"nodes": nodes, "links": links, "categories": [{"name": name} for name in names]}


def _node(key: PersonKey, labels: Mapping[Any, str], category: int, size: int) -> dict[str, Any]:
    """One ECharts node."""
    return {"id": str(key), "name": labels.get(key, str(key)), "category": category, "symbolSize": size}


def _case_node(case: Case, labels: Mapping[Any, str], index: dict[str, int], infected: int) -> dict[str, Any]:
    """A case's node: coloured by lineage, larger for each person they infected."""
    size = CASE_SYMBOL_SIZE + CASE_SYMBOL_GROWTH * min(infected, CASE_SYMBOL_CAP)
    return _node(case.key, labels, index[case.lineage or UNKNOWN_LINEAGE], size)


def _contact_nodes(graph: TransmissionGraph) -> dict[PersonKey, ContactCategory]:
    """Contacts who are not cases, each with their strongest category, in key order."""
    strongest: dict[PersonKey, ContactCategory] = {}
    for link in _best_first(link for link in graph.contacts if link.contact not in graph.by_key):
        strongest.setdefault(link.contact, link.category)
    return dict(sorted(strongest.items(), key=lambda item: _order(item[0])))


def _contact_edges(graph: TransmissionGraph, include_contacts: bool) -> list[dict[str, Any]]:
    """One link per case and contact pair (the strongest), leaving out pairs already linked by an infection."""
    infected = {(infection.infector, infection.infectee) for infection in graph.infections}
    pairs: dict[tuple[PersonKey, PersonKey], ContactCategory] = {}
    for link in _best_first(graph.contacts):
        if include_contacts or link.contact in graph.by_key:
            pairs.setdefault((link.case, link.contact), link.category)
    ordered = sorted(pairs.items(), key=lambda item: (_order(item[0][0]), _order(item[0][1])))
    return [
        {"source": str(a), "target": str(b), "value": str(kind)} for (a, b), kind in ordered if (a, b) not in infected
    ]
