"""Pure quarantine rules (快隔离): the dated plan of phases and tests, secondary-contact release, sites."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bihuan.core.errors import FieldError
from bihuan.protocol._profile import ProtocolProfile
from bihuan.protocol._quarantine_models import QuarantineSchedule, SecondaryReleaseCondition
from bihuan.protocol.choices import CarerReason, ContactCategory, QuarantinePhase, ReleaseDecision, TestOutcome

ISOLATION_PHASES = (QuarantinePhase.CENTRAL, QuarantinePhase.HOME_ISOLATION)


@dataclass(frozen=True)
class PhasePlan:
    """One phase of a plan, from its first day `start` to its last day `end`, both inclusive."""

    phase: QuarantinePhase
    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the phase lasts."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class ScheduledTest:
    """One nucleic-acid test of a plan: on day `day` of `phase` (day 1 is the phase's first day)."""

    phase: QuarantinePhase
    day: int
    on: date
    release: bool = False
    samples: int = 1
    reagents: int = 1


@dataclass(frozen=True)
class QuarantinePlan:
    """A person's dated plan: phases in order, one after another, and every test."""

    category: ContactCategory
    variant: str | None
    last_exposure: date
    phases: tuple[PhasePlan, ...]
    tests: tuple[ScheduledTest, ...]
    release_condition: SecondaryReleaseCondition | None = None

    @property
    def end(self) -> date:
        """The last day of the last phase; the person is free of all measures the day after."""
        return self.phases[-1].end

    @property
    def isolation_end(self) -> date | None:
        """The last day of isolation (central or home), after which the code is no longer red."""
        ends = [plan.end for plan in self.phases if plan.phase in ISOLATION_PHASES]
        return max(ends) if ends else None

    def phase(self, phase: QuarantinePhase) -> PhasePlan | None:
        """The plan of `phase`, or None when the plan has no such phase."""
        return next((plan for plan in self.phases if plan.phase is phase), None)


def quarantine_schedule(
    category: ContactCategory, profile: ProtocolProfile, variant: str | None = None
) -> QuarantineSchedule:
    """The profile's schedule for a category, or one of its named variants."""
    rule = profile.quarantine.get(category)
    if rule is None:
        raise FieldError("category", f"profile {profile.name} has no quarantine plan for {category}")
    if variant is None:
        return rule
    if variant not in rule.variants:
        names = ", ".join(sorted(rule.variants)) or "none"
        raise FieldError("variant", f"{category} has no variant {variant!r} in {profile.name}; available: {names}")
    return rule.variants[variant]


def quarantine_plan(
    category: ContactCategory, last_exposure: date, profile: ProtocolProfile, variant: str | None = None
) -> QuarantinePlan:
    """Date a category's quarantine from the last exposure (末次暴露).

    Durations count from last exposure: day 1 of the first phase is the day *after* the last exposure,
    so a 14-day central phase after exposure on 1 December runs 2–15 December. Each later phase starts
    the day after the previous one ends, and its test days count from its own day 1.
    """
    schedule = quarantine_schedule(category, profile, variant)
    phases: list[PhasePlan] = []
    tests: list[ScheduledTest] = []
    day_before = last_exposure
    for phase in QuarantinePhase:
        length = schedule.phase_days(phase)
        if not length:
            continue
        plan = PhasePlan(phase, day_before + timedelta(days=1), day_before + timedelta(days=length))
        phases.append(plan)
        tests.extend(_phase_tests(schedule, plan))
        day_before = plan.end
    return QuarantinePlan(category, variant, last_exposure, tuple(phases), tuple(tests), schedule.release_condition)


def plan_document(plan: QuarantinePlan) -> dict[str, Any]:
    """A plan as plain JSON data, as traced contacts and stays store it: the category it was made for, last
    exposure, end, phases, and tests with their samples and reagents (双采双检)."""
    return {
        "category": str(plan.category),
        "last_exposure_date": plan.last_exposure.isoformat(),
        "end": plan.end.isoformat(),
        "phases": [
            {"phase": str(p.phase), "start": p.start.isoformat(), "end": p.end.isoformat()} for p in plan.phases
        ],
        "tests": [
            {
                "phase": str(t.phase),
                "day": t.day,
                "on": t.on.isoformat(),
                "release": t.release,
                "samples": t.samples,
                "reagents": t.reagents,
            }
            for t in plan.tests
        ],
    }


def _phase_tests(schedule: QuarantineSchedule, plan: PhasePlan) -> list[ScheduledTest]:
    days = schedule.test_days(plan.phase)
    release = schedule.release_test
    tests = []
    for day in days:
        on = plan.start + timedelta(days=day - 1)
        if release is not None and release.phase is plan.phase and day == days[-1]:
            tests.append(ScheduledTest(plan.phase, day, on, True, release.samples, release.reagents))
        else:
            tests.append(ScheduledTest(plan.phase, day, on))
    return tests


def secondary_contact_release(linked_results: Sequence[TestOutcome], profile: ProtocolProfile) -> ReleaseDecision:
    """May a secondary contact (次密接) be released, given the linked close contact's results in order?

    Under the 8th edition the secondary contact is released when the close contact's first tests are
    negative; a positive result means managing them as the condition's `otherwise` category.
    """
    schedule = quarantine_schedule(ContactCategory.SECONDARY_CONTACT, profile)
    condition = schedule.release_condition
    if condition is None:
        return ReleaseDecision.RELEASE
    if TestOutcome.POSITIVE in linked_results:
        return ReleaseDecision.RECLASSIFY
    first = linked_results[: condition.linked_close_contact_negative_tests]
    if len(first) < condition.linked_close_contact_negative_tests or TestOutcome.PENDING in first:
        return ReleaseDecision.WAIT
    return ReleaseDecision.RELEASE


def room_capacity(carer_reason: CarerReason | None, profile: ProtocolProfile) -> int:
    """How many people may share a quarantine room: one, plus carers for minors, elderly or disabled."""
    sites = profile.sites
    if carer_reason is not None and carer_reason in sites.carer_allowed_for:
        return sites.people_per_room + sites.carers_per_room
    return sites.people_per_room


def site_capacity_target_rooms(population: int, profile: ProtocolProfile) -> int:
    """Rooms a jurisdiction should have ready for its population (rooms per 10,000, rounded up)."""
    if population < 0:
        raise FieldError("population", "must not be negative")
    return math.ceil(population * profile.sites.rooms_per_10000_population / 10_000)
