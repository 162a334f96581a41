"""How tracing reacts to the loop's events: a confirmed case opens its investigation (快流调 starts).

``case_confirmed`` opens the case's investigation, links the case to its likely source when the
person was a traced contact of an earlier case, and — where the deployment asks for it — runs the
contact engine at once, so the contacts reach grouping without waiting for anyone.
"""

from __future__ import annotations

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.core.events import EventRecord, subscribe
from bihuan.tracing.service import chains, contacts, investigations
from bihuan.tracing.service.runtime import runtime_for


@subscribe(EventKind.CASE_CONFIRMED)
def open_on_case_confirmed(event: EventRecord, database: Database) -> None:
    """Open the investigation of a newly confirmed case, link it to its source, and trace it."""
    if event.subject_id is None:
        return
    runtime = runtime_for(database)
    clock = SimulatedClock(event.occurred_at)  # the reaction happens at the moment of the event
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        investigation = investigations.open_investigation(ctx, event.subject_id)
        chains.link_to_source(ctx, event.subject_id)
        investigation_id = investigation.id
    if runtime is None or not runtime.auto_trace:
        return
    with database.session() as session:
        ctx = Ctx(session=session, clock=clock, actor=SYSTEM)
        contacts.trace_contacts(ctx, investigation_id, runtime)
