"""What the isolation pages show, shaped for the templates: rooms by floor, who is where, forms read back.

No rule lives here: temperatures are read by `_temperature` and stored by the health service, checks
by the checklist service, releases by the release service. This module only arranges their answers
(a floor's rooms as a grid, counts by site), reads the forms into the services' shapes, and words
the services' reasons in the page language. Its queries only read, cut to the user's jurisdiction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.support import Translations
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select

from bihuan.core.context import Ctx
from bihuan.core.resident_id import mask_resident_id
from bihuan.isolation import service as sites
from bihuan.isolation._page_wordings import describe
from bihuan.isolation._temperature import TemperatureRefused, read_symptoms, read_temperature
from bihuan.isolation.checklist_models import ChecklistTemplate
from bihuan.isolation.checklist_schemas import CheckIn, CheckStatus, DaySheet, SheetLine
from bihuan.isolation.choices import RoomStatus, SiteTestStatus
from bihuan.isolation.health_schemas import FloorSheetPublic, SheetPerson, TemperatureIn
from bihuan.isolation.models import HealthAlert, IsolationStay, SiteRoom, SiteTest
from bihuan.isolation.schemas import FloorPublic, SitePublic
from bihuan.people.models import Person
from bihuan.people.service import in_scope
from bihuan.protocol import SiteRules

ROOM_STATUSES = [s.value for s in RoomStatus]
_SYMPTOM_SEPARATORS = re.compile(r"[,，、;；/]+")


def mask_name(name: str) -> str:
    """A name as lists show it to whoever passes by a screen: the first character, the rest starred (张**)."""
    text = name.strip()
    return f"{text[0]}{'*' * max(len(text) - 1, 1)}" if text else "—"


# -- who is where ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Occupant:
    """A person in a stay at the site, as the pages name them (masked)."""

    stay_id: int
    person_id: int
    room_id: int | None
    carer_for: int | None
    name_masked: str
    resident_id_masked: str | None


def occupants(ctx: Ctx, site_id: int) -> dict[int, Occupant]:
    """The site's open stays of the user's jurisdiction by stay id, names and IDs masked (one query)."""
    stmt = (
        select(
            IsolationStay.id,
            IsolationStay.person_id,
            IsolationStay.room_id,
            IsolationStay.carer_for,
            Person.name,
            Person.resident_id,
        )
        .join(Person, Person.id == IsolationStay.person_id)
        .where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
    )
    rows = ctx.session.execute(in_scope(ctx, stmt, IsolationStay.jurisdiction_id).order_by(IsolationStay.id))
    return {
        int(stay_id): Occupant(
            int(stay_id),
            int(person_id),
            room_id,
            carer_for,
            mask_name(name),
            mask_resident_id(resident_id) if resident_id else None,
        )
        for stay_id, person_id, room_id, carer_for, name, resident_id in rows
    }


@dataclass(frozen=True, slots=True)
class RoomCell:
    """A room of the grid: its status (the colour) and who is in it (of the user's jurisdiction)."""

    id: int
    number: str
    status: str
    reserved_for: str
    people: list[Occupant]
    alert: bool


@dataclass(frozen=True, slots=True)
class FloorView:
    floor: FloorPublic
    rooms: list[RoomCell]

    @property
    def reserved(self) -> int:
        return sum(1 for room in self.rooms if room.status == RoomStatus.RESERVED)


def floor_views(
    ctx: Ctx, site_id: int, floors: list[FloorPublic], people: Mapping[int, Occupant], alerted: set[int]
) -> list[FloorView]:
    """Each floor with its rooms in door order, coloured by status, their occupants and alerts."""
    by_room: dict[int, list[Occupant]] = {}
    for occupant in people.values():
        if occupant.room_id is not None:
            by_room.setdefault(occupant.room_id, []).append(occupant)
    stmt = (
        select(SiteRoom.id, SiteRoom.floor_id, SiteRoom.number, SiteRoom.status, SiteRoom.reserved_for)
        .where(SiteRoom.site_id == site_id)
        .order_by(SiteRoom.floor_id, SiteRoom.position, SiteRoom.number)
    )
    rooms: dict[int, list[RoomCell]] = {}
    for room_id, floor_id, number, status, reserved_for in ctx.session.execute(stmt):
        here = by_room.get(room_id, [])
        cell = RoomCell(room_id, number, status, reserved_for, here, any(p.stay_id in alerted for p in here))
        rooms.setdefault(floor_id, []).append(cell)
    return [FloorView(floor, rooms.get(floor.id, [])) for floor in floors]


def open_alert_counts(ctx: Ctx, site_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Open health alerts by site, of people in the user's jurisdiction (one query)."""
    stmt = (
        select(HealthAlert.site_id, func.count())
        .join(IsolationStay, IsolationStay.id == HealthAlert.stay_id)
        .where(HealthAlert.resolved_at.is_(None))
    )
    if site_ids is not None:
        stmt = stmt.where(HealthAlert.site_id.in_(sorted(set(site_ids))))
    stmt = in_scope(ctx, stmt, IsolationStay.jurisdiction_id).group_by(HealthAlert.site_id)
    return {int(site): int(n) for site, n in ctx.session.execute(stmt)}


def tests_due_counts(ctx: Ctx, today: date, site_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Tests due today and not yet taken, by site, of people in the user's jurisdiction (one query)."""
    stmt = select(SiteTest.site_id, func.count()).where(
        SiteTest.due_on == today, SiteTest.status == SiteTestStatus.DUE.value
    )
    if site_ids is not None:
        stmt = stmt.where(SiteTest.site_id.in_(sorted(set(site_ids))))
    stmt = in_scope(ctx, stmt, SiteTest.jurisdiction_id).group_by(SiteTest.site_id)
    return {int(site): int(n) for site, n in ctx.session.execute(stmt)}


# -- the temperature form ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One person of a floor's sheet: their room, who they are (masked) and today's readings."""

    room: str
    person: SheetPerson
    occupant: Occupant | None


def sheet_rows(sheet: FloorSheetPublic, people: Mapping[int, Occupant]) -> list[SheetRow]:
    return [SheetRow(room.number, p, people.get(p.stay_id)) for room in sheet.rooms for p in room.people]


@dataclass
class TemperatureForm:
    """A floor's form read back: the round's time, the readings typed (in row order) and each row's complaint."""

    measured_at: datetime | None
    readings: list[TemperatureIn] = field(default_factory=list)
    stays: list[int] = field(default_factory=list)  # the stay of each reading, in order
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field name → the reason in the page's words


def split_symptoms(text: str) -> list[str]:
    """Symptoms as typed in one field: 咳嗽，乏力 or "cough, fatigue" → each one."""
    return [part.strip() for part in _SYMPTOM_SEPARATORS.split(text) if part.strip()]


def read_temperature_form(
    form: Mapping[str, str], rows: list[SheetRow], day: date, zone: ZoneInfo, rules: SiteRules, t: Translations
) -> TemperatureForm:
    """Every row's temperature and symptoms checked as the service will (the pure reader), each row's
    refusal kept for its own row: the page shows them all at once, the service would name only the first."""
    clock = form.get("measured_time", "").strip()
    result = TemperatureForm(measured_at=_round_time(day, clock, zone))
    result.typed["measured_time"] = clock
    if result.measured_at is None:
        result.errors["measured_time"] = t.gettext("Give the time of the round as hh:mm, e.g. 08:30.")
    for row in rows:
        stay = row.person.stay_id
        value = form.get(f"value-{stay}", "").strip()
        symptoms = form.get(f"symptoms-{stay}", "").strip()
        result.typed[f"value-{stay}"], result.typed[f"symptoms-{stay}"] = value, symptoms
        if not value:
            if symptoms:
                result.errors[f"value-{stay}"] = t.gettext("Enter the temperature with the symptoms.")
            continue
        reason = _row_refusal(value, split_symptoms(symptoms), rules, t)
        if reason is not None:
            result.errors[f"value-{stay}"] = reason
            continue
        try:
            reading = TemperatureIn(
                stay_id=stay, value=value, symptoms=split_symptoms(symptoms), measured_at=result.measured_at
            )
        except ValidationError:
            result.errors[f"symptoms-{stay}"] = t.gettext("At most 12 symptoms, each in at most 40 characters.")
            continue
        result.readings.append(reading)
        result.stays.append(stay)
    if not result.readings and not result.errors:
        result.errors["form"] = t.gettext("Enter at least one temperature.")
    return result


def _round_time(day: date, clock: str, zone: ZoneInfo) -> datetime | None:
    try:
        hours, minutes = (int(part) for part in clock.split(":")[:2])
        return datetime.combine(day, time(hours, minutes), tzinfo=zone)
    except ValueError:
        return None


def _row_refusal(value: str, symptoms: list[str], rules: SiteRules, t: Translations) -> str | None:
    try:
        read_temperature(value, None, rules)
        read_symptoms(symptoms)
    except TemperatureRefused as refused:
        return describe(refused.reason, t)
    return None


def converted(entered: str, rules: SiteRules, t: Translations) -> str | None:
    """What a stored reading typed in °F became, in words (None: it was taken as typed, in °C)."""
    try:
        _celsius, message = read_temperature(entered, None, rules)
    except TemperatureRefused:
        return None
    return describe(message, t) if message else None


# -- the checklist form ------------------------------------------------------------------------------------


def line_key(line: SheetLine) -> str:
    """A line's name in the form: template, item and shift (codes are [a-z0-9_-], so dots separate them)."""
    return f"{line.template}.{line.item}.{line.shift}"


@dataclass(frozen=True, slots=True)
class ShiftView:
    name: str
    due_by: datetime
    lines: list[SheetLine]

    @property
    def settled(self) -> int:
        return sum(1 for line in self.lines if line.status in (CheckStatus.DONE, CheckStatus.NOT_APPLICABLE))

    @property
    def overdue(self) -> int:
        return sum(1 for line in self.lines if line.overdue)


def shifts_of(sheet: DaySheet) -> list[ShiftView]:
    """The sheet's lines grouped by shift, in the profile's order."""
    grouped: dict[str, list[SheetLine]] = {}
    for line in sheet.lines:
        grouped.setdefault(line.shift, []).append(line)
    return [ShiftView(name, lines[0].due_by, lines) for name, lines in grouped.items()]


@dataclass
class ChecklistForm:
    entries: list[CheckIn] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the line of each entry, in order
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def read_checklist_form(form: Mapping[str, str], sheet: DaySheet, t: Translations) -> ChecklistForm:
    """The lines the user settled or marked not done (a line left blank is not sent), with their notes."""
    result = ChecklistForm()
    for line in sheet.lines:
        key = line_key(line)
        status = form.get(f"status-{key}", "").strip()
        note = form.get(f"note-{key}", "").strip()
        result.typed[f"status-{key}"], result.typed[f"note-{key}"] = status, note
        if not status:
            if note:
                result.errors[key] = t.gettext("Choose done, not done or not applicable for the note.")
            continue
        try:
            entry = CheckIn(
                template=line.template, item=line.item, day=sheet.day, shift=line.shift, status=status, note=note
            )
        except ValidationError:
            result.errors[key] = t.gettext("Choose one of the answers; a note takes at most 255 characters.")
            continue
        result.entries.append(entry)
        result.keys.append(key)
    return result


def entry_index(field_name: str) -> int | None:
    """The list index a service's field names: readings[3].value → 3."""
    found = re.match(r"^\w+\[(\d+)\]", field_name)
    return int(found.group(1)) if found else None


def item_texts(manual: Iterable[ChecklistTemplate], english: bool) -> dict[tuple[str, str], str]:
    """Each checklist item's words by (template, item), in English when asked and the manual has them."""
    return {
        (template.code, item["code"]): (item.get("text_en") if english else None) or item["text"]
        for template in manual
        for item in template.items
    }


def shift_labels(t: Translations) -> dict[str, str]:
    """The shifts the shipped profiles name; another profile's shift shows its own name."""
    return {"day": t.gettext("Day shift"), "night": t.gettext("Night shift")}


def alert_labels(t: Translations) -> dict[str, str]:
    return {"fever": t.gettext("Fever"), "symptoms": t.gettext("Symptoms"), "missing": t.gettext("Check missing")}


def local_today(ctx: Ctx, zone: ZoneInfo) -> date:
    return ctx.clock.now().astimezone(zone).date()


def site_with_places(ctx: Ctx, site_id: int) -> SitePublic:
    """The site with its places (404 when unknown)."""
    sites.get_site(ctx, site_id)
    return next(s for s in sites.list_sites(ctx) if s.id == site_id)


def redirect_to(path: str, anchor: str = "", **query: Any) -> RedirectResponse:
    """POST-redirect-GET: the page again, with what was done in its query."""
    params = urlencode({key: value for key, value in query.items() if value is not None})
    return RedirectResponse(f"{path}?{params}{anchor}" if params else f"{path}{anchor}", status_code=303)
