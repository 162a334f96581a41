"""Chains over stored cases: a contact who becomes a case is linked to their source; clusters; shared venues."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.factories import context, make_person
from tests.tracing.factories import World, confirm_case, runtime_for_tests, utc

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.tracing.choices import LinkBasis
from bihuan.tracing.models import Investigation, TransmissionLink
from bihuan.tracing.schemas import LinkCreate, VisitCreate
from bihuan.tracing.service import chains, investigations
from bihuan.tracing.service.runtime import TracingRuntime


def _investigation_of(database: Database, case_id: int) -> int:
    with database.session() as session:
        return session.scalars(select(Investigation.id).where(Investigation.case_id == case_id)).one()


def _links(database: Database) -> dict[int, TransmissionLink]:
    with database.session() as session:
        return {link.infectee_case_id: link for link in session.scalars(select(TransmissionLink))}


def test_a_close_contact_who_tests_positive_is_linked_to_their_case(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    source = confirm_case(database, clock, world.case_person, world.district.building_a)
    colleague = confirm_case(database, clock, world.colleague, world.district.building_a, onset=date(2021, 12, 10))
    link = _links(database)[colleague]
    assert (link.infector_case_id, link.basis) == (source, LinkBasis.CONTACT)
    assert link.reason.startswith("close_contact")


def test_a_case_traced_after_its_contact_was_confirmed_still_links_them(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    """The colleague is confirmed first (nobody traced yet); tracing the first case then finds them."""
    colleague = confirm_case(database, clock, world.colleague, world.district.building_a, onset=date(2021, 12, 10))
    assert colleague not in _links(database)
    source = confirm_case(database, clock, world.case_person, world.district.building_a)
    assert _links(database)[colleague].infector_case_id == source


def test_a_source_that_would_make_a_loop_is_refused(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    source = confirm_case(database, clock, world.case_person, world.district.building_a)
    colleague = confirm_case(database, clock, world.colleague, world.district.building_a, onset=date(2021, 12, 10))
    with pytest.raises(FieldError) as refused, context(database, clock) as ctx:
        chains.link_by_hand(ctx, _investigation_of(database, source), LinkCreate(infector_case_id=colleague))
    assert refused.value.field == "infector_case_id" and "loop" in refused.value.reason


def _chain_of_cases(database: Database, clock: SimulatedClock, world: World, size: int) -> list[int]:
    """`size` cases linked by hand one after another, all of lineage B.1.617.2."""
    people = [make_person(database, clock, world.district.building_a).id for _ in range(size)]
    cases = [confirm_case(database, clock, p, world.district.building_a, onset=date(2021, 12, 9)) for p in people]
    with context(database, clock) as ctx:
        for infector, infectee in itertools.pairwise(cases):
            chains.link_by_hand(ctx, _investigation_of(database, infectee), LinkCreate(infector_case_id=infector))
    return cases


def test_five_linked_cases_are_a_cluster_and_four_are_not(
    database: Database, clock: SimulatedClock, world: World, tmp_path: Path
) -> None:
    runtime = runtime_for_tests(database, clock, tmp_path / "empty", auto_trace=False)
    min_cases = runtime.profile.tracing.cluster.min_cases
    big = _chain_of_cases(database, clock, world, min_cases)
    _chain_of_cases(database, clock, world, min_cases - 1)
    with context(database, clock) as ctx:
        found = chains.clusters(ctx, runtime)
    assert [sorted(c["case_id"] for c in cluster["cases"]) for cluster in found] == [sorted(big)]
    assert found[0]["index_cases"] == [big[0]]


def test_a_venue_shared_by_two_cases_in_their_incubation_windows_is_a_lead(
    database: Database, clock: SimulatedClock, world: World, tmp_path: Path
) -> None:
    runtime = runtime_for_tests(database, clock, tmp_path / "empty", auto_trace=False)
    first = confirm_case(database, clock, world.case_person, world.district.building_a)
    second = confirm_case(database, clock, world.shopper, world.district.building_a)
    with context(database, clock) as ctx:
        for case_id, hour in ((first, 10), (second, 15)):
            visit = VisitCreate(
                venue_id=world.supermarket, starts_at=utc(2021, 12, 5, hour), ends_at=utc(2021, 12, 5, hour + 1)
            )
            investigations.add_visit(ctx, _investigation_of(database, case_id), visit)
        leads = chains.shared_venues(ctx, runtime)
    assert [lead["venue_id"] for lead in leads] == [world.supermarket]
    assert {c["case_id"] for c in leads[0]["cases"]} == {first, second}
    assert leads[0]["days"] == ["2021-12-05"]


def test_two_cases_who_were_each_others_contacts_are_not_linked_both_ways(
    database: Database, clock: SimulatedClock, world: World, runtime: TracingRuntime
) -> None:
    """The colleague, confirmed and traced first, has the case among their contacts; the case then is
    the colleague's contact too. One link, not a loop."""
    colleague = confirm_case(database, clock, world.colleague, world.district.building_a, onset=date(2021, 12, 9))
    case = confirm_case(database, clock, world.case_person, world.district.building_a)
    links = _links(database)
    assert len(links) == 1
    (link,) = links.values()
    assert {link.infector_case_id, link.infectee_case_id} == {colleague, case}
