"""Key populations (重点人群): members tested on the profile's schedule, and who is overdue (应检未检).

The schedule starts on the day of enrolment (`since`, a UTC date, counted from 00:00 UTC). A member's
next test falls due `interval` days after their last sample since enrolment (any kind of sample,
duplicates left out), or `interval` days after enrolment when they have none since; past that moment
they are overdue. A population without an interval in the profile has no schedule and is never overdue.
A membership ended on day `until` no longer counts from that day on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.people import service as people
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile, key_population_interval_days
from bihuan.screening.choices import KeyPopulation
from bihuan.screening.models import KeyPopulationMember, Sample
from bihuan.screening.schemas.metrics import KeyPopulationEnrol, KeyPopulationMemberPublic, OverdueMember

AnySelect = Select[*tuple[Any, ...]]
HOUR = 3600.0


def _today(ctx: Ctx) -> date:
    return ctx.clock.now().date()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _active(on: date) -> Any:
    """Memberships in force on this day."""
    return (KeyPopulationMember.since <= on) & or_(KeyPopulationMember.until.is_(None), KeyPopulationMember.until > on)


def member_public(member: KeyPopulationMember, profile: ProtocolProfile) -> KeyPopulationMemberPublic:
    population = KeyPopulation(member.population)
    return KeyPopulationMemberPublic(
        id=member.id,
        person_id=member.person_id,
        population=population,
        since=member.since,
        until=member.until,
        interval_days=key_population_interval_days(population, profile),
    )


# -- membership ------------------------------------------------------------------------------------


def enrol(ctx: Ctx, data: KeyPopulationEnrol) -> tuple[KeyPopulationMember, bool]:
    """Put a person in a key population; enrolling a current member again changes nothing (idempotent).

    Returns the membership and whether it was created (or re-opened after it had ended).
    """
    require(ctx.actor, Permission.WRITE_PEOPLE)
    person = people.get_person(ctx, data.person_id)  # NotFound outside the actor's subtree
    today = _today(ctx)
    since = data.since or today
    member = ctx.session.scalar(
        select(KeyPopulationMember).where(
            KeyPopulationMember.person_id == person.id, KeyPopulationMember.population == data.population.value
        )
    )
    if member is not None and (member.until is None or member.until > today):
        return member, False
    if member is None:
        member = KeyPopulationMember(person_id=person.id, population=data.population.value, since=since)
        ctx.session.add(member)
    else:  # ended earlier: a new membership from `since`
        member.since, member.until = since, None
    ctx.session.flush()
    record(
        ctx,
        EventKind.KEY_POPULATION_ENROLLED,
        person_id=person.id,
        jurisdiction_id=person.jurisdiction_id,
        subject_type="key_population_member",
        subject_id=member.id,
        payload={"population": member.population, "since": member.since.isoformat()},
    )
    return member, True


def _scoped_member(ctx: Ctx, member_id: int) -> KeyPopulationMember:
    stmt: AnySelect = (
        select(KeyPopulationMember)
        .join(Person, Person.id == KeyPopulationMember.person_id)
        .where(KeyPopulationMember.id == member_id)
    )
    member = ctx.session.scalar(people.in_scope(ctx, stmt, Person.jurisdiction_id))
    if member is None:
        raise NotFound(f"key-population member {member_id} not found")
    return member


def get_member(ctx: Ctx, member_id: int) -> KeyPopulationMember:
    require(ctx.actor, Permission.READ_PEOPLE)
    return _scoped_member(ctx, member_id)


def end_membership(ctx: Ctx, member_id: int, until: date | None = None) -> KeyPopulationMember:
    """End a membership: from day `until` (today when left out) the person is no longer tested on schedule."""
    require(ctx.actor, Permission.WRITE_PEOPLE)
    member = _scoped_member(ctx, member_id)
    until = until or _today(ctx)
    if until < member.since:
        raise FieldError("until", f"{until.isoformat()} is before the membership began ({member.since.isoformat()})")
    if member.until != until:
        member.until = until
        ctx.session.flush()
        record(
            ctx,
            EventKind.KEY_POPULATION_ENDED,
            person_id=member.person_id,
            jurisdiction_id=ctx.session.scalar(select(Person.jurisdiction_id).where(Person.id == member.person_id)),
            subject_type="key_population_member",
            subject_id=member.id,
            payload={"population": member.population, "until": until.isoformat()},
        )
    return member


def list_members(
    ctx: Ctx, page: Page, *, population: KeyPopulation | None = None, current: bool = True
) -> tuple[list[KeyPopulationMember], int]:
    """Memberships in the actor's subtree (only those in force today unless `current` is False)."""
    require(ctx.actor, Permission.READ_PEOPLE)
    stmt: AnySelect = select(KeyPopulationMember).join(Person, Person.id == KeyPopulationMember.person_id)
    stmt = people.in_scope(ctx, stmt, Person.jurisdiction_id)
    if population is not None:
        stmt = stmt.where(KeyPopulationMember.population == population.value)
    if current:
        stmt = stmt.where(_active(_today(ctx)))
    count = ctx.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = ctx.session.scalars(stmt.order_by(KeyPopulationMember.id).limit(page.page_size).offset(page.offset))
    return list(rows), count


# -- the schedule ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Due:
    row: Any
    interval_days: int
    last_sampled_at: datetime | None
    due_at: datetime


def _due(ctx: Ctx, profile: ProtocolProfile, stmt: AnySelect) -> Iterator[_Due]:
    """The next due moment of each membership the statement selects (with its last sample, if any)."""
    members = stmt.subquery()
    last = (
        select(Sample.person_id.label("person_id"), func.max(Sample.sampled_at).label("last"))
        .where(Sample.duplicate.is_(False), Sample.person_id.in_(select(members.c.person_id)))
        .group_by(Sample.person_id)
        .subquery()
    )
    rows = ctx.session.execute(
        select(members, last.c.last).outerjoin(last, last.c.person_id == members.c.person_id)
    ).all()
    for row in rows:
        interval = key_population_interval_days(KeyPopulation(row.population), profile)
        if interval is None:
            continue
        start = _start_of(row.since)
        last_sampled = row.last if row.last is not None and row.last >= start else None
        yield _Due(row, interval, last_sampled, (last_sampled or start) + timedelta(days=interval))


def _members_in_force(ctx: Ctx) -> AnySelect:
    return select(
        KeyPopulationMember.id.label("member_id"),
        KeyPopulationMember.person_id,
        KeyPopulationMember.population,
        KeyPopulationMember.since,
    ).where(_active(_today(ctx)))


def overdue_members(
    ctx: Ctx, profile: ProtocolProfile, page: Page, *, population: KeyPopulation | None = None
) -> tuple[list[OverdueMember], int]:
    """Members in the actor's subtree whose next test is past due, the most overdue first."""
    require(ctx.actor, Permission.READ_PEOPLE)
    now = ctx.clock.now()
    stmt = (
        _members_in_force(ctx)
        .add_columns(
            Person.name.label("person_name"),
            Person.jurisdiction_id,
            Jurisdiction.name.label("jurisdiction_name"),
        )
        .join(Person, Person.id == KeyPopulationMember.person_id)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
    )
    stmt = people.in_scope(ctx, stmt, Person.jurisdiction_id)
    if population is not None:
        stmt = stmt.where(KeyPopulationMember.population == population.value)
    late = [d for d in _due(ctx, profile, stmt) if now > d.due_at]
    late.sort(key=lambda d: (d.due_at, d.row.member_id))
    shown = late[page.offset : page.offset + page.page_size]
    return [
        OverdueMember(
            member_id=d.row.member_id,
            person_id=d.row.person_id,
            person_name=d.row.person_name,
            jurisdiction_id=d.row.jurisdiction_id,
            jurisdiction_name=d.row.jurisdiction_name,
            population=KeyPopulation(d.row.population),
            interval_days=d.interval_days,
            since=d.row.since,
            last_sampled_at=d.last_sampled_at,
            due_at=d.due_at,
            overdue_hours=(now - d.due_at).total_seconds() / HOUR,
        )
        for d in shown
    ], len(late)


def is_overdue(ctx: Ctx, person_id: int, profile: ProtocolProfile) -> bool:
    """Whether the person misses a scheduled key-population test now (the health code reads this).

    Not scoped to the actor: it answers one yes-or-no fact about a known person, for system use.
    """
    now = ctx.clock.now()
    stmt = _members_in_force(ctx).where(KeyPopulationMember.person_id == person_id)
    return any(now > d.due_at for d in _due(ctx, profile, stmt))
