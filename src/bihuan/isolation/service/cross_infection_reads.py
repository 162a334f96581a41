"""Reading and closing cross-infection investigations (交叉感染调查: 查看、结案).

Scope: an investigation is visible to a user whose jurisdiction holds the case's stay or a flagged
neighbour's stay; of its neighbours they see only their own people (IDs masked), and the case's name
only when the case's stay is theirs. Counts by relation count the neighbours they see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.errors import Conflict, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_resident_id
from bihuan.isolation.choices import CrossInfectionStatus, SiteTestReason, SiteTestStatus
from bihuan.isolation.cross_infection_schemas import (
    CrossInfectionDetail,
    CrossInfectionPublic,
    ExtraTestPublic,
    NeighbourPublic,
)
from bihuan.isolation.models import (
    CrossInfection,
    CrossInfectionNeighbour,
    IsolationSite,
    IsolationStay,
    SiteFloor,
    SiteRoom,
    SiteTest,
)
from bihuan.isolation.service.cross_infection import CLOSEST_FIRST, SUBJECT
from bihuan.people.models import Person
from bihuan.people.service import in_scope
from bihuan.protocol import NeighbourRule, ProtocolProfile, QuarantinePhase, TransferCategory


def list_investigations(
    ctx: Ctx, site_id: int | None = None, status: CrossInfectionStatus | None = None
) -> list[CrossInfectionPublic]:
    """The investigations you may see, newest first (three queries)."""
    require(ctx.actor, Permission.READ_TRANSFER)
    stmt = _summary_query(ctx)
    if site_id is not None:
        stmt = stmt.where(CrossInfection.site_id == site_id)
    if status is not None:
        stmt = stmt.where(CrossInfection.status == status.value)
    rows = list(ctx.session.execute(stmt.order_by(CrossInfection.opened_at.desc(), CrossInfection.id.desc())))
    return _summaries(ctx, rows)


def get_investigation(
    ctx: Ctx, profile: ProtocolProfile, investigation_id: int, zone: ZoneInfo
) -> CrossInfectionDetail:
    """An investigation with the neighbours of your jurisdiction, closest first, and their extra tests."""
    require(ctx.actor, Permission.READ_TRANSFER)
    row = ctx.session.execute(_summary_query(ctx).where(CrossInfection.id == investigation_id)).first()
    if row is None:
        raise NotFound(f"cross-infection investigation {investigation_id} not found")
    [summary] = _summaries(ctx, [row])
    opened_on = summary.opened_at.astimezone(zone).date()
    days = {opened_on + timedelta(days=d) for d in profile.sites.cross_infection.extra_test_days}
    return CrossInfectionDetail(**summary.model_dump(), neighbours=_neighbour_rows(ctx, investigation_id, days))


def close_investigation(
    ctx: Ctx, profile: ProtocolProfile, investigation_id: int, note: str, zone: ZoneInfo
) -> CrossInfectionDetail:
    """Close an investigation with a note (结案); one already closed is refused."""
    require(ctx.actor, Permission.MANAGE_SITES)
    stmt = _visible(ctx, select(CrossInfection).where(CrossInfection.id == investigation_id))
    investigation = ctx.session.scalar(stmt.with_for_update())
    if investigation is None:
        raise NotFound(f"cross-infection investigation {investigation_id} not found")
    if investigation.status == CrossInfectionStatus.CLOSED:
        raise Conflict(f"cross-infection investigation {investigation_id} is closed already")
    investigation.status = CrossInfectionStatus.CLOSED.value
    investigation.closed_at, investigation.note = ctx.clock.now(), note
    ctx.session.flush()
    record(
        ctx,
        EventKind.CROSS_INFECTION_CLOSED,
        jurisdiction_id=ctx.actor.jurisdiction_id,
        subject_type=SUBJECT,
        subject_id=investigation.id,
        refs={"site": investigation.site_id, "case": investigation.case_id, "investigation": investigation.id},
        payload={"note": note},
    )
    return get_investigation(ctx, profile, investigation_id, zone)


def _stays_in_scope(ctx: Ctx) -> Select[tuple[int]]:
    return in_scope(ctx, select(IsolationStay.id), IsolationStay.jurisdiction_id)


def _visible(ctx: Ctx, stmt: Any) -> Any:
    """Investigations whose case's stay or a flagged neighbour's stay lies in the actor's jurisdiction."""
    if not ctx.actor.jurisdiction_path:
        return stmt
    stays = _stays_in_scope(ctx)
    flagged = select(CrossInfectionNeighbour.investigation_id).where(CrossInfectionNeighbour.stay_id.in_(stays))
    return stmt.where(or_(CrossInfection.stay_id.in_(stays), CrossInfection.id.in_(flagged)))


def _summary_query(ctx: Ctx) -> Any:
    stmt = (
        select(CrossInfection, IsolationSite.name, SiteFloor.building, SiteFloor.number, SiteRoom.number)
        .join(IsolationSite, IsolationSite.id == CrossInfection.site_id)
        .outerjoin(SiteRoom, SiteRoom.id == CrossInfection.room_id)
        .outerjoin(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
    )
    return _visible(ctx, stmt)


def _summaries(ctx: Ctx, rows: Sequence[Any]) -> list[CrossInfectionPublic]:
    ids = [row[0].id for row in rows]
    counts: dict[int, dict[str, int]] = {}
    cases: dict[int, str] = {}
    for chunk in id_chunks(ids):
        stmt = (
            select(CrossInfectionNeighbour.investigation_id, CrossInfectionNeighbour.relation, func.count())
            .where(
                CrossInfectionNeighbour.investigation_id.in_(chunk),
                CrossInfectionNeighbour.stay_id.in_(_stays_in_scope(ctx)),
            )
            .group_by(CrossInfectionNeighbour.investigation_id, CrossInfectionNeighbour.relation)
        )
        for investigation_id, relation, n in ctx.session.execute(stmt):
            counts.setdefault(int(investigation_id), {})[str(relation)] = int(n)
        case_stmt = (
            select(CrossInfection.id, Person.name)
            .join(IsolationStay, IsolationStay.id == CrossInfection.stay_id)
            .join(Person, Person.id == IsolationStay.person_id)
            .where(CrossInfection.id.in_(chunk))
        )
        cases.update(
            (int(i), str(name))
            for i, name in ctx.session.execute(in_scope(ctx, case_stmt, IsolationStay.jurisdiction_id))
        )
    return [_summary(row, counts.get(row[0].id, {}), cases) for row in rows]


def _summary(row: Any, counts: dict[str, int], cases: dict[int, str]) -> CrossInfectionPublic:
    investigation, site_name, building, floor, room = row
    visible = investigation.id in cases
    return CrossInfectionPublic(
        id=investigation.id,
        site_id=investigation.site_id,
        site_name=site_name,
        case_id=investigation.case_id if visible else None,
        case_person_id=investigation.case_person_id if visible else None,
        case_name=cases.get(investigation.id),
        room=_room_label(building, floor, room),
        exposure_on=investigation.exposure_on,
        status=CrossInfectionStatus(investigation.status),
        opened_at=investigation.opened_at,
        closed_at=investigation.closed_at,
        note=investigation.note,
        counts=counts,
    )


def _room_label(building: str | None, floor: int | None, room: str | None) -> str | None:
    return None if room is None else f"{building}-{floor}-{room}"


def _neighbour_rows(ctx: Ctx, investigation_id: int, days: set[date]) -> list[NeighbourPublic]:
    stmt = (
        select(
            CrossInfectionNeighbour,
            IsolationStay,
            Person.name,
            Person.resident_id,
            SiteFloor.building,
            SiteFloor.number,
            SiteRoom.number,
        )
        .join(IsolationStay, IsolationStay.id == CrossInfectionNeighbour.stay_id)
        .join(Person, Person.id == IsolationStay.person_id)
        .outerjoin(SiteRoom, SiteRoom.id == IsolationStay.room_id)
        .outerjoin(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
        .where(CrossInfectionNeighbour.investigation_id == investigation_id)
    )
    rows = list(ctx.session.execute(in_scope(ctx, stmt, IsolationStay.jurisdiction_id)))
    tests = _extra_tests(ctx, [row[1].id for row in rows], days)
    found = [_neighbour(row, tests.get(row[1].id, [])) for row in rows]
    return sorted(found, key=lambda n: (CLOSEST_FIRST.index(n.relation), n.room or "", n.stay_id))


def _extra_tests(ctx: Ctx, stay_ids: Sequence[int], days: set[date]) -> dict[int, list[ExtraTestPublic]]:
    found: dict[int, list[ExtraTestPublic]] = {}
    for chunk in id_chunks(stay_ids):
        stmt = (
            select(SiteTest)
            .where(
                SiteTest.stay_id.in_(chunk),
                SiteTest.reason == SiteTestReason.CROSS_INFECTION.value,
                SiteTest.due_on.in_(sorted(days)),
            )
            .order_by(SiteTest.due_on, SiteTest.id)
        )
        for test in ctx.session.scalars(stmt):
            found.setdefault(test.stay_id, []).append(
                ExtraTestPublic(id=test.id, due_on=test.due_on, status=SiteTestStatus(test.status), result=test.result)
            )
    return found


def _neighbour(row: Any, tests: list[ExtraTestPublic]) -> NeighbourPublic:
    neighbour, stay, name, resident_id, building, floor, room = row
    plan: dict[str, Any] = dict(stay.plan or {})
    ends = [date.fromisoformat(p["end"]) for p in plan.get("phases", []) if p.get("phase") == QuarantinePhase.CENTRAL]
    return NeighbourPublic(
        stay_id=stay.id,
        person_id=stay.person_id,
        person_name=name,
        resident_id_masked=mask_resident_id(resident_id) if resident_id else None,
        category=TransferCategory(stay.category),
        room=_room_label(building, floor, room),
        relation=NeighbourRule(neighbour.relation),
        clock_reset=neighbour.clock_reset,
        previous_last_exposure=neighbour.previous_last_exposure,
        last_exposure=stay.last_exposure,
        central_end=max(ends) if ends else None,
        tests=tests,
    )
