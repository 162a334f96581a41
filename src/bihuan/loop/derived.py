"""What the loop's metrics read off one timeline (pure): when the person entered, where a case was found.

Shared by the metrics (``loop.metrics``) and the projector, which keeps both on the person's row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bihuan.loop.choices import FoundWhere, Stage
from bihuan.loop.engine import ENTRY_STAGES, Step, Timeline

S = Stage
_DETECTING = frozenset({S.SAMPLED, S.POOL_POSITIVE, S.DIAGNOSED, S.CONFIRMED})
_LEAVES_SITE = frozenset({S.HOSPITAL, S.RELEASED, S.LEFT_QUEUE, S.MOVED_OUT, S.DIED})


def entered_at(t: Timeline) -> datetime | None:
    """When the person entered the loop: the first entry stage they reached."""
    return min((r.first_at for r in t.reached if r.stage in ENTRY_STAGES), default=None)


def _detected_at(steps: Iterable[Step], confirmed: datetime) -> datetime:
    """The start of the episode that led to the confirmation: its first positive sample (or positive
    result), after the last time the person was cleared; the confirmation itself when nothing earlier."""
    start: datetime | None = None
    for step in steps:
        at = step.event.occurred_at
        if at > confirmed:
            break
        if S.CLEARED in step.stages:
            start = None
        elif start is None and _DETECTING & set(step.stages):
            start = at
    return start or confirmed


def found_where(t: Timeline) -> FoundWhere | None:
    """Where a case was when its positive was found (None: not a case): in an open central quarantine stay,
    under in-place control still in force, or in the community. Control that the positive itself brought
    (a pool's members controlled in place) does not count: only what held before the first positive sample."""
    confirmed = next((r.first_at for r in t.reached if r.stage is S.CONFIRMED), None)
    if confirmed is None:
        return None
    detected = _detected_at(t.steps, confirmed)
    at_site = controlled = False
    for step in t.steps:
        if step.event.occurred_at >= detected:
            break
        stages = set(step.stages)
        if S.ISOLATED in stages:
            at_site = S.HOSPITAL not in stages
        elif stages & _LEAVES_SITE:
            at_site = False
        if S.CONTROLLED in stages:
            controlled = True
        elif S.CLEARED in stages:
            controlled = False
    if at_site:
        return FoundWhere.CENTRAL_SITE
    return FoundWhere.CONTROLLED_IN_PLACE if controlled else FoundWhere.COMMUNITY
