"""How the queue reacts to the loop's events: confirmed cases and traced contacts enter it (快编组 starts).

One reaction per commit takes all that commit's events, so a tracing run's thousands of contacts
enter the queue in one bulk insert. Who is moved, and where to, comes from the profile.
"""

from __future__ import annotations

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.core.events import EventRecord, subscribe_batch
from bihuan.grouping.choices import QueueSource
from bihuan.grouping.service import QueueItem, enqueue
from bihuan.protocol import TransferCategory
from bihuan.tracing.service.runtime import profile_of


def _item(event: EventRecord) -> QueueItem | None:
    if event.person_id is None:
        return None
    if event.kind == EventKind.CASE_CONFIRMED:
        return QueueItem(event.person_id, TransferCategory.CONFIRMED, QueueSource.CASE_CONFIRMED, event.subject_id)
    category = str(event.payload.get("category", ""))
    if category not in set(TransferCategory):
        return None
    return QueueItem(
        event.person_id, TransferCategory(category), QueueSource.CONTACT_IDENTIFIED, event.refs.get("case")
    )


@subscribe_batch(EventKind.CASE_CONFIRMED, EventKind.CONTACT_IDENTIFIED)
def queue_on_case_or_contact(events: list[EventRecord], database: Database) -> None:
    """Queue every confirmed case and every traced contact whose category the profile moves."""
    items = [item for item in map(_item, events) if item is not None]
    if not items:
        return
    clock = SimulatedClock(max(e.occurred_at for e in events))  # queued at the moment of the events
    with database.session() as session:
        enqueue(Ctx(session=session, clock=clock, actor=SYSTEM), items, profile_of(database))
