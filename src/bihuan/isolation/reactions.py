"""How isolation reacts to the loop's events (快隔离).

Results of single tubes taken at sites come back to their site tests; a case confirmed while in a
central quarantine stay opens a cross-infection investigation of its neighbours.
"""

from __future__ import annotations

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.core.events import EventRecord, subscribe_batch
from bihuan.isolation.service.cross_infection import local_day, open_for_cases
from bihuan.isolation.service.replan import replan_stays
from bihuan.isolation.service.test_results import results_came_back
from bihuan.tracing.service.runtime import profile_of


@subscribe_batch(EventKind.TEST_RESULTED)
def site_test_results(events: list[EventRecord], database: Database) -> None:
    """Results of tubes taken at sites reach their site tests (and the person's stay)."""
    tube_events = [e for e in events if e.subject_type == "tube" and e.subject_id is not None]
    if not tube_events:
        return
    clock = SimulatedClock(max(e.occurred_at for e in events))
    with database.session() as session:
        results_came_back(Ctx(session=session, clock=clock, actor=SYSTEM), tube_events)


@subscribe_batch(EventKind.CASE_CONFIRMED)
def cross_infection_on_case(events: list[EventRecord], database: Database) -> None:
    """A case confirmed in a central quarantine stay opens a cross-infection investigation."""
    cases = [e for e in events if e.person_id is not None]
    if not cases:
        return
    clock = SimulatedClock(max(e.occurred_at for e in events))
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        open_for_cases(ctx, profile_of(database), cases, today=local_day(database, clock.now()))


@subscribe_batch(EventKind.CONTACT_IDENTIFIED)
def replan_on_contact(events: list[EventRecord], database: Database) -> None:
    """A person already in a stay who is traced again is kept under the plan of the latest exposure."""
    traced = [e for e in events if e.person_id is not None]
    if not traced:
        return
    clock = SimulatedClock(max(e.occurred_at for e in events))
    with database.session() as session:
        replan_stays(Ctx(session=session, clock=clock, actor=SYSTEM), profile_of(database), traced)
