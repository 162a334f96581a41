"""Pages of isolation tasks (快隔离): the day's tests at a site (今日核酸采样), its cross-infection investigations
(交叉感染调查) and the community workers' home tasks (居家健康监测任务).

Same manner as `pages`: phone-first, plain posts answered with a redirect, a refusal shown next to its
row with what was typed kept and nothing stored. A scanner types a tube's barcode and Enter, so the
next barcode to take has the focus when the page comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from bihuan.core.context import Ctx
from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.permissions import Permission, can
from bihuan.isolation import _page_helpers as helpers
from bihuan.isolation import _page_wordings as wordings
from bihuan.isolation import service as sites
from bihuan.isolation.choices import HomeTaskStatus, SiteTestStatus
from bihuan.isolation.cross_infection_schemas import CrossInfectionClose
from bihuan.isolation.pages import Flashes, FormDep
from bihuan.isolation.release_schemas import HomeTaskRecord
from bihuan.isolation.service import cross_infection_reads as investigations
from bihuan.isolation.service import home, testing
from bihuan.isolation.testing_schemas import SiteTestPublic
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile
from bihuan.web.labels import transfer_category_labels
from bihuan.web.templating import render, request_translations

router = APIRouter(include_in_schema=False)
TESTS_PER_PAGE = 50


# -- the day's tests (今日核酸采样) -----------------------------------------------------------------------


@dataclass
class Refusal:
    """A row's form sent back (a test, a home task): what was typed and each field's complaint (``form``: the row's)."""

    row_id: int
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _tests_page(
    ctx: Ctx,
    request: Request,
    zone: ZoneInfo,
    site_id: int,
    day: date,
    floor_id: int | None,
    page: int,
    *,
    refusal: Refusal | None = None,
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    """The site's (or a floor's) tests of the day, overdue ones too, each still due with its tube form."""
    today = helpers.local_today(ctx, zone)
    listing = testing.tests_due(ctx, site_id, day, floor_id=floor_id, page=Page(page=page, page_size=TESTS_PER_PAGE))
    may_sample = can(ctx.actor, Permission.SAMPLE)
    takeable = [t for t in listing.data if _takeable(t, today)] if may_sample else []
    context = {
        "site": helpers.site_with_places(ctx, site_id),
        "floors": sites.list_floors(ctx, site_id),
        "floor_id": floor_id,
        "day": day,
        "today": today,
        "page": page,
        "page_size": TESTS_PER_PAGE,
        "listing": listing,
        "names": {t.id: helpers.mask_name(t.person_name) for t in listing.data},
        "takeable": {t.id for t in takeable},
        "refusal": refusal,
        "focus": _focus(takeable, refusal),
        "flashes": flashes or [],
    }
    return render(request, "isolation/tests.html", context, status_code=status_code)


def _takeable(test: SiteTestPublic, today: date) -> bool:
    return test.status == SiteTestStatus.DUE and test.tubes_needed > 0 and test.due_on <= today


def _focus(takeable: list[SiteTestPublic], refusal: Refusal | None) -> str:
    """The input the page opens on: the refused field, else the first barcode still to scan."""
    if refusal is not None:
        wrong = next((name for name in refusal.errors if name != "form"), "barcode-0")
        return f"test-{refusal.row_id}-{wrong}"
    return f"test-{takeable[0].id}-barcode-0" if takeable else ""


@router.get("/isolation/sites/{site_id}/tests")
def tests_due(
    ctx: UserCtx,
    request: Request,
    zone: ZoneDep,
    site_id: int,
    day: date | None = None,
    floor_id: int | None = None,
    page: int = 1,
    done: str = "",
    room: str = "",
    tubes: int = 0,
) -> Response:
    """Tests to take today (今日核酸采样), of the site or one floor, with the day's counts by state."""
    t = request_translations(request)
    flashes: Flashes = []
    if done == "sampled":
        flashes.append(("success", t.gettext("Test taken: room %(room)s, %(n)s tubes.") % {"room": room, "n": tubes}))
    return _tests_page(
        ctx, request, zone, site_id, day or helpers.local_today(ctx, zone), floor_id, max(page, 1), flashes=flashes
    )


@router.post("/isolation/sites/{site_id}/tests/{test_id}")
def sample_test(ctx: UserCtx, request: Request, zone: ZoneDep, form: FormDep, site_id: int, test_id: int) -> Response:
    """Take one test as the tubes scanned on its row; a refused tube comes back on its row, nothing stored."""
    t = request_translations(request)
    day, floor_id, page = _read_day(form, ctx, zone), _read_int(form.get("floor_id")), _read_int(form.get("page")) or 1
    tubes = _read_tubes(form)
    refusal = Refusal(test_id, typed={k: v for k, v in form.items() if k.startswith(("barcode-", "reagent-"))})
    try:
        taken = testing.sample_test(ctx, site_id, test_id, tubes, zone=zone)
    except FieldError as error:
        refusal.errors[_tube_field(error.field)] = _tube_reason(error, tubes, t)
    except Conflict as error:
        refusal.errors["form"] = wordings.describe(str(error), t)
    if refusal.errors:
        ctx.session.rollback()
        message = t.gettext("Nothing stored: correct the marked tube and scan again.")
        return _tests_page(
            ctx,
            request,
            zone,
            site_id,
            day,
            floor_id,
            page,
            refusal=refusal,
            flashes=[("error", message)],
            status_code=422,
        )
    return helpers.redirect_to(
        f"/isolation/sites/{site_id}/tests",  # no #fragment: browsers skip autofocus on a page opened at one
        day=day.isoformat(),
        floor_id=floor_id,
        page=page if page > 1 else None,
        done="sampled",
        room=taken.room or "—",
        tubes=len(tubes),
    )


def _read_day(form: dict[str, str], ctx: Ctx, zone: ZoneInfo) -> date:
    try:
        return date.fromisoformat(form.get("day", ""))
    except ValueError:
        return helpers.local_today(ctx, zone)


def _read_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _read_tubes(form: dict[str, str]) -> list[dict[str, str]]:
    """The row's tubes in field order (barcode-0, reagent-0, barcode-1 …), blank ones kept so the service names them."""
    tubes: list[dict[str, str]] = []
    while f"barcode-{len(tubes)}" in form:
        i = len(tubes)
        tubes.append({"barcode": form[f"barcode-{i}"], "reagent": form.get(f"reagent-{i}", "")})
    return tubes


def _tube_field(service_field: str) -> str:
    """The row's input a refusal names: tubes[1].reagent → reagent-1; the whole test → form."""
    index = helpers.entry_index(service_field)
    if index is None:
        return "form"
    return f"{'reagent' if service_field.endswith('.reagent') else 'barcode'}-{index}"


def _tube_reason(error: FieldError, tubes: list[dict[str, str]], t: Any) -> str:
    reason = wordings.describe(error.reason, t)
    index = helpers.entry_index(error.field)
    if error.field.endswith(".reagent") and index is not None and index < len(tubes) and tubes[index]["reagent"]:
        return t.gettext("Reagent “%(reagent)s”: %(reason)s") % {"reagent": tubes[index]["reagent"], "reason": reason}
    return reason


# -- cross-infection investigations (交叉感染调查) ----------------------------------------------------------


def _investigation_page(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    zone: ZoneInfo,
    site_id: int,
    investigation_id: int,
    *,
    note: str = "",
    error: str = "",
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    detail = investigations.get_investigation(ctx, profile, investigation_id, zone)
    if detail.site_id != site_id:
        raise NotFound(f"cross-infection investigation {investigation_id} not found at site {site_id}")
    context = {
        "site": helpers.site_with_places(ctx, site_id),
        "investigation": detail,
        "names": {n.stay_id: helpers.mask_name(n.person_name) for n in detail.neighbours},
        "case_name": helpers.mask_name(detail.case_name) if detail.case_name else None,
        "category_labels": transfer_category_labels(request_translations(request)),
        "may_close": can(ctx.actor, Permission.MANAGE_SITES),
        "note": note,
        "error": error,
        "flashes": flashes or [],
    }
    return render(request, "isolation/cross_infection.html", context, status_code=status_code)


@router.get("/isolation/sites/{site_id}/cross-infections/{investigation_id}")
def investigation(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    site_id: int,
    investigation_id: int,
    done: str = "",
) -> Response:
    """An investigation's neighbours (room, who, relation, clock restarted, extra tests) and its close form."""
    t = request_translations(request)
    flashes: Flashes = []
    if done == "closed":
        flashes.append(("success", t.gettext("Cross-infection investigation closed.")))
    elif done == "already":
        flashes.append(("info", t.gettext("The investigation was closed already; its note is unchanged.")))
    return _investigation_page(ctx, request, profile, zone, site_id, investigation_id, flashes=flashes)


@router.post("/isolation/sites/{site_id}/cross-infections/{investigation_id}/close")
def close_investigation(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    form: FormDep,
    site_id: int,
    investigation_id: int,
) -> Response:
    """Close an investigation with a note (结案); closing one closed already changes nothing."""
    t = request_translations(request)
    note = form.get("note", "").strip()
    path = f"/isolation/sites/{site_id}/cross-infections/{investigation_id}"
    try:
        CrossInfectionClose(note=note)
    except ValidationError:
        error = t.gettext("A note takes at most 500 characters.")
        return _investigation_page(
            ctx, request, profile, zone, site_id, investigation_id, note=note, error=error, status_code=422
        )
    detail = investigations.get_investigation(ctx, profile, investigation_id, zone)
    if detail.site_id != site_id:
        raise NotFound(f"cross-infection investigation {investigation_id} not found at site {site_id}")
    try:
        investigations.close_investigation(ctx, profile, investigation_id, note, zone)
    except Conflict:
        ctx.session.rollback()
        return helpers.redirect_to(path, done="already")
    return helpers.redirect_to(path, done="closed")


# -- home tasks of community workers (居家健康监测任务) ------------------------------------------------------


def _home_page(
    ctx: Ctx,
    request: Request,
    zone: ZoneInfo,
    page: int,
    *,
    refusal: Refusal | None = None,
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    today = helpers.local_today(ctx, zone)
    tasks, count = home.list_home_tasks(ctx, today, Page(page=page, page_size=TESTS_PER_PAGE), open_only=True)
    context = {
        "today": today,
        "tasks": tasks,
        "count": count,
        "earlier": home.missed_count(ctx, today),
        "names": {task.id: helpers.mask_name(task.person_name) for task in tasks},
        "page": page,
        "page_size": TESTS_PER_PAGE,
        "refusal": refusal,
        "flashes": flashes or [],
    }
    return render(request, "isolation/home_tasks.html", context, status_code=status_code)


@router.get("/isolation/home-tasks")
def home_tasks(
    ctx: UserCtx, request: Request, zone: ZoneDep, page: int = 1, done: str = "", ended: int = 0
) -> Response:
    """Today's home tasks of your jurisdiction and open ones of earlier days, each done or missed in one tap."""
    t = request_translations(request)
    flashes: Flashes = []
    if done in (HomeTaskStatus.DONE, HomeTaskStatus.MISSED):
        word = t.gettext("done") if done == HomeTaskStatus.DONE else t.gettext("missed")
        flashes.append(("success", t.gettext("Task recorded as %(status)s.") % {"status": word}))
    elif done == "closed":
        flashes.append(("success", t.gettext("Day closed: home phases ended %(n)s.") % {"n": ended}))
    return _home_page(ctx, request, zone, max(page, 1), flashes=flashes)


@router.post("/isolation/home-tasks/close-day")
def close_day(ctx: UserCtx, zone: ZoneDep) -> Response:
    """The daily close: home phases past their last day end; what was not recorded is missed."""
    ended = home.end_finished_phases(ctx, helpers.local_today(ctx, zone))
    return helpers.redirect_to("/isolation/home-tasks", done="closed", ended=ended)


@router.post("/isolation/home-tasks/{task_id}")
def record_home_task(ctx: UserCtx, request: Request, zone: ZoneDep, form: FormDep, task_id: int) -> Response:
    """Record a task done, or missed with a note; a refusal comes back on the task's row, nothing stored."""
    t = request_translations(request)
    page = _read_int(form.get("page")) or 1
    status, note = form.get("status", ""), form.get("note", "").strip()
    refusal = Refusal(task_id, typed={"note": note})
    try:
        data = HomeTaskRecord(status=status, note=note)  # the form's text, checked by the model
        home.record_home_task(ctx, task_id, data, helpers.local_today(ctx, zone))
    except ValidationError:
        refusal.errors["form"] = t.gettext("Choose done or missed; a note takes at most 255 characters.")
    except FieldError as error:
        refusal.errors["note" if error.field == "note" else "form"] = wordings.describe(error.reason, t)
    except Conflict as error:
        refusal.errors["form"] = wordings.describe(str(error), t)
    if refusal.errors:
        ctx.session.rollback()
        message = t.gettext("Nothing recorded: see the marked task.")
        return _home_page(ctx, request, zone, page, refusal=refusal, flashes=[("error", message)], status_code=422)
    return helpers.redirect_to("/isolation/home-tasks", "#tasks", page=page if page > 1 else None, done=status)
