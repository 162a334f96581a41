"""Login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from bihuan.core import auth
from bihuan.core.deps import SESSION_COOKIE, PublicCtx, session_token
from bihuan.web.i18n import get_translations
from bihuan.web.templating import render, request_language

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only paths on this site, never another host."""
    return target if target.startswith("/") and not target.startswith("//") else "/people"


def _login_page(request: Request, **context: object) -> Response:
    demo_logins = getattr(request.app.state, "demo_logins", None)
    return render(
        request, "login.html", {"demo_logins": demo_logins, **context}, status_code=401 if context.get("error") else 200
    )


@router.get("/login")
def login_form(request: Request, next: str = "/people") -> Response:
    return _login_page(request, next=_safe_next(next))


@router.post("/login")
def login(
    ctx: PublicCtx,
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/people",
) -> Response:
    hours = request.app.state.settings.session_hours
    try:
        token, _user = auth.login(ctx, username, password, hours=hours)
    except auth.LoginFailed:
        message = get_translations(request_language(request)).gettext("Unknown user or wrong password.")
        return _login_page(request, error=message, username=username, next=_safe_next(next))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", max_age=hours * 3600)
    return response


@router.post("/logout")
def logout(ctx: PublicCtx, request: Request) -> Response:
    token = session_token(request)
    if token:
        auth.logout(ctx, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home() -> Response:
    return RedirectResponse("/people", status_code=303)
