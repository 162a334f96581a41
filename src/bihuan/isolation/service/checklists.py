"""Site checklists (表格化清单式管理): the work manual's templates, a day's sheet, checks per shift, overdue alerts.

- The manual of a site is the platform's default manual (`manual/default.toml`, installed on first
  use, the same file again changes nothing) plus the site's own templates; a site's template with a
  default's code replaces it there. A template with its code again, with other content, is a new
  version; the latest applies to every day read or recorded.
- Shifts and the grace after a shift's end are the profile's (`sites.shifts`,
  `sites.checklist_overdue_after_minutes`); an item is due in the shifts it names (none: every
  shift), and only in the profile's shifts. A shift belongs to the local day it starts on.
- Checks are recorded in bulk: every entry is checked first and nothing is stored if one is
  refused; the same check again is left alone; another status or note for a check is a correction:
  the earlier row stays, superseded (see `checklist_models`). A request costs a fixed number of
  statements, however many checks it carries.
- An item not done (nor marked not applicable) once its shift has ended plus the grace is overdue;
  raising alerts stores one alert per item, day and shift (raising again adds none); a later check
  that settles the item resolves its alert.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import core_table, serialise
from bihuan.core.errors import FieldError
from bihuan.core.events import make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.isolation.checklist_models import DEFAULT_SCOPE, ChecklistAlert, ChecklistEntry, ChecklistTemplate
from bihuan.isolation.checklist_schemas import (
    SETTLED,
    AlertPublic,
    AlertsRaised,
    CheckIn,
    ChecklistItemIn,
    ChecksRecorded,
    CheckStatus,
    DaySheet,
    OverdueItem,
    SheetLine,
    TemplateIn,
    TemplatePublic,
)
from bihuan.isolation.service.sites import get_site
from bihuan.protocol import ProtocolProfile

_Key = tuple[str, str, date, str]  # template code, item code, day, shift


@cache
def default_manual() -> tuple[TemplateIn, ...]:
    """The platform's default work manual, as shipped in the package."""
    resource = resources.files("bihuan.isolation") / "manual" / "default.toml"
    data = tomllib.loads(resource.read_text(encoding="utf-8"))
    return tuple(TemplateIn.model_validate(template) for template in data["templates"])


def install_default_manual(ctx: Ctx) -> list[ChecklistTemplate]:
    """Store the default manual's templates (a changed template as a new version); again, nothing changes."""
    stored = _latest(ctx, [DEFAULT_SCOPE])
    return [_store(ctx, None, template, stored.get(template.code)) for template in default_manual()]


def add_template(ctx: Ctx, profile: ProtocolProfile, site_id: int, data: TemplateIn) -> ChecklistTemplate:
    """Add a template to a site's manual; its code again with other content is a new version.

    The shifts its items name must be the profile's.
    """
    require(ctx.actor, Permission.MANAGE_SITES)
    get_site(ctx, site_id)
    shifts = [shift.name for shift in profile.sites.shifts]
    for i, item in enumerate(data.items):
        for j, name in enumerate(item.shifts):
            if name not in shifts:
                raise FieldError(f"items[{i}].shifts[{j}]", f"the profile has no shift {name}; its shifts: {shifts}")
    latest = _latest(ctx, [site_id]).get(data.code)
    return _store(ctx, site_id, data, latest)


def site_manual(ctx: Ctx, site_id: int) -> list[ChecklistTemplate]:
    """The templates that apply at the site: the defaults (unless replaced by the site's own) and its own."""
    require(ctx.actor, Permission.READ_TRANSFER)
    get_site(ctx, site_id)
    return _manual(ctx, site_id)


def template_public(template: ChecklistTemplate) -> TemplatePublic:
    return TemplatePublic(
        id=template.id,
        site_id=template.site_id,
        code=template.code,
        title=template.title,
        title_en=template.title_en,
        version=template.version,
        items=[ChecklistItemIn.model_validate(item) for item in template.items],
    )


def day_sheet(ctx: Ctx, profile: ProtocolProfile, site_id: int, day: date, zone: ZoneInfo) -> DaySheet:
    """Every item due on the local day, shift by shift, with its check (if any) and whether it is overdue."""
    require(ctx.actor, Permission.READ_TRANSFER)
    site = get_site(ctx, site_id)
    manual = _manual(ctx, site_id)
    checks = _current(ctx, site_id, [day])
    now = ctx.clock.now()
    lines: list[SheetLine] = []
    for shift, end, due_by in _due_times(profile, day, zone):
        late = now >= due_by and end > site.created_at
        for template, item in _items(manual, shift):
            check = checks.get((template.code, item["code"], day, shift))
            status = None if check is None else CheckStatus(check["status"])
            lines.append(
                SheetLine(
                    template=template.code,
                    item=item["code"],
                    text=item["text"],
                    text_en=item.get("text_en", ""),
                    shift=shift,
                    due_by=due_by,
                    status=status,
                    note="" if check is None else check["note"],
                    done_by="" if check is None else check["done_by"],
                    done_at=None if check is None else check["done_at"],
                    overdue=late and status not in SETTLED,
                )
            )
    settled = sum(1 for line in lines if line.status in SETTLED)
    return DaySheet(site_id=site_id, day=day, lines=lines, count=len(lines), settled=settled)


def record_checks(
    ctx: Ctx, profile: ProtocolProfile, site_id: int, entries: list[CheckIn], zone: ZoneInfo
) -> ChecksRecorded:
    """Record a batch of checks: all refused if one is, the same check again left alone, corrections kept."""
    require(ctx.actor, Permission.MANAGE_SITES)
    site = get_site(ctx, site_id)
    manual = {template.code: template for template in _manual(ctx, site_id)}
    now = ctx.clock.now()
    serialise(ctx.session, f"checklist:{site_id}")  # the same checks sent twice at once: the second is unchanged
    wanted = _validated(profile, manual, entries, now.astimezone(zone).date())
    days = sorted({key[2] for key in wanted})
    current = _current(ctx, site_id, days)
    new_rows: list[dict[str, Any]] = []
    superseded: list[int] = []
    unchanged = 0
    for key, entry in wanted.items():
        earlier = current.get(key)
        if earlier is not None and (earlier["status"], earlier["note"]) == (entry.status.value, entry.note):
            unchanged += 1
            continue
        if earlier is not None:
            superseded.append(earlier["id"])
        new_rows.append(
            {
                "site_id": site_id,
                "template_id": manual[entry.template].id,
                "template_code": entry.template,
                "item_code": entry.item,
                "day": entry.day,
                "shift": entry.shift,
                "status": entry.status.value,
                "note": entry.note,
                "done_by": ctx.actor.username,
                "done_at": entry.done_at or now,
                "recorded_at": now,
                "current": True,
                "superseded_at": None,
            }
        )
    table = core_table(ChecklistEntry)
    if superseded:
        ctx.session.execute(update(table).where(table.c.id.in_(superseded)).values(current=None, superseded_at=now))
    if new_rows:
        ctx.session.execute(insert(table), new_rows)
        record_many(ctx, [_recorded_event(ctx, site.code, row, current) for row in new_rows])
    resolved = _resolve_alerts(ctx, site_id, days, {key for key, e in wanted.items() if e.status in SETTLED}, now)
    return ChecksRecorded(
        recorded=len(new_rows) - len(superseded),
        corrected=len(superseded),
        unchanged=unchanged,
        alerts_resolved=resolved,
    )


def overdue(ctx: Ctx, profile: ProtocolProfile, site_id: int, now: datetime, zone: ZoneInfo) -> list[OverdueItem]:
    """Items of yesterday's and today's (local) shifts that ended, plus the grace, without being settled.

    Shifts that ended before the site was registered owe nothing.
    """
    require(ctx.actor, Permission.READ_TRANSFER)
    site = get_site(ctx, site_id)
    manual = _manual(ctx, site_id)
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=1), today]
    checks = _current(ctx, site_id, days)
    found: list[OverdueItem] = []
    for day in days:
        for shift, end, due_by in _due_times(profile, day, zone):
            if now < due_by or end <= site.created_at:  # not yet late, or over before the site opened
                continue
            for template, item in _items(manual, shift):
                check = checks.get((template.code, item["code"], day, shift))
                if check is None or CheckStatus(check["status"]) not in SETTLED:
                    found.append(
                        OverdueItem(
                            template_id=template.id,
                            template=template.code,
                            item=item["code"],
                            text=item["text"],
                            day=day,
                            shift=shift,
                            due_by=due_by,
                        )
                    )
    return found


def raise_overdue_alerts(
    ctx: Ctx, profile: ProtocolProfile, site_id: int, now: datetime, zone: ZoneInfo
) -> AlertsRaised:
    """One alert per overdue item, day and shift (raising again adds none), with a checklist_overdue event each."""
    require(ctx.actor, Permission.MANAGE_SITES)
    items = overdue(ctx, profile, site_id, now, zone)
    raised = 0
    if items:
        table = core_table(ChecklistAlert)
        dialect = postgresql if ctx.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table).on_conflict_do_nothing(
            index_elements=["site_id", "template_code", "item_code", "day", "shift"]
        )
        rows = [
            {
                "site_id": site_id,
                "template_id": item.template_id,
                "template_code": item.template,
                "item_code": item.item,
                "day": item.day,
                "shift": item.shift,
                "due_by": item.due_by,
                "raised_at": ctx.clock.now(),
                "resolved_at": None,
                "resolved_by": "",
            }
            for item in items
        ]
        inserted = ctx.session.execute(
            stmt.returning(table.c.id, table.c.template_code, table.c.item_code, table.c.day, table.c.shift), rows
        ).all()
        raised = len(inserted)
        record_many(
            ctx,
            [
                make_event(
                    ctx,
                    EventKind.CHECKLIST_OVERDUE,
                    subject_type="site",
                    subject_id=site_id,
                    refs={"checklist_alert": alert_id},
                    payload={"template": template, "item": item, "day": day.isoformat(), "shift": shift},
                )
                for alert_id, template, item, day, shift in inserted
            ],
        )
    return AlertsRaised(raised=raised, open=open_alerts(ctx, site_id))


def open_alerts(ctx: Ctx, site_id: int) -> list[AlertPublic]:
    """The site's unresolved checklist alerts, oldest first."""
    require(ctx.actor, Permission.READ_TRANSFER)
    rows = ctx.session.scalars(
        select(ChecklistAlert)
        .where(ChecklistAlert.site_id == site_id, ChecklistAlert.resolved_at.is_(None))
        .order_by(ChecklistAlert.day, ChecklistAlert.due_by, ChecklistAlert.id)
    )
    return [
        AlertPublic(
            id=row.id,
            template=row.template_code,
            item=row.item_code,
            day=row.day,
            shift=row.shift,
            due_by=row.due_by,
            raised_at=row.raised_at,
            resolved_at=row.resolved_at,
        )
        for row in rows
    ]


def check_history(ctx: Ctx, site_id: int, day: date) -> list[ChecklistEntry]:
    """Every check of the local day, earlier (superseded) ones included, in the order recorded."""
    require(ctx.actor, Permission.READ_TRANSFER)
    return list(
        ctx.session.scalars(
            select(ChecklistEntry)
            .where(ChecklistEntry.site_id == site_id, ChecklistEntry.day == day)
            .order_by(ChecklistEntry.id)
        )
    )


# ---------------------------------------------------------------------------------------------- helpers


def _latest(ctx: Ctx, scopes: list[int]) -> dict[str, ChecklistTemplate]:
    """The latest version of each template code of the scopes (one scope: code → template)."""
    rows = ctx.session.scalars(
        select(ChecklistTemplate)
        .where(ChecklistTemplate.scope_id.in_(scopes))
        .order_by(ChecklistTemplate.scope_id, ChecklistTemplate.version, ChecklistTemplate.id)
    )
    return {row.code: row for row in rows}


def _store(ctx: Ctx, site_id: int | None, data: TemplateIn, latest: ChecklistTemplate | None) -> ChecklistTemplate:
    items = [item.model_dump() for item in data.items]
    if latest is not None and (latest.title, latest.title_en, latest.items) == (data.title, data.title_en, items):
        return latest
    template = ChecklistTemplate(
        site_id=site_id,
        scope_id=DEFAULT_SCOPE if site_id is None else site_id,
        code=data.code,
        title=data.title,
        title_en=data.title_en,
        items=items,
        version=1 if latest is None else latest.version + 1,
        created_at=ctx.clock.now(),
        created_by=ctx.actor.username,
    )
    ctx.session.add(template)
    ctx.session.flush()
    return template


def _manual(ctx: Ctx, site_id: int) -> list[ChecklistTemplate]:
    """The site's manual in one query (installing the default manual the first time any is read)."""
    rows = list(
        ctx.session.scalars(
            select(ChecklistTemplate)
            .where(ChecklistTemplate.scope_id.in_([DEFAULT_SCOPE, site_id]))
            .order_by(ChecklistTemplate.version, ChecklistTemplate.id)
        )
    )
    defaults = {row.code: row for row in rows if row.scope_id == DEFAULT_SCOPE}
    if not defaults:
        defaults = {template.code: template for template in install_default_manual(ctx)}
    own = {row.code: row for row in rows if row.scope_id != DEFAULT_SCOPE}
    return [own.pop(code, template) for code, template in defaults.items()] + list(own.values())


def _items(manual: list[ChecklistTemplate], shift: str) -> list[tuple[ChecklistTemplate, dict[str, Any]]]:
    return [
        (template, item)
        for template in manual
        for item in template.items
        if not item.get("shifts") or shift in item["shifts"]
    ]


def _due_times(profile: ProtocolProfile, day: date, zone: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """Each shift of the local day, its end, and when its checks fall overdue (the end plus the grace)."""
    grace = timedelta(minutes=profile.sites.checklist_overdue_after_minutes)
    ends = [(shift.name, shift.window(day, zone)[1]) for shift in profile.sites.shifts]
    return [(name, end, end + grace) for name, end in ends]


def _current(ctx: Ctx, site_id: int, days: list[date]) -> dict[_Key, dict[str, Any]]:
    """The checks in force on the days, by template, item, day and shift (one query)."""
    if not days:
        return {}
    table = core_table(ChecklistEntry)
    rows = ctx.session.execute(
        select(
            table.c.id,
            table.c.template_code,
            table.c.item_code,
            table.c.day,
            table.c.shift,
            table.c.status,
            table.c.note,
            table.c.done_by,
            table.c.done_at,
        ).where(table.c.site_id == site_id, table.c.day.in_(days), table.c.current.is_(True))
    ).mappings()
    return {(row["template_code"], row["item_code"], row["day"], row["shift"]): dict(row) for row in rows}


def _validated(
    profile: ProtocolProfile, manual: dict[str, ChecklistTemplate], entries: list[CheckIn], today: date
) -> dict[_Key, CheckIn]:
    """Each entry checked against the manual and the profile; the same check twice in a batch is one."""
    shifts = [shift.name for shift in profile.sites.shifts]
    wanted: dict[_Key, CheckIn] = {}
    first: dict[_Key, int] = {}
    for i, entry in enumerate(entries):
        where = f"entries[{i}]"
        template = manual.get(entry.template)
        if template is None:
            raise FieldError(f"{where}.template", f"the site's manual has no checklist {entry.template}")
        item = next((item for item in template.items if item["code"] == entry.item), None)
        if item is None:
            raise FieldError(f"{where}.item", f"checklist {entry.template} has no item {entry.item}")
        if entry.shift not in shifts:
            raise FieldError(f"{where}.shift", f"the profile has no shift {entry.shift}; its shifts: {shifts}")
        if item.get("shifts") and entry.shift not in item["shifts"]:
            raise FieldError(f"{where}.shift", f"{entry.item} is not due in the {entry.shift} shift")
        if entry.day > today:
            raise FieldError(f"{where}.day", f"{entry.day} is in the future (today is {today})")
        key = (entry.template, entry.item, entry.day, entry.shift)
        if key in wanted and (wanted[key].status, wanted[key].note) != (entry.status, entry.note):
            raise FieldError(where, f"contradicts entries[{first[key]}] (the same item, day and shift)")
        first.setdefault(key, i)
        wanted[key] = entry
    return wanted


def _recorded_event(ctx: Ctx, site_code: str, row: dict[str, Any], current: dict[_Key, dict[str, Any]]) -> Any:
    earlier = current.get((row["template_code"], row["item_code"], row["day"], row["shift"]))
    payload: dict[str, Any] = {
        "code": site_code,
        "template": row["template_code"],
        "item": row["item_code"],
        "day": row["day"].isoformat(),
        "shift": row["shift"],
        "status": row["status"],
    }
    if earlier is not None:
        payload["corrects"] = earlier["status"]
    return make_event(
        ctx, EventKind.CHECKLIST_RECORDED, subject_type="site", subject_id=row["site_id"], payload=payload
    )


def _resolve_alerts(ctx: Ctx, site_id: int, days: list[date], settled: set[_Key], now: datetime) -> int:
    """Resolve the open alerts of the days whose item, day and shift a check now settles."""
    if not settled:
        return 0
    table = core_table(ChecklistAlert)
    open_rows = ctx.session.execute(
        select(table.c.id, table.c.template_code, table.c.item_code, table.c.day, table.c.shift).where(
            table.c.site_id == site_id, table.c.day.in_(days), table.c.resolved_at.is_(None)
        )
    ).all()
    ids = [row.id for row in open_rows if (row.template_code, row.item_code, row.day, row.shift) in settled]
    if ids:
        ctx.session.execute(
            update(table).where(table.c.id.in_(ids)).values(resolved_at=now, resolved_by=ctx.actor.username)
        )
    return len(ids)
