"""The drill's summary, read back through the API and set against the truth: delays achieved per loop
stage, contacts found against the people the cases really infected, where cases were found, open loops,
and a check that everyone who entered the loop has a recorded end or is listed open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bihuan.sim._field_api import Field
from bihuan.sim._field_teams import COMMANDER, INVESTIGATOR, Notebook, RoundLog
from bihuan.sim._field_world import World


@dataclass(frozen=True)
class StageDelay:
    stage: str
    link: str
    target_hours: float
    count: int
    median_hours: float | None
    p90_hours: float | None
    within_target: float | None
    pending: int
    pending_overdue: int


@dataclass(frozen=True)
class ContactsAgainstTruth:
    """Contacts the engine found, against the people the confirmed cases infected before confirmation."""

    found: int  # distinct people traced as contacts
    truth: int  # people the confirmed cases infected (the truth's contacts that mattered)
    truth_found: int
    found_not_in_truth: int  # traced, but not infected by a confirmed case

    @property
    def recall(self) -> float | None:
        return None if not self.truth else self.truth_found / self.truth


@dataclass(frozen=True)
class DrillSummary:
    start: datetime
    end: datetime
    rounds: tuple[RoundLog, ...]
    requests: int
    cases: int
    delays: tuple[StageDelay, ...]
    contacts: ContactsAgainstTruth
    found: dict[str, int]  # where the cases were found (central_site, controlled_in_place, community)
    in_quarantine: int
    entered: int
    closed: int
    open: int
    overdue: int
    funnel_entered: int
    funnel_closed: int
    funnel_days_entered: int  # the per-day entries summed over the drill
    unaccounted: tuple[int, ...]  # people the teams saw enter, neither closed nor listed open

    @property
    def loops_add_up(self) -> bool:
        return self.entered == self.closed + self.open and not self.unaccounted

    @property
    def funnel_adds_up(self) -> bool:
        return self.funnel_entered == self.entered == self.funnel_days_entered and self.funnel_closed == self.closed


def summarise(
    api: Field, world: World, book: Notebook, start: datetime, end: datetime, first: date, last: date
) -> DrillSummary:
    delays = api.get(COMMANDER, "/api/loop/delays", since=start.isoformat(), until=end.isoformat())
    open_rows = list(api.pages(COMMANDER, "/api/loop/open"))
    totals = api.get(COMMANDER, "/api/loop/open", page=1, page_size=1)
    funnel = api.get(COMMANDER, "/api/loop/funnel", since=first.isoformat(), until=last.isoformat())
    found = api.get(COMMANDER, "/api/loop/found-in-quarantine", since=first.isoformat(), until=last.isoformat())
    listed_open = {row["person_id"] for row in open_rows}
    unaccounted = tuple(sorted(p for p in book.entered - listed_open if not _closed(api, p)))
    return DrillSummary(
        start=start,
        end=end,
        rounds=tuple(book.rounds),
        requests=api.requests,
        cases=len(book.confirmed_at),
        delays=tuple(_stage(row) for row in delays["stages"]),
        contacts=_contacts(api, world, book, funnel["reached"].get("identified", 0)),
        found={str(k): int(v) for k, v in sorted(found["found"].items())},
        in_quarantine=int(found["in_quarantine"]),
        entered=totals["entered"],
        closed=totals["closed"],
        open=totals["open"],
        overdue=totals["overdue"],
        funnel_entered=funnel["entered"],
        funnel_closed=funnel["closed"],
        funnel_days_entered=sum(day["entered"] for day in funnel["days"]),
        unaccounted=unaccounted,
    )


def _closed(api: Field, person_id: int) -> bool:
    timeline = api.get(COMMANDER, f"/api/loop/people/{person_id}/timeline")
    return bool(timeline["in_loop"] and timeline["closed"])


def _stage(row: dict[str, Any]) -> StageDelay:
    return StageDelay(
        stage=row["stage"],
        link=row["link"],
        target_hours=row["target_hours"],
        count=row["count"],
        median_hours=row["median_hours"],
        p90_hours=row["p90_hours"],
        within_target=row["within_target"],
        pending=row["pending"],
        pending_overdue=row["pending_overdue"],
    )


def _contacts(api: Field, world: World, book: Notebook, identified: int) -> ContactsAgainstTruth:
    """`identified`: the people the funnel counts as traced over the drill; each true contact is looked up."""
    truth = world.infected_by(set(book.confirmed_at), book.confirmed_at)
    found = {p for p in truth if api.get(INVESTIGATOR, "/api/contacts", person_id=p, page=1, page_size=1)["count"]}
    return ContactsAgainstTruth(
        found=identified, truth=len(truth), truth_found=len(found), found_not_in_truth=identified - len(found)
    )
