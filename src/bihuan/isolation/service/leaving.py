"""Ending stays (离开隔离点): a person released or moved on gives back their room and their place.

A room is freed only when nobody else is left in it (a carer stays with the person cared for); the
site's places are counted again, from its rooms or, at a count-only site, by the number who left.
Tests still due for the people who left are cancelled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import select, update

from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.isolation.choices import RoomStatus, StayStatus
from bihuan.isolation.models import IsolationSite, IsolationStay, SiteRoom
from bihuan.isolation.service.places import has_rooms, sync_places
from bihuan.isolation.service.sites import admit
from bihuan.isolation.service.testing import cancel_due_tests
from bihuan.protocol import DestinationKind


def end_stays(ctx: Ctx, stays: Sequence[IsolationStay], status: StayStatus) -> None:
    """Close open stays with `status` now; free the rooms left empty and recount their sites' places."""
    if not stays:
        return
    now = ctx.clock.now()
    for stay in stays:
        stay.open_person_id, stay.status, stay.ended_at = None, status.value, now
    ctx.session.flush()
    cancel_due_tests(ctx, [s.id for s in stays])
    _free_empty_rooms(ctx, {s.room_id for s in stays if s.room_id is not None})
    left = Counter((s.site_id, s.category) for s in stays)
    for (site_id, category), count in left.items():
        if has_rooms(ctx, site_id, category):
            sync_places(ctx, site_id, category)
        else:
            admit(ctx, site_id, category, -count)


def _free_empty_rooms(ctx: Ctx, room_ids: set[int]) -> None:
    still: set[int] = set()
    for chunk in id_chunks(room_ids):
        still.update(
            ctx.session.scalars(
                select(IsolationStay.room_id).where(
                    IsolationStay.room_id.in_(chunk), IsolationStay.open_person_id.is_not(None)
                )
            )
        )
    for chunk in id_chunks(room_ids - still):
        ctx.session.execute(update(SiteRoom).where(SiteRoom.id.in_(chunk)).values(status=RoomStatus.FREE.value))


def open_stay_of(ctx: Ctx, person_id: int) -> tuple[IsolationStay, DestinationKind] | None:
    """The person's open stay and the kind of its site (quarantine site or designated hospital), if any:
    for a recorded end of the person's loop, which ends the stay with `end_stays`."""
    row = ctx.session.execute(
        select(IsolationStay, IsolationSite.kind)
        .join(IsolationSite, IsolationSite.id == IsolationStay.site_id)
        .where(IsolationStay.open_person_id == person_id)
    ).first()
    return None if row is None else (row[0], DestinationKind(row[1]))
