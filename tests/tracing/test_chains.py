"""Transmission chains (传播链), clusters (聚集性疫情), source tracing (溯源) and lineage per cluster."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bihuan.core.errors import FieldError
from bihuan.protocol import ContactCategory, ProtocolProfile, load_profile
from bihuan.sim import generate_district
from bihuan.tracing.chains import (
    Case,
    ContactLink,
    Infection,
    SourceReason,
    TransmissionGraph,
    Visit,
    chains,
    clusters,
    echarts_graph,
    link_source,
    rank_source_venues,
    transmission_graph,
)

EIGHTH = load_profile("cn-8th-2021")
NINTH = load_profile("cn-9th-2022")
DAY0 = date(2021, 12, 1)
DELTA = "Delta AY.4"
CLOSE = ContactCategory.CLOSE_CONTACT
SECONDARY = ContactCategory.SECONDARY_CONTACT


def _case(key: int, day: int = 0, lineage: str | None = DELTA, source_venue: int | None = None) -> Case:
    """A case with onset `day` days after 1 December 2021, sampled the day after."""
    onset = DAY0 + timedelta(days=day)
    sampled = onset + timedelta(days=1)
    return Case(key, sampled, onset_date=onset, lineage=lineage, source_venue=source_venue)


def _line(first: int, length: int, day: int = 0, lineages: tuple[str | None, ...] = (DELTA,)) -> TransmissionGraph:
    """`length` cases keyed from `first`, each infecting the next, with onsets 3 days apart."""
    cases = [_case(first + n, day + 3 * n, lineages[n % len(lineages)]) for n in range(length)]
    links = [Infection(infector=first + n, infectee=first + n + 1) for n in range(length - 1)]
    return transmission_graph(cases, links)


def _merged(*graphs: TransmissionGraph) -> TransmissionGraph:
    """One graph of several, as if investigated together."""
    return transmission_graph(
        [case for graph in graphs for case in graph.cases],
        [infection for graph in graphs for infection in graph.infections],
        [link for graph in graphs for link in graph.contacts],
    )


def _exposed(case: int, contact: int, category: ContactCategory, day: int, hour: int = 12) -> ContactLink:
    return ContactLink(case=case, contact=contact, category=category, last_exposure=datetime(2021, 12, day, hour))


# ---------------------------------------------------------------- clusters 聚集性疫情


def test_a_chain_of_five_linked_cases_is_a_cluster_under_the_8th_edition() -> None:
    (cluster,) = clusters(_line(1, 5), EIGHTH)
    assert cluster.cases == (1, 2, 3, 4, 5)
    assert cluster.size == 5


def test_four_linked_cases_are_a_chain_but_not_a_cluster() -> None:
    graph = _line(1, 4)
    assert clusters(graph, EIGHTH) == ()
    assert [chain.size for chain in chains(graph)] == [4]


def test_two_separate_chains_are_two_clusters_largest_first() -> None:
    found = clusters(_merged(_line(1, 5), _line(100, 6, day=2)), EIGHTH)
    assert [cluster.cases[0] for cluster in found] == [100, 1]
    assert [cluster.size for cluster in found] == [6, 5]


def test_the_index_case_has_no_infector_in_the_cluster() -> None:
    (cluster,) = clusters(_line(7, 5), EIGHTH)
    assert cluster.index_cases == (7,)


def test_a_cluster_mixing_lineages_is_flagged_with_its_dominant_lineage() -> None:
    (mixed,) = clusters(_line(1, 5, lineages=("BA.2", "BA.2.2")), NINTH)
    assert mixed.mixed_lineages
    assert mixed.dominant_lineage == "BA.2"
    assert mixed.lineage_counts == (("BA.2", 3), ("BA.2.2", 2))
    (pure,) = clusters(_line(1, 5), NINTH)
    assert not pure.mixed_lineages and pure.dominant_lineage == DELTA


def test_unsequenced_cases_are_counted_apart_and_do_not_mix_a_cluster() -> None:
    (cluster,) = clusters(_line(1, 5, lineages=(DELTA, None)), EIGHTH)
    assert cluster.lineage_counts == ((DELTA, 3),)
    assert cluster.unsequenced == 2
    assert not cluster.mixed_lineages


def test_cases_sharing_a_source_venue_join_one_cluster_only_when_asked() -> None:
    market = [_case(key, day=key, source_venue=42) for key in (1, 2, 3)]
    graph = transmission_graph([*market, _case(4, 5), _case(5, 6)], [Infection(3, 4), Infection(4, 5)])
    assert clusters(graph, EIGHTH) == ()
    (cluster,) = clusters(graph, EIGHTH, by_source_venue=True)
    assert cluster.cases == (1, 2, 3, 4, 5)
    assert cluster.index_cases == (1,)  # cases 1, 2 and 3 have no infector: the earliest onset is the index
    assert cluster.source_venues == (42,)


def test_a_profile_with_a_smaller_cluster_size_finds_more_clusters() -> None:
    graph = _merged(_line(1, 5), _line(10, 3))
    assert len(clusters(graph, EIGHTH)) == 1
    assert len(clusters(graph, _with_min_cases(3))) == 2


def _with_min_cases(min_cases: int) -> ProtocolProfile:
    """The 8th edition with another cluster size."""
    cluster = EIGHTH.tracing.cluster.model_copy(update={"min_cases": min_cases})
    return EIGHTH.model_copy(update={"tracing": EIGHTH.tracing.model_copy(update={"cluster": cluster})})


_CASE_DRAWS = st.tuples(
    st.integers(0, 20),  # onset day
    st.sampled_from([DELTA, "BA.2", None]),  # lineage
    st.one_of(st.none(), st.integers(1, 3)),  # source venue
    st.one_of(st.none(), st.floats(0, 1, exclude_max=True)),  # which earlier case infected them, if any
)


@st.composite
def _forests(draw: st.DrawFn) -> TransmissionGraph:
    """Up to 40 cases, each infected by an earlier case or by none, some sharing one of 3 source venues."""
    cases, links = [], []
    for key, (day, lineage, venue, infector) in enumerate(draw(st.lists(_CASE_DRAWS, max_size=40))):
        cases.append(_case(key, day, lineage, source_venue=venue))
        if key and infector is not None:
            links.append(Infection(infector=int(infector * key), infectee=key))
    return transmission_graph(cases, links)


@settings(database=None, max_examples=150)
@given(graph=_forests(), by_venue=st.booleans(), min_cases=st.integers(min_value=2, max_value=6))
def test_clusters_partition_the_cases(graph: TransmissionGraph, by_venue: bool, min_cases: int) -> None:
    every = chains(graph, by_source_venue=by_venue)
    members = [key for chain in every for key in chain.cases]
    assert sorted(members) == sorted(case.key for case in graph.cases)  # every case in exactly one chain
    found = clusters(graph, _with_min_cases(min_cases), by_source_venue=by_venue)
    in_clusters = [key for cluster in found for key in cluster.cases]
    assert len(in_clusters) == len(set(in_clusters)) == sum(cluster.size for cluster in found)
    assert all(cluster.size >= min_cases for cluster in found)
    assert all(set(cluster.index_cases) <= set(cluster.cases) and cluster.index_cases for cluster in found)
    assert all(sum(n for _, n in c.lineage_counts) + c.unsequenced == c.size for c in found)


# ---------------------------------------------------------------- source of a contact who became a case


def test_link_source_prefers_a_close_contact_over_a_secondary_contact() -> None:
    choice = link_source([_exposed(1, 9, SECONDARY, day=6), _exposed(2, 9, CLOSE, day=3)])
    assert choice is not None
    assert (choice.case, choice.reason) == (2, SourceReason.STRONGEST_CATEGORY)
    assert [link.case for link in choice.passed_over] == [1]


def test_link_source_then_prefers_the_latest_exposure() -> None:
    choice = link_source([_exposed(1, 9, CLOSE, day=3), _exposed(2, 9, CLOSE, day=5), _exposed(3, 9, SECONDARY, 7)])
    assert choice is not None
    assert (choice.case, choice.reason) == (2, SourceReason.LATEST_EXPOSURE)
    assert [link.case for link in choice.passed_over] == [1, 3]


def test_link_source_breaks_a_full_tie_by_the_lowest_case_key() -> None:
    choice = link_source([_exposed(5, 9, CLOSE, day=3), _exposed(4, 9, CLOSE, day=3)])
    assert choice is not None and (choice.case, choice.reason) == (4, SourceReason.TIE_BREAK)


def test_link_source_counts_several_exposures_to_one_case_once() -> None:
    choice = link_source([_exposed(1, 9, SECONDARY, day=2), _exposed(1, 9, CLOSE, day=4)])
    assert choice is not None
    assert (choice.case, choice.reason, choice.link.category) == (1, SourceReason.ONLY_CANDIDATE, CLOSE)
    assert link_source([]) is None


def test_link_source_refuses_links_of_two_people_or_a_category_that_is_no_contact() -> None:
    with pytest.raises(FieldError, match="one contact"):
        link_source([_exposed(1, 9, CLOSE, day=3), _exposed(2, 8, CLOSE, day=3)])
    with pytest.raises(FieldError, match="not a contact of a case"):
        link_source([_exposed(1, 9, ContactCategory.INBOUND, day=3)])


def test_a_contact_who_became_a_case_is_linked_to_their_likely_source() -> None:
    contacts = [_exposed(1, 3, SECONDARY, day=5), _exposed(2, 3, CLOSE, day=4), _exposed(1, 50, CLOSE, day=4)]
    graph = transmission_graph([_case(1), _case(2), _case(3, 6)], contacts=contacts)
    (inferred,) = graph.infections
    assert (inferred.infector, inferred.infectee) == (2, 3)
    assert inferred.inferred is not None and inferred.inferred.reason is SourceReason.STRONGEST_CATEGORY
    assert transmission_graph(graph.cases, contacts=contacts, infer_sources=False).infections == ()


def test_a_known_infector_is_kept_over_contact_links() -> None:
    graph = transmission_graph([_case(1), _case(2), _case(3, 6)], [Infection(1, 3)], [_exposed(2, 3, CLOSE, day=4)])
    assert [(i.infector, i.infectee, i.inferred) for i in graph.infections] == [(1, 3, None)]


def test_the_graph_refuses_bad_links_naming_the_item() -> None:
    with pytest.raises(FieldError) as unknown:
        transmission_graph([_case(1)], [Infection(1, 2)])
    assert unknown.value.field == "infections[0].infectee"
    with pytest.raises(FieldError) as twice:
        transmission_graph([_case(1), _case(2), _case(3)], [Infection(1, 3), Infection(2, 3)])
    assert (twice.value.field, twice.value.reason) == ("infections[1].infectee", "already infected by 1")
    with pytest.raises(FieldError) as duplicate:
        transmission_graph([_case(1), _case(1)])
    assert duplicate.value.field == "cases[1].key"
    with pytest.raises(FieldError) as stranger:
        transmission_graph([_case(1)], contacts=[_exposed(2, 3, CLOSE, day=4)])
    assert stranger.value.field == "contacts[0].case"


# ---------------------------------------------------------------- source tracing 溯源


def _visit(case: int, venue: int, day: int, hour: int = 10, hours: int = 1) -> Visit:
    start = datetime(2021, 12, day, hour)
    return Visit(case=case, venue_id=venue, start=start, end=start + timedelta(hours=hours))


def test_a_venue_shared_by_three_cases_ranks_above_one_shared_by_two() -> None:
    cases = [_case(key, day=14) for key in (1, 2, 3)]  # onset 15 December: infected 1-14 December
    visits = [_visit(1, 20, 5), _visit(2, 20, 5), _visit(1, 30, 9), _visit(2, 30, 9), _visit(3, 30, 10)]
    leads = rank_source_venues(cases, visits, EIGHTH)
    assert [(lead.venue_id, lead.cases) for lead in leads] == [(30, (1, 2, 3)), (20, (1, 2))]
    assert leads[0].days == (date(2021, 12, 9), date(2021, 12, 10))


def test_source_tracing_ignores_a_visit_outside_the_incubation_window() -> None:
    cases = [_case(1, day=14), _case(2, day=14), _case(3, day=14)]
    late = _visit(3, 30, 15)  # the day of onset: after the last day of likely infection
    visits = [_visit(1, 20, 5), _visit(2, 20, 5), _visit(1, 30, 9), _visit(2, 30, 9), late]
    leads = rank_source_venues(cases, visits, EIGHTH)
    assert [(lead.venue_id, lead.cases) for lead in leads] == [(20, (1, 2)), (30, (1, 2))]
    assert late not in leads[1].visits


def test_among_venues_with_as_many_cases_the_tighter_visits_rank_first() -> None:
    cases = [_case(1, day=14), _case(2, day=14)]
    visits = [_visit(1, 20, 3), _visit(2, 20, 9), _visit(1, 30, 6, hour=9), _visit(2, 30, 6, hour=11)]
    leads = rank_source_venues(cases, visits, EIGHTH)
    assert [lead.venue_id for lead in leads] == [30, 20]
    assert [lead.arrival_spread for lead in leads] == [timedelta(hours=2), timedelta(days=6)]


def test_a_regular_visitor_does_not_loosen_a_tight_meeting() -> None:
    cases = [_case(1, day=14), _case(2, day=14)]
    visits = [_visit(1, 20, day) for day in range(2, 12)] + [_visit(2, 20, 7, hour=11)]
    (lead,) = rank_source_venues(cases, visits, EIGHTH)
    assert lead.arrival_spread == timedelta(hours=1)


def test_source_tracing_refuses_a_visit_of_an_unknown_case() -> None:
    with pytest.raises(FieldError) as refused:
        rank_source_venues([_case(1, day=14)], [_visit(2, 20, 5)], EIGHTH)
    assert refused.value.field == "visits[0].case"


# ---------------------------------------------------------------- the graph for the web page


def test_echarts_graph_has_every_node_and_link() -> None:
    graph = transmission_graph(
        [_case(1), _case(2, 3, "BA.2"), _case(3, 5, None)],
        [Infection(1, 2), Infection(2, 3)],
        [_exposed(1, 70, CLOSE, day=3), _exposed(2, 70, SECONDARY, day=4), _exposed(3, 71, SECONDARY, day=6)],
    )
    chart = echarts_graph(graph, labels={1: "病例1"})
    assert [node["id"] for node in chart["nodes"]] == ["1", "2", "3", "70", "71"]
    assert chart["nodes"][0]["name"] == "病例1"
    names = [category["name"] for category in chart["categories"]]
    assert names == ["BA.2", DELTA, "unknown lineage", "close_contact", "secondary_contact"]
    by_id = {node["id"]: node for node in chart["nodes"]}
    assert names[by_id["70"]["category"]] == "close_contact"  # the strongest of their links
    assert by_id["1"]["symbolSize"] > by_id["3"]["symbolSize"] > by_id["70"]["symbolSize"]
    pairs = [(link["source"], link["target"]) for link in chart["links"]]
    assert pairs == [("1", "2"), ("2", "3"), ("1", "70"), ("2", "70"), ("3", "71")]


def test_echarts_graph_of_cases_only_leaves_out_contacts() -> None:
    graph = transmission_graph([_case(1), _case(2)], [Infection(1, 2)], [_exposed(1, 9, CLOSE, 3)])
    chart = echarts_graph(graph, include_contacts=False)
    assert [node["id"] for node in chart["nodes"]] == ["1", "2"]
    assert chart["links"] == [{"source": "1", "target": "2", "value": "infection"}]


# ---------------------------------------------------------------- a generated outbreak


def _outbreak_graph(tmp_path: Path, start_date: date) -> tuple[TransmissionGraph, dict[int, list[dict[str, object]]]]:
    """The generated outbreak's graph from its infector links, and the true infections by index case."""
    generate_district(
        tmp_path, people=3000, seed=11, days=7, index_cases=10, attack=1.5, start_date=start_date, progress=False
    )
    rows = pq.read_table(tmp_path / "outbreak" / "infections.parquet").to_pylist()
    cases = [
        Case(r["infectee_key"], r["first_positive_sampling_date"], r["onset_date"], lineage=r["lineage"]) for r in rows
    ]
    links = [
        Infection(r["infector_key"], r["infectee_key"], r["venue_id"]) for r in rows if r["infector_key"] is not None
    ]
    infector = {r["infectee_key"]: r["infector_key"] for r in rows}
    by_root: dict[int, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        root = row["infectee_key"]
        while infector[root] is not None:
            root = infector[root]
        by_root[root].append(row)
    return transmission_graph(cases, links), by_root


@pytest.mark.parametrize(("start_date", "profile"), [(date(2021, 12, 1), EIGHTH), (date(2022, 7, 1), NINTH)])
def test_every_true_chain_of_a_generated_outbreak_is_found_as_one_cluster(
    tmp_path: Path, start_date: date, profile: ProtocolProfile
) -> None:
    graph, by_root = _outbreak_graph(tmp_path, start_date)
    truth = {root: rows for root, rows in by_root.items() if len(rows) >= profile.tracing.cluster.min_cases}
    found = {cluster.index_cases: cluster for cluster in clusters(graph, profile)}
    assert truth and set(found) == {(root,) for root in truth}
    for root, rows in truth.items():
        cluster = found[(root,)]
        assert set(cluster.cases) == {row["infectee_key"] for row in rows}
        assert not cluster.mixed_lineages
        assert {cluster.dominant_lineage} == {row["lineage"] for row in rows}
