"""What the transfer pages show, shaped for the templates: labels in words, the queue by category, the map.

No rule lives here: every number comes from the grouping, isolation and transfer services; this
module only arranges it (a pivot by category, the last few batches, positions for the map) and
words the services' reasons in the page language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.support import Translations

from bihuan.core.context import Ctx
from bihuan.grouping.choices import OPEN_STATUSES
from bihuan.grouping.schemas import QueueSummary
from bihuan.grouping.service import NO_PICKUP
from bihuan.isolation.schemas import SitePublic
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile, TransferCategory
from bihuan.transfer.choices import BatchStatus
from bihuan.transfer.schemas import BatchDetail, BatchPublic, MemberPublic, PlanPublic, StopPublic
from bihuan.transfer.service import batches

OPEN_STATUS_VALUES = [s.value for s in OPEN_STATUSES]


def unplaced_labels(t: Translations) -> dict[str, str]:
    """Why a plan left someone in the queue, in words a dispatcher acts on."""
    return {
        "no_room_within_reach": t.gettext("No free place within reach"),
        "household_too_large": t.gettext("Household too large for any vehicle"),
        "no_vehicle": t.gettext("No vehicle free"),
        NO_PICKUP: t.gettext("No pickup location"),
    }


def moved_categories(profile: ProtocolProfile) -> list[TransferCategory]:
    """The categories the profile sends to a site or hospital: the plan form offers these."""
    return [c for c in TransferCategory if profile.transfer.destination_of(c) is not None]


# -- the services' reasons, in the page language ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason as shown (in the page language) and as stored (for the title attribute)."""

    text: str
    raw: str


_Wording = Callable[[Translations, "re.Match[str]"], str]
_REASONS: list[tuple[re.Pattern[str], _Wording]] = [
    (
        re.compile(r"^not picked up before the batch arrived$"),
        lambda t, _m: t.gettext("Not picked up before the batch arrived"),
    ),
    (
        re.compile(r"^not picked up: (?P<reason>.*)$", re.S),
        lambda t, m: t.gettext("Not picked up: %(reason)s") % {"reason": m["reason"]},
    ),
    (
        re.compile(r"^vehicle (?P<vehicle>\S+) failed: (?P<reason>.*)$", re.S),
        lambda t, m: t.gettext("Vehicle %(vehicle)s broke down: %(reason)s") % m.groupdict(),
    ),
    (
        re.compile(r"^site (?P<site>.+?) full(?:: (?P<reason>.*))?$", re.S),
        lambda t, m: (
            t.gettext("Site %(site)s full: %(reason)s") % m.groupdict()
            if m["reason"]
            else t.gettext("Site %(site)s full") % {"site": m["site"]}
        ),
    ),
]


def describe_reason(raw: str, t: Translations) -> Reason | None:
    """A queue or batch reason in words: known shapes translated, anything else as the service wrote it."""
    if not raw:
        return None
    labels = unplaced_labels(t)
    code, _, _detail = raw.partition(": ")
    if code in labels:
        return Reason(labels[code], raw)
    for pattern, wording in _REASONS:
        found = pattern.match(raw)
        if found:
            return Reason(wording(t, found), raw)
    return Reason(raw, raw)


# -- the queue -------------------------------------------------------------------------------------------


@dataclass
class QueueRow:
    """One category of the queue: people by status and the oldest queue time."""

    category: str
    people: dict[str, int] = field(default_factory=dict)
    oldest_queued_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.people.values())


def queue_rows(summary: QueueSummary) -> list[QueueRow]:
    """The summary as one row per category (in the service's order), a column per open status."""
    rows: dict[str, QueueRow] = {}
    for count in summary.counts:
        row = rows.setdefault(count.category, QueueRow(count.category))
        row.people[count.status] = row.people.get(count.status, 0) + count.people
        oldest = count.oldest_queued_at
        if oldest is not None and (row.oldest_queued_at is None or oldest < row.oldest_queued_at):
            row.oldest_queued_at = oldest
    return list(rows.values())


# -- batches ---------------------------------------------------------------------------------------------


def newest_batches(ctx: Ctx, status: BatchStatus, shown: int) -> list[BatchPublic]:
    """The last `shown` batches of a status by planned start, newest first."""
    return batches.list_batches(ctx, Page(page=1, page_size=shown), status=status, newest_first=True)[0]


def recent_batches(ctx: Ctx, shown: int) -> list[BatchPublic]:
    """Completed and cancelled batches, the most recently closed first."""
    closed = newest_batches(ctx, BatchStatus.COMPLETED, shown) + newest_batches(ctx, BatchStatus.CANCELLED, shown)
    closed.sort(key=lambda b: (b.completed_at or b.planned_end, b.id), reverse=True)
    return closed[:shown]


@dataclass(frozen=True, slots=True)
class StopView:
    """A stop of the route, numbered from 1, with the people (of the user's jurisdiction) picked up there."""

    number: int
    stop: StopPublic
    members: list[MemberPublic]


def route_stops(detail: BatchDetail) -> list[StopView]:
    """The batch's stops in pickup order, each with its people."""
    by_stop: dict[int, list[MemberPublic]] = {}
    for member in detail.members:
        by_stop.setdefault(member.stop_index, []).append(member)
    return [StopView(index + 1, stop, by_stop.get(index, [])) for index, stop in enumerate(detail.stops)]


def plan_unplaced(plan: PlanPublic) -> dict[str, int]:
    """How many people the plan left queued, by reason (of the user's jurisdiction)."""
    counts: dict[str, int] = {}
    for row in plan.unplaced:
        counts[row.reason] = counts.get(row.reason, 0) + 1
    return counts


# -- the map ---------------------------------------------------------------------------------------------


def map_data(
    sites: Sequence[SitePublic], routes: Sequence[BatchPublic], labels: dict[str, str], t: Translations
) -> dict[str, Any]:
    """Sites (free places by category in the popup), batch routes and their pickup stops, for transfer-map.js."""
    return {
        "labels": {
            "free": t.gettext("free"),
            "stop": t.gettext("Stop"),
            "people": t.gettext("people"),
            "full": t.gettext("Full"),
        },
        "sites": [
            {
                "name": site.name,
                "city": site.city,
                "lat": site.lat,
                "lon": site.lon,
                "status": site.status.value,
                "places": [
                    {"category": labels.get(p.category, p.category), "free": p.free, "places": p.places}
                    for p in site.places
                ],
            }
            for site in sites
        ],
        "routes": [
            {
                "code": detail.code,
                "url": f"/transfer/batches/{detail.id}",
                "status": detail.status.value,
                "category": labels.get(detail.category, detail.category),
                "site": [detail.site_lat, detail.site_lon],
                "site_name": detail.site_name,
                "stops": [{"lat": s.lat, "lon": s.lon, "text": s.text, "people": s.people} for s in detail.route],
            }
            for detail in routes
        ],
    }
