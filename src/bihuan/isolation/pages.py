"""Pages of isolation (快隔离): the sites, a site's board by floor, a floor's temperature round, the day's
checklists and the release list.

What site staff hold on a phone: one column, big inputs, every form a plain post answered with a
redirect (or, when refused, the same page again with each refusal next to its row and what was typed
kept), so it all works without JavaScript. Rules live in the services; `_page_helpers` arranges
their answers and words their reasons in the page language.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from bihuan.core.context import Ctx
from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.core.errors import FieldError
from bihuan.core.permissions import Permission, can
from bihuan.isolation import _page_helpers as helpers
from bihuan.isolation import _page_wordings as wordings
from bihuan.isolation import service as sites
from bihuan.isolation.choices import CrossInfectionStatus
from bihuan.isolation.service import cross_infection_reads as cross_infection
from bihuan.isolation.service import release as releasing
from bihuan.protocol import DestinationKind, ProtocolProfile
from bihuan.web.labels import transfer_category_labels
from bihuan.web.templating import render, request_language, request_translations

router = APIRouter(include_in_schema=False)
Flashes = list[tuple[str, str]]


async def _form(request: Request) -> dict[str, str]:
    """A form's fields by name (fields are named per row, so they cannot be declared one by one)."""
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


FormDep = Annotated[dict[str, str], Depends(_form)]


# -- the sites and a site's board --------------------------------------------------------------------------


@router.get("/isolation")
def site_list(ctx: UserCtx, request: Request, profile: ProfileDep, zone: ZoneDep) -> Response:
    """Every site with its places by category, open health alerts, overdue checklist items and tests due today."""
    rows = sites.list_sites(ctx)
    now = ctx.clock.now()
    overdue = {
        s.id: len(sites.overdue(ctx, profile, s.id, now, zone))
        for s in rows
        if s.kind == DestinationKind.CENTRAL_QUARANTINE
    }
    context = {
        "sites": rows,
        "alerts": helpers.open_alert_counts(ctx),
        "tests_due": helpers.tests_due_counts(ctx, helpers.local_today(ctx, zone)),
        "overdue": overdue,
        "category_labels": transfer_category_labels(request_translations(request)),
    }
    return render(request, "isolation/sites.html", context)


@router.get("/isolation/sites/{site_id}")
def site_board(ctx: UserCtx, request: Request, profile: ProfileDep, zone: ZoneDep, site_id: int) -> Response:
    """A site's board (隔离点看板): rooms by floor coloured by status, open alerts, overdue checks, tests due,
    open cross-infection investigations."""
    t = request_translations(request)
    site = helpers.site_with_places(ctx, site_id)
    people = helpers.occupants(ctx, site_id)
    alerts = sites.list_alerts(ctx, site_id)
    overdue = sites.overdue(ctx, profile, site_id, ctx.clock.now(), zone)
    context = {
        "site": site,
        "floors": helpers.floor_views(
            ctx, site_id, sites.list_floors(ctx, site_id), people, {a.stay_id for a in alerts}
        ),
        "people": people,
        "alerts": alerts,
        "alert_details": {a.id: wordings.describe(a.detail, t) for a in alerts},
        "alert_labels": helpers.alert_labels(t),
        "overdue": overdue,
        "item_texts": helpers.item_texts(sites.site_manual(ctx, site_id), request_language(request) == "en"),
        "shift_labels": helpers.shift_labels(t),
        "tests_due": helpers.tests_due_counts(ctx, helpers.local_today(ctx, zone), [site_id]).get(site_id, 0),
        "investigations": cross_infection.list_investigations(ctx, site_id=site_id, status=CrossInfectionStatus.OPEN),
        "category_labels": transfer_category_labels(t),
        "may_manage": can(ctx.actor, Permission.MANAGE_SITES),
        "may_release": can(ctx.actor, Permission.RELEASE),
    }
    return render(request, "isolation/board.html", context)


# -- a floor's temperature round (体温录入) ------------------------------------------------------------------


def _temperature_page(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    zone: ZoneInfo,
    site_id: int,
    floor_id: int,
    day: date,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    flashes: Flashes | None = None,
    round_at: datetime | None = None,
    status_code: int = 200,
) -> Response:
    """The floor's sheet as a form: one row per person in an occupied room, today's readings beside it."""
    t = request_translations(request)
    site = helpers.site_with_places(ctx, site_id)
    sheet = sites.floor_sheet(ctx, site_id, floor_id, day, zone)
    rows = helpers.sheet_rows(sheet, helpers.occupants(ctx, site_id))
    now = ctx.clock.now().astimezone(zone)
    conversions = []
    if round_at is not None:
        for row in rows:
            for reading in row.person.readings:
                message = helpers.converted(reading.entered, profile.sites, t)
                if reading.measured_at == round_at and message:
                    conversions.append((row, message))
    context = {
        "site": site,
        "sheet": sheet,
        "rows": rows,
        "typed": typed or {"measured_time": now.strftime("%H:%M") if day == now.date() else ""},
        "errors": errors or {},
        "conversions": conversions,
        "alert_labels": helpers.alert_labels(t),
        "category_labels": transfer_category_labels(t),
        "fever_from": profile.sites.fever_from_celsius,
        "may_record": can(ctx.actor, Permission.MANAGE_SITES),
        "flashes": flashes or [],
    }
    return render(request, "isolation/temperatures.html", context, status_code=status_code)


def _recorded_flashes(request: Request, done: str, stored: int, unchanged: int, alerts: int) -> Flashes:
    t = request_translations(request)
    if done != "recorded":
        return []
    flashes = [("success", t.gettext("Readings stored: %(n)s.") % {"n": stored})]
    if unchanged:
        flashes.append(("info", t.gettext("Stored already, not stored twice: %(n)s.") % {"n": unchanged}))
    if alerts:
        flashes.append(("warning", t.gettext("Health alerts raised: %(n)s (see the site board).") % {"n": alerts}))
    return flashes


@router.get("/isolation/sites/{site_id}/floors/{floor_id}/temperatures")
def temperature_entry(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    site_id: int,
    floor_id: int,
    day: date | None = None,
    done: str = "",
    stored: int = 0,
    unchanged: int = 0,
    alerts: int = 0,
    at: datetime | None = None,
) -> Response:
    """A floor's temperature round (体温录入): enter everyone's reading, send once."""
    flashes = _recorded_flashes(request, done, stored, unchanged, alerts)
    return _temperature_page(
        ctx,
        request,
        profile,
        zone,
        site_id,
        floor_id,
        day or helpers.local_today(ctx, zone),
        flashes=flashes,
        round_at=at,
    )


@router.post("/isolation/sites/{site_id}/floors/{floor_id}/temperatures")
def record_temperatures(
    ctx: UserCtx, request: Request, profile: ProfileDep, zone: ZoneDep, form: FormDep, site_id: int, floor_id: int
) -> Response:
    """Store the floor's round: all of it, or nothing with each refused row marked and what was typed kept."""
    t = request_translations(request)
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError:
        day = helpers.local_today(ctx, zone)
    sheet = sites.floor_sheet(ctx, site_id, floor_id, day, zone)
    rows = helpers.sheet_rows(sheet, helpers.occupants(ctx, site_id))
    entry = helpers.read_temperature_form(form, rows, day, zone, profile.sites, t)
    if not entry.errors:
        try:
            outcome = sites.record_temperatures(ctx, profile, site_id, entry.readings, zone=zone)
        except FieldError as error:
            entry.errors[_temperature_field(error, entry.stays)] = wordings.describe(error.reason, t)
    if entry.errors:
        ctx.session.rollback()
        count = sum(1 for name in entry.errors if name.startswith(("value-", "symptoms-")))
        message = t.gettext("Nothing stored: correct the marked rows and send again.")
        if count:
            message = t.gettext("Nothing stored: %(n)s refused (marked below); correct and send again.") % {"n": count}
        return _temperature_page(
            ctx,
            request,
            profile,
            zone,
            site_id,
            floor_id,
            day,
            typed=entry.typed,
            errors=entry.errors,
            flashes=[("error", entry.errors.get("form", message))],
            status_code=422,
        )
    assert entry.measured_at is not None
    return helpers.redirect_to(
        f"/isolation/sites/{site_id}/floors/{floor_id}/temperatures",
        day=day.isoformat(),
        done="recorded",
        stored=outcome.stored,
        unchanged=outcome.unchanged,
        alerts=outcome.alerts_raised,
        at=entry.measured_at.astimezone(ZoneInfo("UTC")).isoformat(),
    )


def _temperature_field(error: FieldError, stays: list[int]) -> str:
    """The form field a service refusal is about: a row's temperature, or the round's time."""
    index = helpers.entry_index(error.field)
    if index is None or index >= len(stays) or "future" in error.reason:
        return "measured_time"
    suffix = "symptoms" if ".symptoms" in error.field else "value"
    return f"{suffix}-{stays[index]}"


# -- the day's checklists (工作清单) ------------------------------------------------------------------------


def _checklist_page(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    zone: ZoneInfo,
    site_id: int,
    day: date,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    """The day's sheet by shift: each item done, not done or not applicable, with a note; overdue marked."""
    t = request_translations(request)
    sheet = sites.day_sheet(ctx, profile, site_id, day, zone)
    context = {
        "site": helpers.site_with_places(ctx, site_id),
        "sheet": sheet,
        "shifts": helpers.shifts_of(sheet),
        "shift_labels": helpers.shift_labels(t),
        "key": helpers.line_key,
        "typed": typed,
        "errors": errors or {},
        "english": request_language(request) == "en",
        "today": helpers.local_today(ctx, zone),
        "may_record": can(ctx.actor, Permission.MANAGE_SITES),
        "flashes": flashes or [],
    }
    return render(request, "isolation/checklists.html", context, status_code=status_code)


@router.get("/isolation/sites/{site_id}/checklists")
def checklists(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    site_id: int,
    day: date | None = None,
    done: str = "",
    recorded: int = 0,
    corrected: int = 0,
    unchanged: int = 0,
) -> Response:
    """The site's checklists of a day (today unless told), shift by shift."""
    t = request_translations(request)
    flashes: Flashes = []
    if done == "checked":
        counts = {"recorded": recorded, "corrected": corrected, "unchanged": unchanged}
        flashes.append(
            (
                "success",
                t.gettext("Checks saved: %(recorded)s new, %(corrected)s corrected, %(unchanged)s unchanged.") % counts,
            )
        )
    return _checklist_page(ctx, request, profile, zone, site_id, day or helpers.local_today(ctx, zone), flashes=flashes)


@router.post("/isolation/sites/{site_id}/checklists")
def record_checks(
    ctx: UserCtx, request: Request, profile: ProfileDep, zone: ZoneDep, form: FormDep, site_id: int
) -> Response:
    """Record the ticked items of the day's sheet: all of them, or none with the refused ones marked."""
    t = request_translations(request)
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError:
        day = helpers.local_today(ctx, zone)
    sheet = sites.day_sheet(ctx, profile, site_id, day, zone)
    entry = helpers.read_checklist_form(form, sheet, t)
    if not entry.entries and not entry.errors:
        entry.errors["form"] = t.gettext("Nothing to save: answer at least one item.")
    if not entry.errors:
        try:
            outcome = sites.record_checks(ctx, profile, site_id, entry.entries, zone)
        except FieldError as error:
            index = helpers.entry_index(error.field)
            key = entry.keys[index] if index is not None and index < len(entry.keys) else "form"
            entry.errors[key] = wordings.describe(error.reason, t)
    if entry.errors:
        ctx.session.rollback()
        message = entry.errors.get("form", t.gettext("Nothing saved: correct the marked items and send again."))
        return _checklist_page(
            ctx,
            request,
            profile,
            zone,
            site_id,
            day,
            typed=entry.typed,
            errors=entry.errors,
            flashes=[("error", message)],
            status_code=422,
        )
    return helpers.redirect_to(
        f"/isolation/sites/{site_id}/checklists",
        day=day.isoformat(),
        done="checked",
        recorded=outcome.recorded,
        corrected=outcome.corrected,
        unchanged=outcome.unchanged,
    )


@router.get("/isolation/sites/{site_id}/checklists/history")
def checklist_history(ctx: UserCtx, request: Request, zone: ZoneDep, site_id: int, day: date | None = None) -> Response:
    """Every check of a day in the order recorded, corrections and what they replaced included."""
    t = request_translations(request)
    on = day or helpers.local_today(ctx, zone)
    context = {
        "site": helpers.site_with_places(ctx, site_id),
        "day": on,
        "entries": sites.check_history(ctx, site_id, on),
        "item_texts": helpers.item_texts(sites.site_manual(ctx, site_id), request_language(request) == "en"),
        "shift_labels": helpers.shift_labels(t),
    }
    return render(request, "isolation/checklist_history.html", context)


# -- the release list (解除隔离名单) ------------------------------------------------------------------------


def _release_page(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    zone: ZoneInfo,
    site_id: int,
    *,
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    t = request_translations(request)
    today = helpers.local_today(ctx, zone)
    candidates = releasing.release_list(ctx, profile, site_id, today)
    context = {
        "site": helpers.site_with_places(ctx, site_id),
        "today": today,
        "ready": [c for c in candidates if c.ready],
        "waiting": [c for c in candidates if not c.ready],
        "reasons": {c.stay_id: wordings.describe_all(c.reasons, t) for c in candidates},
        "category_labels": transfer_category_labels(t),
        "may_release": can(ctx.actor, Permission.RELEASE),
        "flashes": flashes or [],
    }
    return render(request, "isolation/release.html", context, status_code=status_code)


@router.get("/isolation/sites/{site_id}/release")
def release_list(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    site_id: int,
    done: str = "",
    released: int = 0,
    refused: int = 0,
) -> Response:
    """Who may go home today (ready, ticked to release) and who not yet, with the reasons."""
    t = request_translations(request)
    flashes: Flashes = []
    if done == "released":
        flashes.append(("success", t.gettext("People released: %(n)s.") % {"n": released}))
        if refused:
            flashes.append(("warning", t.gettext("Not released: %(n)s (see the reasons below).") % {"n": refused}))
    return _release_page(ctx, request, profile, zone, site_id, flashes=flashes)


@router.post("/isolation/sites/{site_id}/release")
def release_people(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    site_id: int,
    stay_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Release the ticked people whose plan and release tests allow it; the others stay, with the reason."""
    t = request_translations(request)
    chosen = [int(value) for value in stay_ids or [] if value.isdigit()]
    if not chosen:
        flashes: Flashes = [("error", t.gettext("Tick at least one person to release."))]
        return _release_page(ctx, request, profile, zone, site_id, flashes=flashes, status_code=422)
    try:
        outcome = releasing.release(ctx, profile, site_id, chosen, helpers.local_today(ctx, zone))
    except FieldError as error:
        ctx.session.rollback()
        message = t.gettext("Nobody released: %(reason)s") % {"reason": wordings.describe(error.reason, t)}
        return _release_page(ctx, request, profile, zone, site_id, flashes=[("error", message)], status_code=422)
    return helpers.redirect_to(
        f"/isolation/sites/{site_id}/release",
        done="released",
        released=len(outcome.released),
        refused=len(outcome.refused),
    )
