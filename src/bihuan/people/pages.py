"""Pages of the register: people search, a person's card with the logged reveal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bihuan.core.deps import UserCtx
from bihuan.core.errors import FieldError
from bihuan.core.permissions import Permission, can
from bihuan.people import service
from bihuan.people.schemas import Page, PersonPublic
from bihuan.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/people")
def people_search(
    ctx: UserCtx, request: Request, q: str = "", resident_id: str = "", phone: str = "", page: int = 1
) -> Response:
    """Search by name prefix, exact resident ID or phone; results masked and scoped."""
    error = None
    rows: list[PersonPublic] = []
    count = 0
    try:
        rows, count = service.list_persons(
            ctx, Page(page=max(page, 1), page_size=25), q=q, resident_id=resident_id, phone=phone
        )
    except FieldError as exc:
        error = f"{exc.field}: {exc.reason}"
    context = {
        "persons": rows,
        "count": count,
        "page": max(page, 1),
        "page_size": 25,
        "q": q,
        "resident_id": resident_id,
        "phone": phone,
        "error": error,
    }
    if request.headers.get("hx-request"):
        return render_partial(request, context)
    return _render(request, "people/search.html", context)


def render_partial(request: Request, context: dict[str, object]) -> Response:
    return _render(request, "people/_results.html", context)


def _render(request: Request, template: str, context: dict[str, object], status_code: int = 200) -> Response:
    return render(request, template, context, status_code=status_code)


@router.get("/people/{person_id}")
def person_card(ctx: UserCtx, request: Request, person_id: int) -> Response:
    person = service.get_person(ctx, person_id)
    return _render(
        request,
        "people/person.html",
        {"person": person, "may_reveal": can(ctx.actor, Permission.REVEAL_IDENTITY), "revealed": None},
    )


@router.post("/people/{person_id}/reveal")
def person_reveal(ctx: UserCtx, request: Request, person_id: int, reason: Annotated[str, Form()] = "") -> Response:
    """Show the full numbers once, for a reason that goes into the audit trail."""
    person = service.get_person(ctx, person_id)
    context: dict[str, object] = {"person": person, "may_reveal": True, "revealed": None, "error": None}
    try:
        context["revealed"] = service.reveal_identity(ctx, person_id, reason)
    except FieldError as exc:
        context["error"] = exc.reason
    return _render(request, "people/person.html", context, status_code=200 if context["revealed"] else 422)
