"""Health alerts at sites (健康预警): checks not taken, the alerts list, an alert seen to.

Readings raise fever and symptom alerts as they are stored (`health`); here a day's checks not taken
raise ``missing`` alerts, once per person and local day, and staff resolve alerts with a note. The
number of checks a day is the profile's ``sites.temperature_checks_per_day``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import core_table, serialise
from bihuan.core.errors import NotFound
from bihuan.core.events import make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.isolation.health_schemas import AlertKind, HealthAlertPublic, MissingChecksPublic
from bihuan.isolation.models import HealthAlert, IsolationStay, SiteRoom, TemperatureReading
from bihuan.isolation.service.health import OpenStay, Zone, alert_raised, alert_row, day_bounds, open_stays
from bihuan.isolation.service.sites import get_site
from bihuan.people.service import in_scope
from bihuan.protocol import ProtocolProfile


@dataclass(frozen=True, slots=True)
class MissingCheck:
    """A person at a site with fewer temperature checks on a day than were due by then."""

    stay_id: int
    person_id: int
    jurisdiction_id: int
    room_id: int | None
    taken: int
    due: int


def missing_measurements(
    ctx: Ctx, profile: ProtocolProfile, site_id: int, day: date, now: datetime, zone: Zone
) -> list[MissingCheck]:
    """People in open stays at the site with fewer readings on a local day than checks due by `now`.

    The day is cut into ``sites.temperature_checks_per_day`` equal parts (two checks: 00:00–12:00 and
    12:00–24:00); a check is due for each part that has ended by `now` and that the person spent wholly
    at the site (someone arriving at 08:00 owes no morning check that day). A person with fewer
    readings that day than checks due is missing some; by the end of the day every part is due.
    """
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    start, end = day_bounds(day, zone)
    checks = profile.sites.temperature_checks_per_day
    part = (end - start) / checks
    parts = [(start + k * part, start + (k + 1) * part) for k in range(checks)]
    stays = [s for s in open_stays(ctx, site_id).values() if s.started_at < end]
    counted = select(TemperatureReading.stay_id, func.count()).where(
        TemperatureReading.site_id == site_id,
        TemperatureReading.measured_at >= start,
        TemperatureReading.measured_at < end,
    )
    taken = {int(s): int(n) for s, n in ctx.session.execute(counted.group_by(TemperatureReading.stay_id))}
    missing = []
    for stay in sorted(stays, key=lambda s: s.id):
        due = sum(1 for begins, ends in parts if begins >= stay.started_at and ends <= now)
        if taken.get(stay.id, 0) < due:
            missing.append(
                MissingCheck(stay.id, stay.person_id, stay.jurisdiction_id, stay.room_id, taken.get(stay.id, 0), due)
            )
    return missing


def raise_missing_alerts(
    ctx: Ctx, profile: ProtocolProfile, site_id: int, day: date, zone: Zone, *, now: datetime | None = None
) -> MissingChecksPublic:
    """A ``missing`` alert for each person missing checks on the day, once per person and day (even
    after it is resolved); returns that day's missing alerts, with how many were raised now."""
    require(ctx.actor, Permission.MANAGE_SITES)
    serialise(ctx.session, f"health:{site_id}")
    moment = now or ctx.clock.now()
    missing = missing_measurements(ctx, profile, site_id, day, moment, zone)
    of_the_day = (HealthAlert.kind == AlertKind.MISSING.value, HealthAlert.day == day)
    have = set(ctx.session.scalars(select(HealthAlert.stay_id).where(HealthAlert.site_id == site_id, *of_the_day)))
    raised = []
    for m in missing:
        if m.stay_id not in have:
            stay = OpenStay(m.stay_id, m.person_id, m.jurisdiction_id, m.room_id, started_at=moment)  # (unused)
            detail = f"{day.isoformat()}: {m.taken} of {m.due} temperature checks taken"
            raised.append((alert_row(stay, site_id, AlertKind.MISSING, detail, ctx.clock.now(), day=day), stay))
    if raised:
        ctx.session.execute(insert(core_table(HealthAlert)), [row for row, _ in raised])
        record_many(ctx, [alert_raised(ctx, row, stay) for row, stay in raised])
    alerts = _alerts_where(ctx, site_id, *of_the_day)
    return MissingChecksPublic(day=day, raised=len(raised), data=alerts, count=len(alerts))


def _alerts_where(ctx: Ctx, site_id: int, *filters: Any) -> list[HealthAlertPublic]:
    stmt = (
        select(HealthAlert, IsolationStay.room_id, SiteRoom.number)
        .join(IsolationStay, IsolationStay.id == HealthAlert.stay_id)
        .outerjoin(SiteRoom, SiteRoom.id == IsolationStay.room_id)
        .where(HealthAlert.site_id == site_id, *filters)
        .order_by(HealthAlert.raised_at, HealthAlert.id)
    )
    stmt = in_scope(ctx, stmt, IsolationStay.jurisdiction_id)  # people of the actor's jurisdiction only
    return [_alert_public(alert, room_id, number) for alert, room_id, number in ctx.session.execute(stmt)]


def _alert_public(alert: HealthAlert, room_id: int | None, room_number: str | None) -> HealthAlertPublic:
    return HealthAlertPublic(
        id=alert.id,
        stay_id=alert.stay_id,
        person_id=alert.person_id,
        site_id=alert.site_id,
        room_id=room_id,
        room_number=room_number,
        kind=AlertKind(alert.kind),
        detail=alert.detail,
        raised_at=alert.raised_at,
        resolved_at=alert.resolved_at,
        resolved_by=alert.resolved_by,
    )


def list_alerts(ctx: Ctx, site_id: int, open_only: bool = True) -> list[HealthAlertPublic]:
    """A site's health alerts, oldest first, with the person's room: the open ones unless told otherwise."""
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    return _alerts_where(ctx, site_id, *([HealthAlert.resolved_at.is_(None)] if open_only else []))


def resolve_alert(ctx: Ctx, alert_id: int, note: str, *, site_id: int | None = None) -> HealthAlertPublic:
    """Mark an alert seen to (with a note, kept on its event); resolving it again changes nothing."""
    require(ctx.actor, Permission.MANAGE_SITES)
    alert = ctx.session.get(HealthAlert, alert_id)
    if alert is None or (site_id is not None and alert.site_id != site_id):
        raise NotFound(f"alert {alert_id} not found")
    stay = ctx.session.get(IsolationStay, alert.stay_id)
    assert stay is not None
    visible = in_scope(ctx, select(IsolationStay.id).where(IsolationStay.id == stay.id), IsolationStay.jurisdiction_id)
    if ctx.session.scalar(visible) is None:
        raise NotFound(f"alert {alert_id} not found")
    if alert.resolved_at is None:
        alert.resolved_at, alert.resolved_by = ctx.clock.now(), ctx.actor.username[:64]
        record_many(
            ctx,
            [
                make_event(
                    ctx,
                    EventKind.HEALTH_ALERT_RESOLVED,
                    person_id=alert.person_id,
                    jurisdiction_id=stay.jurisdiction_id,
                    subject_type="stay",
                    subject_id=alert.stay_id,
                    refs={"site": alert.site_id, "alert": alert.id},
                    payload={"kind": alert.kind, "note": note},
                )
            ],
        )
    room = ctx.session.get(SiteRoom, stay.room_id) if stay.room_id is not None else None
    return _alert_public(alert, stay.room_id, room.number if room else None)
