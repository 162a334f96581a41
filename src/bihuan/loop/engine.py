"""One person's loop from their events (pure): stages reached, timed stages against targets, open or closed.

The stages a person reaches come from their events (``REACHES``, plus a few read from the payload);
the profile's timed stages (``LoopStage``) are measured between stages (``BOUNDS``, written once
here); where the person stands now comes from replaying the events in order. Nothing here reads a
database or a clock: the caller hands in the events, the rules and ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bihuan.core.choices import EventKind
from bihuan.core.events import EventRecord
from bihuan.loop.choices import Link, Stage
from bihuan.protocol import DestinationKind, LoopStage, ProtocolProfile, TransferCategory

S = Stage

# Kinds that reach one stage whatever they carry. TEST_RESULTED, the three sampling kinds and
# ISOLATION_STARTED are read in `_reached` (their stage depends on the result, the tube, the category).
REACHES: dict[EventKind, Stage] = {
    EventKind.POOL_POSITIVE: S.POOL_POSITIVE,
    EventKind.CONTROLLED_IN_PLACE: S.CONTROLLED,
    EventKind.CASE_CONFIRMED: S.CONFIRMED,
    EventKind.CASE_NOT_CONFIRMED: S.CLEARED,
    EventKind.INVESTIGATION_OPENED: S.INVESTIGATED,
    EventKind.INVESTIGATION_CLOSED: S.INVESTIGATION_CLOSED,
    EventKind.CONTACT_IDENTIFIED: S.IDENTIFIED,  # only for a category the profile moves
    EventKind.TRANSFER_QUEUED: S.QUEUED,
    EventKind.RETURNED_TO_QUEUE: S.QUEUED,
    EventKind.TRANSFER_CANCELLED: S.LEFT_QUEUE,
    EventKind.BATCH_PLANNED: S.PLANNED,
    EventKind.DISPATCHED: S.DISPATCHED,
    EventKind.PICKED_UP: S.PICKED_UP,
    EventKind.ARRIVED: S.ARRIVED,
    EventKind.SITE_TEST_RESULTED: S.SITE_TEST_RESULTED,
    EventKind.RELEASED: S.RELEASED,
    EventKind.HOME_MONITORING_ENDED: S.HOME_ENDED,
    EventKind.HOSPITALISED: S.HOSPITAL,
    EventKind.DIED: S.DIED,
    EventKind.MOVED_OUT: S.MOVED_OUT,
}
_SAMPLING = (EventKind.SAMPLED, EventKind.RETEST_SAMPLED, EventKind.SITE_TEST_SAMPLED)
# Every kind the engine reads: what a service loads for a person.
READ_KINDS: frozenset[EventKind] = frozenset(
    {*REACHES, *_SAMPLING, EventKind.TEST_RESULTED, EventKind.ISOLATION_STARTED}
)
# Having any of these puts a person in the loop (a contact only in a category the profile moves).
# A single-tube positive always opens a confirmation (unless the person is a case already).
ENTRY_KINDS: frozenset[EventKind] = frozenset(
    {
        EventKind.POOL_POSITIVE,
        EventKind.CONTROLLED_IN_PLACE,
        EventKind.CONFIRMATION_OPENED,
        EventKind.CASE_CONFIRMED,
        EventKind.CONTACT_IDENTIFIED,
        EventKind.TRANSFER_QUEUED,
        EventKind.ISOLATION_STARTED,
        EventKind.HOSPITALISED,
    }
)
# Reaching one of these is entering the loop (the stage-side of ENTRY_KINDS).
ENTRY_STAGES: frozenset[Stage] = frozenset(
    {S.POOL_POSITIVE, S.CONTROLLED, S.DIAGNOSED, S.CONFIRMED, S.IDENTIFIED, S.QUEUED, S.ISOLATED, S.HOSPITAL}
)


@dataclass(frozen=True, slots=True)
class Bounds:
    """A timed stage runs from the first of `start` to the first of `end` reached at or after it.

    `settled_by` stops the clock without a measurement (a pool cleared by its re-test is never
    confirmed); a later start opens a new episode on its own clock. An end reached only before the
    start means the stage does not apply (queued by hand before tracing found the person).
    `outlives_loop`: the team's work on the case (the investigation), which keeps running — and can
    be late — whatever becomes of the person's own loop (in hospital, died).
    """

    start: tuple[Stage, ...]
    end: tuple[Stage, ...]
    link: Link
    settled_by: tuple[Stage, ...] = ()
    outlives_loop: bool = False


# The profile's timed stages, each between two stages of the person's own loop (FIRST_FINDINGS is the
# first contact_identified of the case's investigation, on the contacts' events).
BOUNDS: dict[LoopStage, Bounds] = {
    LoopStage.SAMPLE_TO_RESULT: Bounds((S.SAMPLED,), (S.POOL_POSITIVE, S.DIAGNOSED), Link.TESTING),
    LoopStage.POOL_POSITIVE_TO_CONTROLLED: Bounds((S.POOL_POSITIVE,), (S.CONTROLLED,), Link.TESTING, (S.CLEARED,)),
    LoopStage.RESULT_TO_CONFIRMED: Bounds((S.POOL_POSITIVE, S.DIAGNOSED), (S.CONFIRMED,), Link.TESTING, (S.CLEARED,)),
    LoopStage.REPORT_AFTER_DIAGNOSIS: Bounds((S.DIAGNOSED,), (S.CONFIRMED,), Link.TESTING, (S.CLEARED,)),
    LoopStage.FIRST_TRACING_FINDINGS: Bounds(
        (S.CONFIRMED,), (S.FIRST_FINDINGS,), Link.TRACING, (S.INVESTIGATION_CLOSED,), outlives_loop=True
    ),
    LoopStage.COUNTY_CASE_INVESTIGATION: Bounds(
        (S.CONFIRMED,), (S.INVESTIGATION_CLOSED,), Link.TRACING, outlives_loop=True
    ),
    LoopStage.CONTACTS_UNDER_CONTROL: Bounds((S.IDENTIFIED,), (S.ISOLATED,), Link.TRACING, (S.LEFT_QUEUE,)),
    LoopStage.CONFIRMED_TO_TRANSFERRED: Bounds((S.CONFIRMED,), (S.HOSPITAL,), Link.TRANSFER),
    LoopStage.IDENTIFIED_TO_QUEUED: Bounds((S.IDENTIFIED,), (S.QUEUED,), Link.TRANSFER),
    LoopStage.QUEUED_TO_ARRIVED: Bounds((S.QUEUED,), (S.ARRIVED,), Link.TRANSFER, (S.LEFT_QUEUE,)),
    LoopStage.ARRIVED_TO_ISOLATED: Bounds((S.ARRIVED,), (S.ISOLATED,), Link.ISOLATION),
}

# Where an open loop stands → the timed stage it waits on (None: no target applies) and who answers.
WAITS: dict[Stage, tuple[LoopStage | None, Link]] = {
    S.POOL_POSITIVE: (LoopStage.RESULT_TO_CONFIRMED, Link.TESTING),
    S.CONTROLLED: (LoopStage.RESULT_TO_CONFIRMED, Link.TESTING),
    S.DIAGNOSED: (LoopStage.REPORT_AFTER_DIAGNOSIS, Link.TESTING),
    S.CONFIRMED: (LoopStage.CONFIRMED_TO_TRANSFERRED, Link.TRANSFER),
    S.IDENTIFIED: (LoopStage.IDENTIFIED_TO_QUEUED, Link.TRANSFER),
    S.QUEUED: (LoopStage.QUEUED_TO_ARRIVED, Link.TRANSFER),
    S.PLANNED: (LoopStage.QUEUED_TO_ARRIVED, Link.TRANSFER),
    S.DISPATCHED: (LoopStage.QUEUED_TO_ARRIVED, Link.TRANSFER),
    S.PICKED_UP: (LoopStage.QUEUED_TO_ARRIVED, Link.TRANSFER),
    S.ARRIVED: (LoopStage.ARRIVED_TO_ISOLATED, Link.ISOLATION),
    S.ISOLATED: (None, Link.ISOLATION),  # held to the plan: release follows the protocol, not a loop target
    S.RELEASED: (None, Link.ISOLATION),  # the home phase under way
    S.LEFT_QUEUE: (None, Link.TRANSFER),  # off the queue with no recorded end
}
_ON_THE_ROAD = frozenset({S.QUEUED, S.PLANNED, S.DISPATCHED, S.PICKED_UP})
_TESTING_OPEN = frozenset({S.POOL_POSITIVE, S.CONTROLLED, S.DIAGNOSED})
_HELD = frozenset(
    {*_ON_THE_ROAD, S.ARRIVED, S.ISOLATED, S.HOSPITAL}
)  # being moved or held: tracing again moves nothing


@dataclass(frozen=True, slots=True)
class LoopRules:
    """What the engine reads of the profile: the targets (hours) and which contact categories are moved."""

    targets: Mapping[LoopStage, float]
    moved_categories: frozenset[str]
    confirmed_category: str = TransferCategory.CONFIRMED.value

    @classmethod
    def of(cls, profile: ProtocolProfile) -> LoopRules:
        moved = frozenset(c.value for c in profile.transfer.destinations)
        hospital = [
            c.value for c, d in profile.transfer.destinations.items() if d == DestinationKind.DESIGNATED_HOSPITAL
        ]
        return cls(
            targets=dict(profile.loop_targets),
            moved_categories=moved,
            confirmed_category=hospital[0] if hospital else TransferCategory.CONFIRMED.value,
        )


@dataclass(frozen=True, slots=True)
class Reached:
    stage: Stage
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True, slots=True)
class Step:
    """One event of the person's loop and the stages it reached."""

    event: EventRecord
    stages: tuple[Stage, ...]


@dataclass(frozen=True, slots=True)
class Delay:
    """A timed stage of the person: measured (`hours`), or still running (`pending`) at `now`."""

    stage: LoopStage
    link: Link
    started_at: datetime
    ended_at: datetime | None
    hours: float | None  # measured; None while pending
    target_hours: float
    pending: bool
    overdue: bool  # pending and past its target at `now`

    @property
    def met(self) -> bool | None:
        return None if self.hours is None else self.hours <= self.target_hours


@dataclass(frozen=True, slots=True)
class Timeline:
    """A person's loop: what was reached, the timed stages, and whether it is closed or where it is stuck."""

    in_loop: bool
    is_case: bool
    reached: tuple[Reached, ...]
    steps: tuple[Step, ...]
    delays: tuple[Delay, ...]
    closed: bool
    end: Stage | None = None  # the recorded end of a closed loop
    ended_at: datetime | None = None
    stuck_at: Stage | None = None  # where an open loop stands
    since: datetime | None = None  # when it got there
    waiting_on: LoopStage | None = None
    link: Link | None = None
    target_hours: float | None = None
    due_at: datetime | None = None  # when the stage it waits on passes its target
    overdue: bool = False


NOT_IN_LOOP = Timeline(in_loop=False, is_case=False, reached=(), steps=(), delays=(), closed=False)


def _hours(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 3600, 2)


def _tube(event: EventRecord) -> set[int]:
    """The tubes an event is about (a pool or single tube, a re-test's tube, a site test's tubes)."""
    if event.kind is EventKind.RETEST_SAMPLED:
        return {int(event.refs["tube"])} if event.refs.get("tube") is not None else set()
    if event.kind is EventKind.SITE_TEST_SAMPLED:
        return {int(t) for t in event.refs.get("tubes", [])}
    return {event.subject_id} if event.subject_type == "tube" and event.subject_id is not None else set()


def _positive(event: EventRecord) -> bool:
    return event.kind is EventKind.POOL_POSITIVE or (
        event.kind is EventKind.TEST_RESULTED and event.payload.get("result") == "positive"
    )


def _reached(event: EventRecord, rules: LoopRules, positive_tubes: set[int]) -> tuple[Stage, ...]:
    """The stages one event reaches."""
    kind = event.kind
    if kind in _SAMPLING:
        found: tuple[Stage, ...] = (S.SAMPLED,) if _tube(event) & positive_tubes else ()
        return (*found, S.SITE_TESTED) if kind is EventKind.SITE_TEST_SAMPLED else found
    if kind is EventKind.TEST_RESULTED:
        result = event.payload.get("result")
        if result == "positive":
            return (S.DIAGNOSED,)
        return (S.CLEARED,) if result == "negative" and event.refs.get("retest") is not None else ()
    if kind is EventKind.ISOLATION_STARTED:
        at_hospital = event.payload.get("category") == rules.confirmed_category
        return (S.ISOLATED, S.HOSPITAL) if at_hospital else (S.ISOLATED,)
    if kind is EventKind.CONTACT_IDENTIFIED and event.payload.get("category") not in rules.moved_categories:
        return ()
    stage = REACHES.get(kind)
    return () if stage is None else (stage,)


@dataclass(slots=True)
class _Where:
    """Where the person stands while the events replay: the testing track and the moving track apart."""

    testing: Stage | None = None
    testing_at: datetime | None = None
    moving: Stage | None = None
    moving_at: datetime | None = None
    home_pending: bool = False
    terminal: Stage | None = None
    terminal_at: datetime | None = None

    def test(self, stage: Stage, at: datetime) -> None:
        self.testing, self.testing_at = stage, at
        if self.terminal is S.MOVED_OUT:
            self.terminal = None

    def move(self, stage: Stage, at: datetime) -> None:
        self.moving, self.moving_at = stage, at
        if self.terminal is S.MOVED_OUT:
            self.terminal = None

    def advance(self, stage: Stage, event: EventRecord) -> None:
        at = event.occurred_at
        if stage in (S.DIED, S.MOVED_OUT):
            if self.terminal is not S.DIED:
                self.terminal, self.terminal_at = stage, at
        elif stage in (S.POOL_POSITIVE, S.CONTROLLED):
            if self.testing not in (S.DIAGNOSED, S.CONFIRMED):
                self.test(stage, at)
        elif stage is S.DIAGNOSED:
            if self.testing is not S.CONFIRMED:
                self.test(stage, at)
        elif stage is S.CONFIRMED:
            self.test(stage, at)
        elif stage is S.CLEARED:
            if self.testing in _TESTING_OPEN:
                self.test(stage, at)
        elif stage is S.IDENTIFIED:
            if self.moving not in _HELD:
                self.move(stage, at)
        elif stage in (*_ON_THE_ROAD, S.LEFT_QUEUE, S.ARRIVED, S.ISOLATED, S.HOSPITAL):
            self.move(stage, at)
        elif stage is S.RELEASED:
            self.move(stage, at)
            self.home_pending = bool(event.payload.get("home_phase"))
        elif stage is S.HOME_ENDED and self.moving is S.RELEASED:
            self.move(stage, at)


def _replay(events: Sequence[EventRecord], rules: LoopRules) -> tuple[list[Step], _Where]:
    positive_tubes = {t for e in events if _positive(e) for t in _tube(e)}
    steps: list[Step] = []
    where = _Where()
    for event in events:
        stages = _reached(event, rules, positive_tubes)
        if stages:
            steps.append(Step(event, stages))
        for stage in stages:
            where.advance(stage, event)
    return steps, where


def _times(steps: Sequence[Step], first_findings: datetime | None) -> dict[Stage, list[datetime]]:
    times: dict[Stage, list[datetime]] = {}
    for step in steps:
        for stage in step.stages:
            times.setdefault(stage, []).append(step.event.occurred_at)
    if first_findings is not None and S.CONFIRMED in times:
        times[S.FIRST_FINDINGS] = [first_findings]
    return times


def _all(stages: Sequence[Stage], times: Mapping[Stage, list[datetime]]) -> list[datetime]:
    return sorted(t for s in stages for t in times.get(s, ()))


def _episode(bounds: Bounds, times: Mapping[Stage, list[datetime]]) -> tuple[datetime | None, datetime | None]:
    """(started, ended) of the stage's last unsettled episode: a settlement before the end restarts the
    clock at the next start after it; (None, None) when nothing runs (never started, or settled)."""
    starts, ends, settles = _all(bounds.start, times), _all(bounds.end, times), _all(bounds.settled_by, times)
    started = starts[0] if starts else None
    while started is not None:
        ended = next((t for t in ends if t >= started), None)
        settled = next((t for t in settles if t >= started), None)
        if settled is None or (ended is not None and ended <= settled):
            return started, ended
        started = next((t for t in starts if t > settled), None)
    return None, None


def _delay(
    stage: LoopStage, bounds: Bounds, times: Mapping[Stage, list[datetime]], target: float, now: datetime, open_: bool
) -> Delay | None:
    started, ended = _episode(bounds, times)
    if started is None:
        return None
    if ended is not None:
        return Delay(stage, bounds.link, started, ended, _hours(started, ended), target, False, False)
    if any(s in times for s in bounds.end):
        return None  # reached before the stage began: it does not apply
    if not (open_ or bounds.outlives_loop):
        return None
    return Delay(stage, bounds.link, started, None, None, target, True, _hours(started, now) > target)


def _not_before(at: datetime | None, other: datetime | None) -> bool:
    return at is not None and other is not None and at >= other


def _standing(where: _Where, is_case: bool) -> tuple[Stage | None, datetime | None, bool]:
    """(stage, since, closed): the recorded end of a closed loop, or where an open one stands."""
    if where.terminal is not None:
        return where.terminal, where.terminal_at, True
    if where.moving is S.HOSPITAL:
        return S.HOSPITAL, where.moving_at, True
    if is_case:
        on_way = where.moving in (*_ON_THE_ROAD, S.ARRIVED)
        if (
            on_way
            and where.moving_at is not None
            and where.testing_at is not None
            and where.moving_at >= where.testing_at
        ):
            return where.moving, where.moving_at, False
        return S.CONFIRMED, where.testing_at, False
    if where.testing in _TESTING_OPEN:
        return where.testing, where.testing_at, False
    if (where.moving is S.RELEASED and not where.home_pending) or where.moving is S.HOME_ENDED:
        return where.moving, where.moving_at, True
    if where.moving is not None:
        return where.moving, where.moving_at, False
    return S.CLEARED, where.testing_at, True


def timeline(
    events: Sequence[EventRecord], rules: LoopRules, now: datetime, *, first_findings: datetime | None = None
) -> Timeline:
    """The person's loop from their events in time order; `first_findings`: when the investigation of
    the person's case found its first contact (on other people's events), if it did."""
    steps, where = _replay(events, rules)
    times = _times(steps, first_findings)
    if not ENTRY_STAGES & times.keys():
        return NOT_IN_LOOP
    is_case = where.testing is S.CONFIRMED
    stage, since, closed = _standing(where, is_case)
    delays = tuple(
        d
        for loop_stage, bounds in BOUNDS.items()
        if (d := _delay(loop_stage, bounds, times, rules.targets[loop_stage], now, not closed)) is not None
    )
    reached = tuple(
        sorted(
            (Reached(s, ts[0], ts[-1]) for s, ts in times.items()), key=lambda r: (r.first_at, list(S).index(r.stage))
        )
    )
    base = Timeline(True, is_case, reached, tuple(steps), delays, closed)
    if closed:
        return replace(base, end=stage, ended_at=since)
    return _open(base, stage, since, is_case, delays, rules, now)


def _open(
    base: Timeline,
    stage: Stage | None,
    since: datetime | None,
    is_case: bool,
    delays: Sequence[Delay],
    rules: LoopRules,
    now: datetime,
) -> Timeline:
    waiting, link = WAITS.get(stage, (None, Link.TRANSFER)) if stage is not None else (None, None)
    if is_case and stage in _ON_THE_ROAD:
        waiting, link = LoopStage.CONFIRMED_TO_TRANSFERRED, Link.TRANSFER
    facts: dict[str, Any] = {"stuck_at": stage, "since": since, "waiting_on": waiting, "link": link}
    if waiting is None or since is None:
        return replace(base, **facts)
    target = rules.targets[waiting]
    running = next((d for d in delays if d.stage is waiting and d.pending), None)
    clock_from = running.started_at if running is not None else since  # a second pass starts its own clock
    due = clock_from + timedelta(hours=target)
    return replace(base, **facts, target_hours=target, due_at=due, overdue=now > due)
