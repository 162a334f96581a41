"""Positive-pool follow-up (阳性混管处置) and confirmation (确诊): from a positive result to a case.

A positive pooled tube puts every member under in-place control at once (管控) and gives each a
single-tube re-sampling task (单采复核) at their address. An individual positive (a re-test, a key
population or quarantine test) opens a confirmation, decided by a person: a confirmed case or
an asymptomatic infection ends in ``case_confirmed`` (what tracing reacts to), or not confirmed.
Every step is an event, written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, func, insert, select, update

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import Event, EventRecord, make_event, record, record_many
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.people.models import Address, Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.people.service import in_scope
from bihuan.screening.choices import ConfirmationStatus, RetestStatus, SampleKind, TestResult, TubeKind
from bihuan.screening.engine import ResultRef
from bihuan.screening.models import Case, Confirmation, LabResult, Retest, Sample, Tube
from bihuan.screening.schemas.results import ConfirmationPublic, RetestPublic

CASE_OUTCOMES = (ConfirmationStatus.CONFIRMED, ConfirmationStatus.ASYMPTOMATIC)
_CHUNK = 1000


@dataclass
class FollowUpSummary:
    controlled: int = 0  # pool members put under in-place control, each with a re-test task
    individual_results: int = 0
    confirmations: int = 0


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


# -- following up matched results --------------------------------------------------------------------


def follow_up(ctx: Ctx, refs: Sequence[ResultRef]) -> FollowUpSummary:
    """Act on results matched to their tubes: positive pools, then individual (single-tube) results."""
    summary = FollowUpSummary()
    pools = {r.tube_id: r for r in refs if r.tube_kind == TubeKind.POOLED and r.result == TestResult.POSITIVE}
    if pools:
        summary.controlled = _control_pools(ctx, pools)
    singles = [r for r in refs if r.tube_kind == TubeKind.SINGLE]
    if singles:
        summary.individual_results, summary.confirmations = _individual_results(ctx, singles)
    return summary


def _control_pools(ctx: Ctx, pools: dict[int, ResultRef]) -> int:
    """Every member of each positive pool: pool_positive, controlled_in_place, and a re-test task."""
    members: dict[tuple[int, int], tuple[int | None, int | None, int]] = {}
    for chunk in _chunks(sorted(pools)):
        stmt = (
            select(Sample.person_id, Sample.tube_id, Sample.campaign_id, Person.address_id, Person.jurisdiction_id)
            .join(Person, Person.id == Sample.person_id)
            .where(Sample.tube_id.in_(chunk))
            .order_by(Sample.id)
        )
        for person_id, tube_id, campaign_id, address_id, jurisdiction_id in ctx.session.execute(stmt):
            members.setdefault((person_id, tube_id), (campaign_id, address_id, jurisdiction_id))
        done = select(Retest.person_id, Retest.source_tube_id).where(Retest.source_tube_id.in_(chunk))
        for key in ctx.session.execute(done):
            members.pop((key[0], key[1]), None)
    if not members:
        return 0
    now = ctx.clock.now()
    values = [
        {
            "person_id": person_id,
            "source_tube_id": tube_id,
            "campaign_id": campaign_id,
            "address_id": address_id,
            "jurisdiction_id": jurisdiction_id,
            "status": RetestStatus.OPEN.value,
            "created_at": now,
        }
        for (person_id, tube_id), (campaign_id, address_id, jurisdiction_id) in members.items()
    ]
    created: list[tuple[int, int, int, int]] = []
    for chunk in _chunks(values):
        returning = insert(Retest).returning(
            Retest.id, Retest.person_id, Retest.source_tube_id, Retest.jurisdiction_id, sort_by_parameter_order=True
        )
        created.extend((r[0], r[1], r[2], r[3]) for r in ctx.session.execute(returning, list(chunk)))
    events: list[EventRecord] = []
    for kind in (EventKind.POOL_POSITIVE, EventKind.CONTROLLED_IN_PLACE):
        events.extend(
            make_event(
                ctx,
                kind,
                person_id=person_id,
                jurisdiction_id=jurisdiction_id,
                subject_type="tube",
                subject_id=tube_id,
                refs={"lab_result": pools[tube_id].lab_result_id, "retest": retest_id},
            )
            for retest_id, person_id, tube_id, jurisdiction_id in created
        )
    events.extend(
        make_event(
            ctx,
            EventKind.RETEST_SCHEDULED,
            person_id=person_id,
            jurisdiction_id=jurisdiction_id,
            subject_type="retest",
            subject_id=retest_id,
            refs={"tube": tube_id, "lab_result": pools[tube_id].lab_result_id},
        )
        for retest_id, person_id, tube_id, jurisdiction_id in created
    )
    record_many(ctx, events)
    return len(created)


def _individual_results(ctx: Ctx, singles: list[ResultRef]) -> tuple[int, int]:
    """Single-tube results: each closes its re-test (if any) with test_resulted; a positive opens a confirmation."""
    by_tube = {r.tube_id: r for r in singles}
    samples: list[tuple[int, int, int | None, str, int]] = []
    for chunk in _chunks(sorted(by_tube)):
        stmt = (
            select(Sample.person_id, Sample.tube_id, Sample.retest_id, Sample.kind, Person.jurisdiction_id)
            .join(Person, Person.id == Sample.person_id)
            .where(Sample.tube_id.in_(chunk))
            .order_by(Sample.id)
        )
        samples.extend(tuple(r) for r in ctx.session.execute(stmt))  # type: ignore[misc]
    done = _already_resulted(ctx, sorted(by_tube))
    samples = [s for s in samples if (s[0], by_tube[s[1]].lab_result_id) not in done]
    now = ctx.clock.now()
    events: list[EventRecord] = []
    confirmations = 0
    for person_id, tube_id, retest_id, sample_kind, jurisdiction_id in samples:
        ref = by_tube[tube_id]
        if retest_id is not None:
            _close_retest(ctx, retest_id, ref.result, now)
        events.append(
            make_event(
                ctx,
                EventKind.TEST_RESULTED,
                person_id=person_id,
                jurisdiction_id=jurisdiction_id,
                subject_type="tube",
                subject_id=tube_id,
                refs={"lab_result": ref.lab_result_id, "retest": retest_id},
                payload={"result": ref.result, "sample_kind": sample_kind},
            )
        )
        if ref.result == TestResult.POSITIVE and _needs_confirmation(ctx, person_id, tube_id):
            confirmation = Confirmation(
                person_id=person_id,
                lab_result_id=ref.lab_result_id,
                status=ConfirmationStatus.PENDING.value,
                opened_at=now,
                note="",
            )
            ctx.session.add(confirmation)
            ctx.session.flush()
            confirmations += 1
            events.append(
                make_event(
                    ctx,
                    EventKind.CONFIRMATION_OPENED,
                    person_id=person_id,
                    jurisdiction_id=jurisdiction_id,
                    subject_type="confirmation",
                    subject_id=confirmation.id,
                    refs={"lab_result": ref.lab_result_id, "tube": tube_id, "retest": retest_id},
                )
            )
    record_many(ctx, events)
    return len(samples), confirmations


def _already_resulted(ctx: Ctx, tube_ids: list[int]) -> set[tuple[int | None, Any]]:
    """(person, lab result) pairs whose test_resulted is written: following up again does nothing twice."""
    done: set[tuple[int | None, Any]] = set()
    for chunk in _chunks(tube_ids):
        stmt = select(Event.person_id, Event.refs).where(
            Event.kind == EventKind.TEST_RESULTED.value, Event.subject_type == "tube", Event.subject_id.in_(chunk)
        )
        done.update((person_id, (refs or {}).get("lab_result")) for person_id, refs in ctx.session.execute(stmt))
    return done


def _close_retest(ctx: Ctx, retest_id: int, result: str, now: datetime) -> None:
    """A valid result closes the task; an invalid one sends it back to be sampled again."""
    status = RetestStatus.OPEN if result == TestResult.INVALID else RetestStatus.RESULTED
    ctx.session.execute(
        update(Retest)
        .where(Retest.id == retest_id)
        .values(status=status.value, result=result, resulted_at=None if status is RetestStatus.OPEN else now)
    )


def _needs_confirmation(ctx: Ctx, person_id: int, tube_id: int) -> bool:
    """Not when the person is already a case, nor when another run of the same tube opened one."""
    if ctx.session.scalar(select(Case.id).where(Case.person_id == person_id)) is not None:
        return False
    same_tube = (
        select(Confirmation.id)
        .join(LabResult, LabResult.id == Confirmation.lab_result_id)
        .where(Confirmation.person_id == person_id, LabResult.tube_id == tube_id)
    )
    return ctx.session.scalar(same_tube) is None


# -- re-test sampling --------------------------------------------------------------------------------


def _scoped_retest(ctx: Ctx, retest_id: int) -> Retest:
    retest = ctx.session.scalar(in_scope(ctx, select(Retest).where(Retest.id == retest_id), Retest.jurisdiction_id))
    if retest is None:
        raise NotFound(f"retest {retest_id} not found")
    return retest


def sample_retest(ctx: Ctx, retest_id: int, barcode: str) -> Retest:
    """Take the single-tube re-test: a new single tube with one Sample (kind retest); retest_sampled."""
    require(ctx.actor, Permission.FOLLOW_UP)
    retest = _scoped_retest(ctx, retest_id)
    if retest.status != RetestStatus.OPEN:
        raise Conflict(f"retest {retest_id} is {retest.status}, not open")
    barcode = barcode.strip()
    if not barcode or len(barcode) > 40:
        raise FieldError("barcode", "must be 1 to 40 characters")
    if ctx.session.scalar(select(Tube.id).where(Tube.barcode == barcode)) is not None:
        raise Conflict(f"barcode: tube {barcode} is already in use")
    now = ctx.clock.now()
    tube = Tube(barcode=barcode, kind=TubeKind.SINGLE.value, capacity=1, campaign_id=retest.campaign_id, opened_at=now)
    tube.closed_at = now
    ctx.session.add(tube)
    ctx.session.flush()
    ctx.session.add(
        Sample(
            person_id=retest.person_id,
            tube_id=tube.id,
            campaign_id=retest.campaign_id,
            kind=SampleKind.RETEST.value,
            sampled_at=now,
            duplicate=False,
            retest_id=retest.id,
        )
    )
    retest.status = RetestStatus.SAMPLED.value
    retest.sampled_at = now
    ctx.session.flush()
    record(
        ctx,
        EventKind.RETEST_SAMPLED,
        person_id=retest.person_id,
        jurisdiction_id=retest.jurisdiction_id,
        subject_type="retest",
        subject_id=retest.id,
        refs={"tube": tube.id, "source_tube": retest.source_tube_id},
        payload={"barcode": barcode},
    )
    from bihuan.screening.service.results import on_tubes_opened  # a result may already be waiting

    on_tubes_opened(ctx, [tube])
    return retest


# -- deciding a confirmation -------------------------------------------------------------------------


def _first_positive_sampling(ctx: Ctx, person_id: int, lab_result_id: int) -> datetime:
    positive_tube = exists().where(LabResult.tube_id == Sample.tube_id, LabResult.result == TestResult.POSITIVE.value)
    first = ctx.session.scalar(select(func.min(Sample.sampled_at)).where(Sample.person_id == person_id, positive_tube))
    if first is not None:
        return first if first.tzinfo else first.replace(tzinfo=UTC)
    tube_id = ctx.session.scalar(select(LabResult.tube_id).where(LabResult.id == lab_result_id))
    fallback = ctx.session.scalar(select(func.min(Sample.sampled_at)).where(Sample.tube_id == tube_id))
    return fallback or ctx.clock.now()


def decide_confirmation(
    ctx: Ctx, confirmation_id: int, outcome: ConfirmationStatus | str, note: str = "", *, timezone: str | tzinfo
) -> Confirmation:
    """Confirmed or asymptomatic: a Case and case_confirmed; not confirmed: case_not_confirmed."""
    require(ctx.actor, Permission.DECIDE_CASES)
    try:
        outcome = ConfirmationStatus(outcome)
    except ValueError:
        raise FieldError("outcome", "must be confirmed, asymptomatic or not_confirmed") from None
    if outcome is ConfirmationStatus.PENDING:
        raise FieldError("outcome", "must be confirmed, asymptomatic or not_confirmed")
    confirmation = ctx.session.get(Confirmation, confirmation_id)
    visible = in_scope(ctx, select(Person.jurisdiction_id), Person.jurisdiction_id)
    jurisdiction_id = None
    if confirmation is not None:
        jurisdiction_id = ctx.session.scalar(visible.where(Person.id == confirmation.person_id))
    if confirmation is None or jurisdiction_id is None:
        raise NotFound(f"confirmation {confirmation_id} not found")
    if confirmation.status != ConfirmationStatus.PENDING:
        raise Conflict(f"confirmation {confirmation_id} is already decided ({confirmation.status})")
    now = ctx.clock.now()
    confirmation.status = outcome.value
    confirmation.decided_at = now
    confirmation.decided_by = ctx.actor.user_id
    confirmation.note = note[:500]
    refs = {"confirmation": confirmation.id, "lab_result": confirmation.lab_result_id}
    if outcome not in CASE_OUTCOMES:
        ctx.session.flush()
        record(
            ctx,
            EventKind.CASE_NOT_CONFIRMED,
            person_id=confirmation.person_id,
            jurisdiction_id=jurisdiction_id,
            subject_type="confirmation",
            subject_id=confirmation.id,
            refs=refs,
            payload={"note": confirmation.note},
        )
        return confirmation
    if ctx.session.scalar(select(Case.id).where(Case.person_id == confirmation.person_id)) is not None:
        raise Conflict(f"person {confirmation.person_id} is already a case")
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else timezone
    first = _first_positive_sampling(ctx, confirmation.person_id, confirmation.lab_result_id).astimezone(zone).date()
    case = Case(
        person_id=confirmation.person_id,
        classification=outcome.value,
        confirmation_id=confirmation.id,
        confirmed_at=now,
        first_positive_sampling_date=first,
        jurisdiction_id=jurisdiction_id,
    )
    ctx.session.add(case)
    ctx.session.flush()
    record(
        ctx,
        EventKind.CASE_CONFIRMED,
        person_id=confirmation.person_id,
        jurisdiction_id=jurisdiction_id,
        subject_type="case",
        subject_id=case.id,
        refs=refs,
        payload={"classification": outcome.value, "first_positive_sampling_date": first.isoformat()},
    )
    return confirmation


# -- lists -------------------------------------------------------------------------------------------


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 2)


def _count(ctx: Ctx, stmt: Select[Any]) -> int:
    return ctx.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def list_retests(
    ctx: Ctx,
    page: Page,
    *,
    status: RetestStatus | None = None,
    target_hours: float | None = None,
    only_id: int | None = None,
) -> tuple[list[RetestPublic], int]:
    """Re-test tasks in the actor's subtree, oldest first (the longest-waiting on top)."""
    require(ctx.actor, Permission.FOLLOW_UP)
    stmt = in_scope(ctx, select(Retest), Retest.jurisdiction_id)
    if status is not None:
        stmt = stmt.where(Retest.status == status.value)
    if only_id is not None:
        stmt = stmt.where(Retest.id == only_id)
    count = _count(ctx, stmt)
    rows = ctx.session.execute(
        stmt.add_columns(Person.name, Person.resident_id, Jurisdiction.name, Address.text, Tube.barcode)
        .join(Person, Person.id == Retest.person_id)
        .join(Jurisdiction, Jurisdiction.id == Retest.jurisdiction_id)
        .join(Tube, Tube.id == Retest.source_tube_id)
        .outerjoin(Address, Address.id == Retest.address_id)
        .order_by(Retest.created_at, Retest.id)
        .limit(page.page_size)
        .offset(page.offset)
    )
    now = ctx.clock.now()
    data = []
    for retest, name, resident_id, place, address, barcode in rows:
        age = _hours(retest.created_at, retest.resulted_at or now) or 0.0
        data.append(
            RetestPublic(
                id=retest.id,
                person_id=retest.person_id,
                person_name=name,
                resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
                jurisdiction_id=retest.jurisdiction_id,
                jurisdiction_name=place,
                address_text=address,
                source_tube_barcode=barcode,
                status=RetestStatus(retest.status),
                result=retest.result,
                created_at=retest.created_at,
                sampled_at=retest.sampled_at,
                resulted_at=retest.resulted_at,
                age_hours=age,
                hours_to_sample=_hours(retest.created_at, retest.sampled_at),
                hours_to_result=_hours(retest.sampled_at, retest.resulted_at) if retest.sampled_at else None,
                overdue=target_hours is not None and retest.resulted_at is None and age > target_hours,
            )
        )
    return data, count


def list_confirmations(
    ctx: Ctx,
    page: Page,
    *,
    status: ConfirmationStatus | None = None,
    target_hours: float | None = None,
    only_id: int | None = None,
) -> tuple[list[ConfirmationPublic], int]:
    """Confirmations of people in the actor's subtree, oldest first."""
    require(ctx.actor, Permission.FOLLOW_UP)
    stmt = in_scope(ctx, select(Confirmation).join(Person, Person.id == Confirmation.person_id), Person.jurisdiction_id)
    if status is not None:
        stmt = stmt.where(Confirmation.status == status.value)
    if only_id is not None:
        stmt = stmt.where(Confirmation.id == only_id)
    count = _count(ctx, stmt)
    rows = ctx.session.execute(
        stmt.add_columns(Person.name, Person.resident_id, Jurisdiction.name, LabResult.tube_barcode)
        .add_columns(LabResult.ct_values, Case.id)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .join(LabResult, LabResult.id == Confirmation.lab_result_id)
        .outerjoin(Case, Case.confirmation_id == Confirmation.id)
        .order_by(Confirmation.opened_at, Confirmation.id)
        .limit(page.page_size)
        .offset(page.offset)
    )
    now = ctx.clock.now()
    data = []
    for confirmation, name, resident_id, place, barcode, ct_values, case_id in rows:
        age = _hours(confirmation.opened_at, confirmation.decided_at or now) or 0.0
        data.append(
            ConfirmationPublic(
                id=confirmation.id,
                person_id=confirmation.person_id,
                person_name=name,
                resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
                jurisdiction_name=place,
                lab_result_id=confirmation.lab_result_id,
                tube_barcode=barcode,
                ct_values=ct_values or {},
                status=ConfirmationStatus(confirmation.status),
                opened_at=confirmation.opened_at,
                decided_at=confirmation.decided_at,
                note=confirmation.note,
                case_id=case_id,
                age_hours=age,
                overdue=target_hours is not None and confirmation.decided_at is None and age > target_hours,
            )
        )
    return data, count


def get_confirmation(ctx: Ctx, confirmation_id: int, *, target_hours: float | None = None) -> ConfirmationPublic:
    """One confirmation as the list shows it (scoped)."""
    found, _ = list_confirmations(ctx, Page(page=1, page_size=1), only_id=confirmation_id, target_hours=target_hours)
    if not found:
        raise NotFound(f"confirmation {confirmation_id} not found")
    return found[0]


def get_retest(ctx: Ctx, retest_id: int, *, target_hours: float | None = None) -> RetestPublic:
    """One re-test task as the list shows it (scoped)."""
    found, _ = list_retests(ctx, Page(page=1, page_size=1), only_id=retest_id, target_hours=target_hours)
    if not found:
        raise NotFound(f"retest {retest_id} not found")
    return found[0]
