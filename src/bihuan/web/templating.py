"""Server-rendered pages: one Jinja2 environment per language, and ``render``, which every ``pages.py`` calls.

Each language has its own cached ``Environment`` with that language's translations
installed once, so concurrent requests in different languages never share gettext
state. Templates see, besides their own context:

- ``request``, ``lang`` (``"zh-CN"`` or ``"en"``), ``current_user`` (``request.state.user`` or None)
  and ``user_summary`` (a ``UserSummary`` of it for the nav bar, or None);
- ``_()``, ``gettext``, ``ngettext`` and ``{% trans %}`` (new-style gettext);
- ``url_with_lang(lang)``, ``url_with_params(**params)`` and ``static_url(path)``;
- ``SUPPORTED_LANGUAGES``, ``LANGUAGE_NAMES`` and ``page_window(page, page_size, count)``;
- the filters ``datetime``, ``date``, ``time``, ``number`` and ``percent`` (see ``formatting``).

Macros that use the request-bound helpers must be imported ``with context``:
``{% import "macros.html" as m with context %}``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from bihuan.core.choices import Role
from bihuan.web.formatting import filters_for
from bihuan.web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    LANGUAGE_QUERY_PARAM,
    SUPPORTED_LANGUAGES,
    get_translations,
    negotiate_language,
    normalize_language,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_PREFIX = "/static"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class UserSummary:
    """What the nav bar shows of the signed-in user: name, role (code and label) and jurisdiction."""

    name: str
    role: str | None
    role_label: str | None
    jurisdiction: str | None


def summarize_user(user: object | None, language: str = DEFAULT_LANGUAGE) -> UserSummary | None:
    """The nav-bar view of a user object, tolerant of how the auth layer names its attributes.

    Reads the first present of ``display_name`` / ``full_name`` / ``name`` / ``username``; ``role``
    (a ``core.choices.Role`` value, labelled in Chinese or spelled out in English); and
    ``jurisdiction_name``, else ``jurisdiction.name``, else ``jurisdiction`` when it is a string.
    """
    if user is None:
        return None
    name = _first_attribute(user, "display_name", "full_name", "name", "username") or str(user)
    role = getattr(user, "role", None)
    role_code = None if role is None else str(getattr(role, "value", role))
    jurisdiction = getattr(user, "jurisdiction_name", None)
    if not jurisdiction:
        place = getattr(user, "jurisdiction", None)
        jurisdiction = getattr(place, "name", None) or (place if isinstance(place, str) else None)
    return UserSummary(
        name=str(name),
        role=role_code,
        role_label=None if role_code is None else role_label(role_code, language),
        jurisdiction=jurisdiction,
    )


def role_label(role_code: str, language: str) -> str:
    """A role as the nav bar names it: ``指挥人员`` in Chinese, ``Commander`` in English."""
    if language == "zh-CN":
        try:
            return Role(role_code).label_zh
        except ValueError:
            pass
    return role_code.replace("_", " ").capitalize()


def _first_attribute(obj: object, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value:
            return value
    return None


def default_language(request: Request) -> str:
    """The app's configured language (``app.state.settings.lang``), else zh-CN."""
    settings = getattr(getattr(request.app, "state", None), "settings", None)
    return normalize_language(getattr(settings, "lang", None)) or DEFAULT_LANGUAGE


def request_language(request: Request) -> str:
    """The language of this request's page: ``?lang=``, else the cookie, else Accept-Language, else default."""
    return negotiate_language(
        request.query_params.get(LANGUAGE_QUERY_PARAM),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
        default_language(request),
    )


def request_translations(request: Request) -> Translations:
    """The translations of this request's language, for messages composed in Python (flash, errors)."""
    return get_translations(request_language(request))


def url_with_params(request: Request, **params: Any) -> str:
    """The current path and query with ``params`` set (a None value removes the parameter)."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key not in params]
    query += [(key, str(value)) for key, value in params.items() if value is not None]
    path = request.url.path
    return f"{path}?{urlencode(query)}" if query else path


def url_with_lang(request: Request, lang: str) -> str:
    """The current page in another language (``?lang=`` also stores the choice in a cookie)."""
    return url_with_params(request, **{LANGUAGE_QUERY_PARAM: lang})


def page_window(page: int, page_size: int, count: int, *, around: int = 2) -> list[int | None]:
    """Page numbers to offer: the first, the last and ``around`` either side of ``page``; None marks a gap.

    A gap of a single page shows that page instead of an ellipsis.
    """
    last = max(1, math.ceil(count / page_size)) if page_size > 0 else 1
    shown = {1, last, *range(max(1, page - around), min(last, page + around) + 1)}
    window: list[int | None] = []
    previous = 0
    for number in sorted(shown):
        if number - previous == 2:
            window.append(number - 1)
        elif number - previous > 2:
            window.append(None)
        window.append(number)
        previous = number
    return window


def _request_of(context: Context) -> Request:
    request: Request | None = context.get("request")
    if request is None:
        raise RuntimeError("no request in the template context: import macros 'with context'")
    return request


@pass_context
def _url_with_lang_global(context: Context, lang: str) -> str:
    return url_with_lang(_request_of(context), lang)


@pass_context
def _url_with_params_global(context: Context, **params: Any) -> str:
    return url_with_params(_request_of(context), **params)


@pass_context
def _static_url_global(context: Context, path: str) -> str:
    scope = getattr(context.get("request"), "scope", {})
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    return f"{root_path}{STATIC_PREFIX}/{path.lstrip('/')}"


@functools.cache
def get_environment(language: str) -> Environment:
    """The Jinja2 environment of one supported language, built once per process."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {SUPPORTED_LANGUAGES}")
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(get_translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(filters_for(language))
    env.globals.update(
        SUPPORTED_LANGUAGES=SUPPORTED_LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        page_window=page_window,
        url_with_lang=_url_with_lang_global,
        url_with_params=_url_with_params_global,
        static_url=_static_url_global,
    )
    return env


def render(request: Request, template_name: str, context: Mapping[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """Render a template in the request's language; a valid ``?lang=`` is also remembered in a cookie."""
    language = request_language(request)
    request.state.lang = language
    user = getattr(request.state, "user", None)
    page_context = {
        "request": request,
        "lang": language,
        "current_user": user,
        "user_summary": summarize_user(user, language),
        **context,
    }
    html = get_environment(language).get_template(template_name).render(page_context)
    response = HTMLResponse(html, status_code=status_code)
    response.headers.add_vary_header("Accept-Language")
    response.headers.add_vary_header("Cookie")
    chosen = normalize_language(request.query_params.get(LANGUAGE_QUERY_PARAM))
    if chosen is not None and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
