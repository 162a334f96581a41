"""Health monitoring at sites (体温监测): temperatures and symptoms entered for a floor at once, its sheet.

A round of checks comes as one request: every reading is read and matched to an open stay at the
site before any is stored, and one bad reading refuses the whole request naming it (nothing is
half-written). Storing costs a fixed number of statements however many readings (a 2,000-room
site's round is one request): the site's open stays in one query, readings already stored in
another, then one bulk insert each of readings, alerts and events. The same reading sent again
(same stay, same ``measured_at``) is recognised and not stored twice.

A fever (at or above the profile's ``sites.fever_from_celsius``) or any symptom raises an alert, at
most one open alert of a kind per stay; checks not taken are `health_alerts`' concern. The numbers
are the profile's; local days are those of the zone the caller passes (``settings.timezone``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import core_table, serialise
from bihuan.core.errors import FieldError, NotFound
from bihuan.core.events import EventRecord, make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.isolation._temperature import TemperatureRefused, read_symptoms, read_temperature
from bihuan.isolation.health_schemas import (
    AlertKind,
    ConversionPublic,
    FloorSheetPublic,
    ReadingPublic,
    SheetPerson,
    SheetRoom,
    TemperatureIn,
    TemperaturesRecorded,
)
from bihuan.isolation.models import HealthAlert, IsolationStay, SiteFloor, SiteRoom, TemperatureReading
from bihuan.isolation.service.sites import get_site
from bihuan.people.service import in_scope
from bihuan.protocol import ProtocolProfile, SiteRules, TransferCategory

CLOCK_SKEW = timedelta(minutes=5)  # a device's clock a little ahead is not a reading from the future
Zone = tzinfo | str
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class OpenStay:
    id: int
    person_id: int
    jurisdiction_id: int
    room_id: int | None
    started_at: datetime


@dataclass(frozen=True, slots=True)
class _Value:
    """A reading as read, before it is matched to a stay."""

    index: int
    measured_at: datetime
    celsius: float
    entered: str
    symptoms: list[str]
    message: str | None


def record_temperatures(
    ctx: Ctx, profile: ProtocolProfile, site_id: int, readings: Sequence[TemperatureIn], *, zone: Zone | None = None
) -> TemperaturesRecorded:
    """Store a round of readings at a site (a floor or all of it), refusing all of them if one is bad.

    Naive ``measured_at`` times are local times of ``zone`` (refused without one); a missing one is now.
    """
    require(ctx.actor, Permission.MANAGE_SITES)
    get_site(ctx, site_id)
    now = ctx.clock.now()
    values = _each(list(enumerate(readings)), lambda item: _read(*item, profile.sites, now, zone))
    serialise(ctx.session, f"health:{site_id}")
    stays = open_stays(ctx, site_id)
    by_person = {stay.person_id: stay for stay in stays.values()}
    matched = _each(values, lambda v: (v, _match(v, readings[v.index], stays, by_person, site_id)))
    stored = _stored(ctx, site_id, [v.measured_at for v in values])
    new = _new_readings(matched, stored)
    rows = [_reading_row(ctx, site_id, v, stay, profile.sites, now) for v, stay in new]
    alerts = _alerts(ctx, site_id, rows, [stay for _, stay in new], profile.sites, now)
    if rows:
        ctx.session.execute(insert(core_table(TemperatureReading)), rows)
    if alerts:
        ctx.session.execute(insert(core_table(HealthAlert)), [row for row, _ in alerts])
    events = [_recorded(ctx, site_id, row, stay) for row, (_, stay) in zip(rows, new, strict=True)]
    record_many(ctx, events + [alert_raised(ctx, row, stay) for row, stay in alerts])
    conversions = [
        ConversionPublic(index=v.index, field=f"readings[{v.index}].value", message=v.message)
        for v in values
        if v.message
    ]
    return TemperaturesRecorded(
        stored=len(rows), unchanged=len(values) - len(rows), alerts_raised=len(alerts), conversions=conversions
    )


def _each(items: Sequence[T], check: Callable[[T], R]) -> list[R]:
    """Check every item; if any is refused, refuse them all with the first reason (and how many more)."""
    done, refused = [], []
    for item in items:
        try:
            done.append(check(item))
        except FieldError as error:
            refused.append(error)
    if refused:
        others = len(refused) - 1
        more = f" ({others} other reading{'s' if others > 1 else ''} refused too)" if others else ""
        raise FieldError(refused[0].field, refused[0].reason + more)
    return done


def _read(index: int, reading: TemperatureIn, rules: SiteRules, now: datetime, zone: Zone | None) -> _Value:
    field = f"readings[{index}]"
    try:
        celsius, message = read_temperature(reading.value, reading.unit, rules)
    except TemperatureRefused as refused:
        raise FieldError(f"{field}.value", refused.reason) from None
    try:
        symptoms = read_symptoms(reading.symptoms)
    except TemperatureRefused as refused:
        raise FieldError(f"{field}.symptoms[{refused.index}]", refused.reason) from None
    measured_at = _measured_at(field, reading.measured_at, now, zone)
    typed = str(reading.value) if isinstance(reading.value, str) else f"{reading.value:g}"
    entered = f"{typed.strip()} {reading.unit.value}" if reading.unit else typed.strip()
    return _Value(index, measured_at, celsius, entered[:16], symptoms, message)


def _measured_at(field: str, moment: datetime | None, now: datetime, zone: Zone | None) -> datetime:
    if moment is None:
        return now
    if moment.tzinfo is None:
        if zone is None:
            raise FieldError(f"{field}.measured_at", "give the time with its offset, e.g. 2021-12-10T08:00+08:00")
        moment = moment.replace(tzinfo=as_zone(zone))
    moment = moment.astimezone(UTC)
    if moment > now + CLOCK_SKEW:
        raise FieldError(f"{field}.measured_at", f"{moment.isoformat()} is in the future")
    return moment


def open_stays(ctx: Ctx, site_id: int) -> dict[int, OpenStay]:
    """The site's open stays by id (one query, whatever the number of readings)."""
    stmt = select(
        IsolationStay.id,
        IsolationStay.person_id,
        IsolationStay.jurisdiction_id,
        IsolationStay.room_id,
        IsolationStay.started_at,
    ).where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
    return {int(row[0]): OpenStay(*row) for row in ctx.session.execute(stmt)}


def _match(
    value: _Value, reading: TemperatureIn, stays: dict[int, OpenStay], by_person: dict[int, OpenStay], site_id: int
) -> OpenStay:
    field = f"readings[{value.index}]"
    if reading.stay_id is not None:
        stay = stays.get(reading.stay_id)
        if stay is None:
            raise FieldError(f"{field}.stay_id", f"stay {reading.stay_id} is not an open stay at site {site_id}")
        if reading.person_id is not None and reading.person_id != stay.person_id:
            raise FieldError(f"{field}.person_id", f"stay {stay.id} is not person {reading.person_id}'s")
    else:
        found = by_person.get(reading.person_id or 0)
        if found is None:
            raise FieldError(f"{field}.person_id", f"person {reading.person_id} is not in a stay at site {site_id}")
        stay = found
    if value.measured_at < stay.started_at:
        raise FieldError(f"{field}.measured_at", f"measured before the stay began ({stay.started_at.isoformat()})")
    return stay


def _stored(ctx: Ctx, site_id: int, times: list[datetime]) -> dict[tuple[int, datetime], tuple[float, list[str]]]:
    """Readings already stored at the site between the request's first and last times (one query)."""
    if not times:
        return {}
    stmt = select(
        TemperatureReading.stay_id,
        TemperatureReading.measured_at,
        TemperatureReading.celsius,
        TemperatureReading.symptoms,
    ).where(
        TemperatureReading.site_id == site_id,
        TemperatureReading.measured_at >= min(times),
        TemperatureReading.measured_at <= max(times),
    )
    return {(int(s), m): (float(c), list(sy)) for s, m, c, sy in ctx.session.execute(stmt)}


def _new_readings(
    matched: list[tuple[_Value, OpenStay]], stored: dict[tuple[int, datetime], tuple[float, list[str]]]
) -> list[tuple[_Value, OpenStay]]:
    """The readings not stored yet; the same reading again is dropped, a different one for that time refused."""
    seen = dict(stored)
    new = []
    for value, stay in matched:
        key, reading = (stay.id, value.measured_at), (value.celsius, value.symptoms)
        if key not in seen:
            seen[key] = reading
            new.append((value, stay))
        elif abs(seen[key][0] - value.celsius) > 1e-6 or seen[key][1] != value.symptoms:
            raise FieldError(
                f"readings[{value.index}].value",
                f"stay {stay.id} already has {seen[key][0]:.1f} °C at {value.measured_at.isoformat()}: "
                "a different reading for the same time is not taken",
            )
    return new


def _reading_row(
    ctx: Ctx, site_id: int, value: _Value, stay: OpenStay, rules: SiteRules, now: datetime
) -> dict[str, Any]:
    return {
        "stay_id": stay.id,
        "person_id": stay.person_id,
        "site_id": site_id,
        "measured_at": value.measured_at,
        "celsius": value.celsius,
        "entered": value.entered,
        "symptoms": value.symptoms,
        "fever": value.celsius >= rules.fever_from_celsius,
        "entered_by": ctx.actor.username[:64],
        "recorded_at": now,
    }


def _alerts(
    ctx: Ctx, site_id: int, rows: list[dict[str, Any]], stays: list[OpenStay], rules: SiteRules, now: datetime
) -> list[tuple[dict[str, Any], OpenStay]]:
    """An alert for each fever or symptom, unless the stay has an open alert of that kind already."""
    wanted = [(row, stay) for row, stay in zip(rows, stays, strict=True) if row["fever"] or row["symptoms"]]
    if not wanted:
        return []
    stmt = select(HealthAlert.stay_id, HealthAlert.kind).where(
        HealthAlert.site_id == site_id,
        HealthAlert.resolved_at.is_(None),
        HealthAlert.kind.in_([AlertKind.FEVER.value, AlertKind.SYMPTOMS.value]),
    )
    open_ = {(int(s), str(k)) for s, k in ctx.session.execute(stmt)}
    alerts = []
    for row, stay in wanted:
        kind = AlertKind.FEVER if row["fever"] else AlertKind.SYMPTOMS
        if (stay.id, kind.value) in open_:
            continue
        open_.add((stay.id, kind.value))
        detail = ", ".join(row["symptoms"])
        if row["fever"]:
            fever = f"{row['celsius']:.1f} °C (fever from {rules.fever_from_celsius:g} °C)"
            detail = f"{fever}; {detail}" if detail else fever
        alerts.append((alert_row(stay, site_id, kind, detail, now), stay))
    return alerts


def alert_row(
    stay: OpenStay, site_id: int, kind: AlertKind, detail: str, now: datetime, *, day: date | None = None
) -> dict[str, Any]:
    return {
        "stay_id": stay.id,
        "person_id": stay.person_id,
        "site_id": site_id,
        "kind": kind.value,
        "day": day,
        "detail": detail[:255],
        "raised_at": now,
        "resolved_at": None,
        "resolved_by": "",
    }


def _refs(site_id: int, stay: OpenStay) -> dict[str, int]:
    return {"site": site_id, **({"room": stay.room_id} if stay.room_id else {})}


def _recorded(ctx: Ctx, site_id: int, row: dict[str, Any], stay: OpenStay) -> EventRecord:
    event = make_event(
        ctx,
        EventKind.HEALTH_CHECK_RECORDED,
        person_id=stay.person_id,
        jurisdiction_id=stay.jurisdiction_id,
        subject_type="stay",
        subject_id=stay.id,
        refs=_refs(site_id, stay),
        payload={
            "measured_at": row["measured_at"].isoformat(),
            "celsius": row["celsius"],
            "entered": row["entered"],
            "fever": row["fever"],
            "symptoms": row["symptoms"],
        },
    )
    return replace(event, occurred_at=row["measured_at"])


def alert_raised(ctx: Ctx, row: dict[str, Any], stay: OpenStay) -> EventRecord:
    return make_event(
        ctx,
        EventKind.HEALTH_ALERT_RAISED,
        person_id=stay.person_id,
        jurisdiction_id=stay.jurisdiction_id,
        subject_type="stay",
        subject_id=stay.id,
        refs=_refs(row["site_id"], stay),
        payload={"kind": row["kind"], "detail": row["detail"]},
    )


def as_zone(zone: Zone) -> tzinfo:
    return ZoneInfo(zone) if isinstance(zone, str) else zone


def day_bounds(day: date, zone: Zone) -> tuple[datetime, datetime]:
    """A local day as aware UTC times, its start included and its end not."""
    local = as_zone(zone)
    start = datetime.combine(day, time(), tzinfo=local).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=local).astimezone(UTC)


def floor_sheet(ctx: Ctx, site_id: int, floor_id: int, day: date, zone: Zone) -> FloorSheetPublic:
    """A floor's occupied rooms, each with its people, their readings of the local day and open alerts
    (four queries): the sheet a round of checks is entered from."""
    require(ctx.actor, Permission.READ_TRANSFER)
    floor = ctx.session.get(SiteFloor, floor_id)
    if floor is None or floor.site_id != site_id:
        raise NotFound(f"floor {floor_id} not found at site {site_id}")
    start, end = day_bounds(day, zone)
    on_floor = (SiteRoom.floor_id == floor_id, IsolationStay.open_person_id.is_not(None))
    people = ctx.session.execute(
        in_scope(
            ctx,
            select(IsolationStay.id, IsolationStay.person_id, IsolationStay.carer_for, SiteRoom.id, SiteRoom.number)
            .join(SiteRoom, SiteRoom.id == IsolationStay.room_id)
            .where(*on_floor),
            IsolationStay.jurisdiction_id,
        ).order_by(SiteRoom.number, IsolationStay.id)
    ).all()
    readings: dict[int, list[ReadingPublic]] = {}
    for reading in ctx.session.scalars(
        in_scope(
            ctx,
            select(TemperatureReading)
            .join(IsolationStay, IsolationStay.id == TemperatureReading.stay_id)
            .join(SiteRoom, SiteRoom.id == IsolationStay.room_id)
            .where(*on_floor, TemperatureReading.measured_at >= start, TemperatureReading.measured_at < end),
            IsolationStay.jurisdiction_id,
        ).order_by(TemperatureReading.measured_at, TemperatureReading.id)
    ):
        readings.setdefault(reading.stay_id, []).append(ReadingPublic.model_validate(reading))
    alerts: dict[int, list[AlertKind]] = {}
    for stay_id, kind in ctx.session.execute(
        in_scope(
            ctx,
            select(HealthAlert.stay_id, HealthAlert.kind)
            .join(IsolationStay, IsolationStay.id == HealthAlert.stay_id)
            .join(SiteRoom, SiteRoom.id == IsolationStay.room_id)
            .where(*on_floor, HealthAlert.resolved_at.is_(None)),
            IsolationStay.jurisdiction_id,
        ).order_by(HealthAlert.id)
    ):
        alerts.setdefault(int(stay_id), []).append(AlertKind(kind))
    rooms: dict[int, SheetRoom] = {}
    for stay_id, person_id, carer_for, room_id, number in people:
        room = rooms.setdefault(room_id, SheetRoom(room_id=room_id, number=number, people=[]))
        room.people.append(
            SheetPerson(
                stay_id=stay_id,
                person_id=person_id,
                carer_for=carer_for,
                readings=readings.get(stay_id, []),
                open_alerts=alerts.get(stay_id, []),
            )
        )
    return FloorSheetPublic(
        floor_id=floor.id,
        building=floor.building,
        number=floor.number,
        category=TransferCategory(floor.category),
        day=day,
        rooms=list(rooms.values()),
    )
