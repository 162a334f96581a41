"""Reading a stay's plan document (隔离方案, as tracing stored it): when the central phase ends, when the
person may leave, and which tests each phase holds."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bihuan.protocol import QuarantinePhase, SiteRules


def central_end(plan: dict[str, Any]) -> date | None:
    """The last day of the plan's central phase (None: no plan, or no central phase)."""
    ends = [date.fromisoformat(p["end"]) for p in plan.get("phases", []) if p.get("phase") == QuarantinePhase.CENTRAL]
    return max(ends) if ends else None


def release_from(plan: dict[str, Any], rules: SiteRules) -> date | None:
    """The first day the plan lets a person leave the site: the central phase's last day, or the day
    after, as the profile says; the day their room is theirs no longer."""
    end = central_end(plan)
    if end is None:
        return None
    return end if rules.release_on_last_day else end + timedelta(days=1)
