"""Pages of the command system (指挥体系): incidents (平转战), an incident's task forces (专班) and their open
tasks, and the task list where a task moves on in one tap.

Every form is a plain post answered with a redirect (or, when refused, the same page again with the
reason next to its field and what was typed kept), so it all works without JavaScript. The rules live
in the command service; this module reads the forms into its shapes and words its answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.support import Translations
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from bihuan.command import service
from bihuan.command.choices import FINAL_TASK_STATUSES, IncidentStatus, TaskStatus
from bihuan.command.schemas import IncidentCreate, IncidentPublic, MemberIn, TaskCreate, TaskPublic, TaskUpdate
from bihuan.core.auth_models import User
from bihuan.core.context import Ctx
from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.core.errors import Conflict, FieldError
from bihuan.core.permissions import Permission, can, require
from bihuan.people.schemas import MAX_PAGE_SIZE, Page
from bihuan.people.service import in_scope, list_jurisdictions
from bihuan.protocol import ProtocolProfile
from bihuan.web.templating import render, request_language, request_translations

router = APIRouter(include_in_schema=False)
Flashes = list[tuple[str, str]]
TASKS_PER_PAGE = 50
_NEXT_MOVES = {  # the one-tap buttons of a task in each open status
    TaskStatus.OPEN: (TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.CANCELLED),
    TaskStatus.IN_PROGRESS: (TaskStatus.DONE, TaskStatus.OPEN, TaskStatus.CANCELLED),
}


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {key: value for key, value in data.items() if isinstance(value, str)}


FormDep = Annotated[dict[str, str], Depends(_form)]


@dataclass
class Refused:
    """A form sent back: what was typed and each field's complaint (``form``: the whole form's)."""

    form: str
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _redirect(path: str, **query: Any) -> RedirectResponse:
    params = urlencode({k: v for k, v in query.items() if v not in (None, "")})
    return RedirectResponse(f"{path}?{params}" if params else path, status_code=303)


def _validation_errors(error: ValidationError, t: Translations) -> dict[str, str]:
    """Pydantic's complaints by field, in the page language (the field names the form's inputs)."""
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][-1]) if item["loc"] else "form"
        found.setdefault(name, t.gettext("Check this value: %(reason)s") % {"reason": item["msg"]})
    return found


def task_status_labels(t: Translations) -> dict[str, str]:
    return {
        TaskStatus.OPEN: t.gettext("To do"),
        TaskStatus.IN_PROGRESS: t.gettext("In progress"),
        TaskStatus.DONE: t.gettext("Done"),
        TaskStatus.CANCELLED: t.gettext("Cancelled"),
    }


def _force_names(request: Request, profile: ProtocolProfile) -> dict[str, str]:
    english = request_language(request) == "en"
    return {t.link.value: (t.name_en or t.name) if english else t.name for t in profile.command.task_forces}


def _user_names(ctx: Ctx, user_ids: set[int] | None = None) -> dict[int, str]:
    """Users by id as the pages name them; all active users the actor's jurisdiction holds when no ids are given."""
    stmt = select(User.id, User.display_name, User.username)
    if user_ids is None:
        stmt = in_scope(ctx, stmt.where(User.active.is_(True)), User.jurisdiction_id).order_by(User.username)
    else:
        stmt = stmt.where(User.id.in_(sorted(user_ids)))
    return {int(i): f"{name or username} ({username})" for i, name, username in ctx.session.execute(stmt)}


# -- incidents (平转战) -------------------------------------------------------------------------------------


def _incidents_page(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    page: int,
    *,
    refused: Refused | None = None,
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    rows, count = service.list_incidents(ctx, Page(page=page, page_size=TASKS_PER_PAGE))
    may_manage = can(ctx.actor, Permission.MANAGE_INCIDENTS)
    places, _ = list_jurisdictions(ctx, Page(page=1, page_size=MAX_PAGE_SIZE)) if may_manage else ([], 0)
    context = {
        "incidents": rows,
        "count": count,
        "page": page,
        "page_size": TASKS_PER_PAGE,
        "jurisdictions": places,
        "forces": _force_names(request, profile),
        "wartime_hours": profile.command.wartime_report_hours,
        "peacetime_hours": profile.command.peacetime_report_hours,
        "may_manage": may_manage,
        "refused": refused,
        "flashes": flashes or [],
    }
    return render(request, "command/incidents.html", context, status_code=status_code)


@router.get("/command/incidents")
def incident_list(ctx: UserCtx, request: Request, profile: ProfileDep, page: int = 1) -> Response:
    """Incidents of your jurisdiction, the newest first, and the activation form (平转战)."""
    return _incidents_page(ctx, request, profile, max(page, 1))


@router.post("/command/incidents")
def activate(ctx: UserCtx, request: Request, profile: ProfileDep, form: FormDep) -> Response:
    """Switch a jurisdiction to wartime; refused with the reason next to its field, nothing stored."""
    require(ctx.actor, Permission.MANAGE_INCIDENTS)
    t = request_translations(request)
    typed = {k: form.get(k, "").strip() for k in ("jurisdiction_id", "name", "reason")}
    refused = Refused("activate", typed)
    try:
        data = IncidentCreate.model_validate(typed)
        incident = service.activate_incident(ctx, profile, data)
    except ValidationError as error:
        refused.errors = _validation_errors(error, t)
    except FieldError as error:
        refused.errors[error.field] = error.reason
    except Conflict as error:
        refused.errors["form"] = str(error)
    if refused.errors:
        ctx.session.rollback()
        message = t.gettext("Nothing activated: see the marked field.")
        return _incidents_page(ctx, request, profile, 1, refused=refused, flashes=[("error", message)], status_code=422)
    return _redirect(f"/command/incidents/{incident.id}", done="activated")


def _incident_page(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    incident_id: int,
    *,
    refused: Refused | None = None,
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    incident = service.read_incident(ctx, incident_id)
    tasks, _ = service.list_tasks(ctx, Page(page=1, page_size=MAX_PAGE_SIZE), incident_id=incident_id)
    open_tasks: dict[str, list[TaskPublic]] = {}
    for task in tasks:
        if task.status not in FINAL_TASK_STATUSES:
            open_tasks.setdefault(task.task_force.value, []).append(task)
    members = {u for f in incident.task_forces for u in f.members}
    may_manage = can(ctx.actor, Permission.MANAGE_INCIDENTS) and incident.status == IncidentStatus.ACTIVE
    context = {
        "incident": incident,
        "open_tasks": open_tasks,
        "names": _user_names(ctx, members),
        "candidates": _user_names(ctx) if may_manage else {},
        "english": request_language(request) == "en",
        "status_labels": task_status_labels(request_translations(request)),
        "may_manage": may_manage,
        "refused": refused,
        "flashes": flashes or [],
    }
    return render(request, "command/incident.html", context, status_code=status_code)


def _incident_flashes(t: Translations, done: str, left: int) -> Flashes:
    words = {
        "activated": t.gettext("Incident activated: its task forces are open and reports come at the wartime cadence."),
        "member": t.gettext("Member added to the task force."),
        "deactivated": t.gettext("Incident stood down; open tasks kept: %(n)s.") % {"n": left},
    }
    return [("success", words[done])] if done in words else []


@router.get("/command/incidents/{incident_id}")
def incident_detail(
    ctx: UserCtx, request: Request, profile: ProfileDep, incident_id: int, done: str = "", left: int = 0
) -> Response:
    """An incident: its task forces with their members, the open tasks of each, and standing it down."""
    flashes = _incident_flashes(request_translations(request), done, left)
    return _incident_page(ctx, request, profile, incident_id, flashes=flashes)


@router.post("/command/incidents/{incident_id}/task-forces/{link}/members")
def add_member(
    ctx: UserCtx, request: Request, profile: ProfileDep, form: FormDep, incident_id: int, link: str
) -> Response:
    """Add a user to a task force (its lead when ticked); a refusal comes back on the task force's form."""
    require(ctx.actor, Permission.MANAGE_INCIDENTS)
    t = request_translations(request)
    typed = {"user_id": form.get("user_id", "").strip(), "lead": "1" if form.get("lead") else ""}
    refused = Refused(f"member-{link}", typed)
    try:
        data = MemberIn.model_validate({"user_id": typed["user_id"], "lead": bool(typed["lead"])})
        service.add_member(ctx, incident_id, link, data)
    except ValidationError as error:
        refused.errors = _validation_errors(error, t)
    except FieldError as error:
        refused.errors["user_id" if error.field == "user_id" else "form"] = error.reason
    except Conflict as error:
        refused.errors["form"] = str(error)
    if refused.errors:
        ctx.session.rollback()
        message = t.gettext("Nobody added: see the marked field.")
        return _incident_page(
            ctx, request, profile, incident_id, refused=refused, flashes=[("error", message)], status_code=422
        )
    return _redirect(f"/command/incidents/{incident_id}", done="member")


@router.post("/command/incidents/{incident_id}/deactivate")
def deactivate(ctx: UserCtx, request: Request, profile: ProfileDep, form: FormDep, incident_id: int) -> Response:
    """Back to peacetime with a reason: task forces stand down, open tasks are kept."""
    require(ctx.actor, Permission.MANAGE_INCIDENTS)
    t = request_translations(request)
    reason = form.get("reason", "").strip()
    if not reason or len(reason) > 255:
        refused = Refused("deactivate", {"reason": reason})
        refused.errors["reason"] = t.gettext("Give the reason for standing down, in at most 255 characters.")
        return _incident_page(ctx, request, profile, incident_id, refused=refused, status_code=422)
    stood_down = service.deactivate_incident(ctx, profile, incident_id, reason)
    return _redirect(f"/command/incidents/{incident_id}", done="deactivated", left=len(stood_down.open_tasks))


# -- tasks (任务) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFilters:
    """The task list's filters as the query carries them (blank: any)."""

    status: str = ""
    task_force: str = ""
    overdue: str = ""  # "yes", "no" or blank
    incident_id: str = ""
    page: int = 1

    def query(self, **changes: Any) -> dict[str, Any]:
        values = {
            "status": self.status,
            "task_force": self.task_force,
            "overdue": self.overdue,
            "incident_id": self.incident_id,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}

    @property
    def back(self) -> str:
        params = urlencode(self.query())
        return f"/command/tasks?{params}" if params else "/command/tasks"


def _filters(status: str, task_force: str, overdue: str, incident_id: str, page: int) -> TaskFilters:
    status = status if status in set(TaskStatus) else ""
    overdue = overdue if overdue in ("yes", "no") else ""
    return TaskFilters(status, task_force.strip(), overdue, incident_id if incident_id.isdigit() else "", max(page, 1))


def _tasks_page(
    ctx: Ctx,
    request: Request,
    profile: ProtocolProfile,
    zone: ZoneInfo,
    filters: TaskFilters,
    *,
    refused: Refused | None = None,
    flashes: Flashes | None = None,
    status_code: int = 200,
) -> Response:
    t = request_translations(request)
    rows, count = service.list_tasks(
        ctx,
        Page(page=filters.page, page_size=TASKS_PER_PAGE),
        incident_id=int(filters.incident_id) if filters.incident_id else None,
        task_force=filters.task_force or None,
        status=TaskStatus(filters.status) if filters.status else None,
        overdue={"yes": True, "no": False}.get(filters.overdue),
    )
    active, _ = service.list_incidents(ctx, Page(page=1, page_size=MAX_PAGE_SIZE), status=IncidentStatus.ACTIVE)
    context = {
        "tasks": rows,
        "count": count,
        "filters": filters,
        "page": filters.page,
        "page_size": TASKS_PER_PAGE,
        "forces": _force_names(request, profile),
        "status_labels": task_status_labels(t),
        "moves": _NEXT_MOVES,
        "incidents": _incident_names(active),
        "may_create": can(ctx.actor, Permission.MANAGE_TASKS) and bool(active),
        "may_update": _updatable(ctx, rows),
        "zone": zone.key,
        "refused": refused,
        "flashes": flashes or [],
    }
    return render(request, "command/tasks.html", context, status_code=status_code)


def _incident_names(incidents: list[IncidentPublic]) -> dict[int, str]:
    return {i.id: f"{i.name} · {i.jurisdiction_name}" for i in incidents}


def _updatable(ctx: Ctx, rows: list[TaskPublic]) -> set[int]:
    """The tasks the user may move: any for a commander, their own task forces' for a member."""
    if can(ctx.actor, Permission.MANAGE_TASKS):
        return {task.id for task in rows}
    mine: set[tuple[int, str]] = set()
    for incident_id in {task.incident_id for task in rows}:
        for force in service.read_incident(ctx, incident_id).task_forces:
            if ctx.actor.user_id in force.members:
                mine.add((incident_id, force.link.value))
    return {task.id for task in rows if (task.incident_id, task.task_force.value) in mine}


@router.get("/command/tasks")
def task_list(
    ctx: UserCtx,
    request: Request,
    profile: ProfileDep,
    zone: ZoneDep,
    status: str = "",
    task_force: str = "",
    overdue: str = "",
    incident_id: str = "",
    page: int = 1,
    done: str = "",
) -> Response:
    """Tasks of your jurisdiction's incidents, the soonest due first, filtered by status, task force, overdue."""
    t = request_translations(request)
    flashes: Flashes = []
    if done == "created":
        flashes.append(("success", t.gettext("Task created.")))
    elif done in set(TaskStatus):
        label = task_status_labels(t)[TaskStatus(done)]
        flashes.append(("success", t.gettext("Task marked %(status)s.") % {"status": label}))
    filters = _filters(status, task_force, overdue, incident_id, page)
    return _tasks_page(ctx, request, profile, zone, filters, flashes=flashes)


def _form_filters(form: dict[str, str]) -> TaskFilters:
    page = form.get("f_page", "")
    return _filters(
        form.get("f_status", ""),
        form.get("f_task_force", ""),
        form.get("f_overdue", ""),
        form.get("f_incident_id", ""),
        int(page) if page.isdigit() else 1,
    )


def _due_at(text: str, zone: ZoneInfo) -> datetime | str | None:
    """A due time as typed (a datetime-local field: local time of the deployment), or the text if unreadable."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@router.post("/command/tasks")
def create_task(ctx: UserCtx, request: Request, profile: ProfileDep, zone: ZoneDep, form: FormDep) -> Response:
    """A task by hand, due at a time to come; a refusal comes back next to its field, nothing stored."""
    require(ctx.actor, Permission.MANAGE_TASKS)
    t = request_translations(request)
    filters = _form_filters(form)
    typed = {k: form.get(k, "").strip() for k in ("incident_id", "task_force", "title", "detail", "due_at")}
    refused = Refused("create", typed)
    due = _due_at(typed["due_at"], zone)
    try:
        values = {**typed, "due_at": due}
        if isinstance(due, str):
            raise FieldError("due_at", t.gettext("Give the due time as a date and time."))
        service.create_task(ctx, TaskCreate.model_validate(values))
    except ValidationError as error:
        refused.errors = _validation_errors(error, t)
    except FieldError as error:
        refused.errors[error.field if error.field in typed else "form"] = error.reason
    if refused.errors:
        ctx.session.rollback()
        message = t.gettext("No task created: see the marked field.")
        return _tasks_page(
            ctx, request, profile, zone, filters, refused=refused, flashes=[("error", message)], status_code=422
        )
    return _redirect("/command/tasks", **filters.query(done="created"))


@router.post("/command/tasks/{task_id}")
def move_task(
    ctx: UserCtx, request: Request, profile: ProfileDep, zone: ZoneDep, form: FormDep, task_id: int
) -> Response:
    """Move a task on in one tap (in progress, done, cancelled, back to do); a refusal comes back on its row."""
    t = request_translations(request)
    filters = _form_filters(form)
    refused = Refused(f"task-{task_id}")
    status = form.get("status", "")
    try:
        service.update_task(ctx, task_id, TaskUpdate.model_validate({"status": status}))
    except ValidationError:
        refused.errors["form"] = t.gettext("Choose one of the task's next steps.")
    except Conflict as error:
        refused.errors["form"] = str(error)
    if refused.errors:
        ctx.session.rollback()
        message = t.gettext("The task was not changed: see its row.")
        return _tasks_page(
            ctx, request, profile, zone, filters, refused=refused, flashes=[("error", message)], status_code=422
        )
    return _redirect("/command/tasks", **filters.query(done=status))
