"""Rendering pages: language per request, the nav bar, the shared macros and the static mount."""

from __future__ import annotations

import datetime as dt
import enum
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from starlette.exceptions import StarletteDeprecationWarning

from bihuan.web.formatting import format_datetime, format_number, format_percent
from bihuan.web.i18n import LANGUAGE_COOKIE
from bihuan.web.static import mount_static
from bihuan.web.templating import get_environment, page_window, render, role_label, summarize_user, url_with_params

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 under its TestClient; until it is a dev dependency, plain httpx works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

COMMANDER = SimpleNamespace(display_name="王芳", role="commander", jurisdiction_name="西湖区")


def make_app(default_lang: str | None = None) -> FastAPI:
    """A tiny app whose routes render the shell's templates; ?as=commander signs a user in."""
    app = FastAPI()
    if default_lang is not None:
        app.state.settings = SimpleNamespace(lang=default_lang)
    mount_static(app)

    def sign_in(request: Request) -> None:
        if request.query_params.get("as") == "commander":
            request.state.user = COMMANDER

    @app.get("/people")
    def people(request: Request) -> Any:
        sign_in(request)
        return render(request, "base.html", {})

    @app.get("/login")
    def login(request: Request) -> Any:
        demo = request.query_params.get("demo") == "1"
        context = {"error": request.query_params.get("error"), "next": "/people"}
        if demo:
            context["demo_logins"] = [{"username": "commander", "password": "demo-pass", "role": "commander"}]
        return render(request, "login.html", context)

    @app.get("/missing")
    def missing(request: Request) -> Any:
        return render(request, "error.html", {"status_code": 404}, status_code=404)

    return app


def client(default_lang: str | None = None, **kwargs: Any) -> TestClient:
    return TestClient(make_app(default_lang), **kwargs)


# ---- Language per request ------------------------------------------------------------------------------


def test_chinese_page_shows_chinese_nav() -> None:
    response = client().get("/people?as=commander&lang=zh-CN")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert ">人员</a>" in response.text
    assert ">审计</a>" in response.text
    assert "退出登录" in response.text
    assert "闭环 Bihuan" in response.text


def test_english_page_shows_english_nav() -> None:
    response = client().get("/people?as=commander&lang=en")
    assert '<html lang="en">' in response.text
    assert ">People</a>" in response.text
    assert ">Audit</a>" in response.text
    assert "Log out" in response.text
    assert "人员" not in response.text


def test_lang_query_is_remembered_in_a_cookie_for_the_next_pages() -> None:
    browser = client()
    first = browser.get("/people?lang=en")
    assert first.cookies.get(LANGUAGE_COOKIE) == "en"
    assert "HttpOnly" in first.headers["set-cookie"]
    later = browser.get("/people", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in later.text


def test_an_unsupported_lang_query_is_ignored_and_sets_no_cookie() -> None:
    response = client().get("/people?lang=fr", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in response.text
    assert "set-cookie" not in response.headers


def test_cookie_beats_accept_language() -> None:
    response = client(cookies={LANGUAGE_COOKIE: "zh-CN"}).get("/people", headers={"Accept-Language": "en"})
    assert '<html lang="zh-CN">' in response.text


def test_accept_language_is_used_without_query_or_cookie() -> None:
    response = client().get("/people", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in response.text
    assert "Accept-Language" in response.headers["vary"]


def test_the_apps_configured_language_is_the_default() -> None:
    assert '<html lang="en">' in client(default_lang="en").get("/people").text
    assert '<html lang="zh-CN">' in client().get("/people").text


def test_language_switch_links_to_the_same_page_keeping_its_parameters() -> None:
    text = client().get("/people?q=%E7%8E%8B&page=2&lang=zh-CN").text
    assert 'href="/people?q=%E7%8E%8B&amp;page=2&amp;lang=en"' in text
    assert 'aria-current="true">中文</span>' in text


# ---- The nav bar and the shell's pages -----------------------------------------------------------------


def test_signed_in_user_sees_name_role_jurisdiction_and_a_logout_form() -> None:
    text = client().get("/people?as=commander&lang=zh-CN").text
    assert "王芳" in text
    assert 'data-role="commander">指挥人员</span>' in text
    assert "西湖区" in text
    assert '<form method="post" action="/logout"' in text
    assert 'href="/people" aria-current="page"' in text


def test_anonymous_visitor_sees_no_nav_links_and_no_logout() -> None:
    text = client().get("/people?lang=en").text
    assert 'href="/people"' not in text
    assert "/logout" not in text


def test_login_form_posts_username_password_and_next() -> None:
    text = client().get("/login?lang=en&error=Wrong+password").text
    assert '<form method="post" action="/login"' in text
    for name in ("username", "password", "next"):
        assert f'name="{name}"' in text
    assert 'value="/people"' in text
    assert 'role="alert">Wrong password</div>' in text
    assert "Demo accounts" not in text


def test_login_page_lists_demo_logins_when_given() -> None:
    text = client().get("/login?lang=zh-CN&demo=1").text
    assert "演示账号" in text
    assert "<code>demo-pass</code>" in text


def test_error_page_shows_status_and_a_translated_heading() -> None:
    response = client().get("/missing?lang=zh-CN")
    assert response.status_code == 404
    assert '<p class="error-code">404</p>' in response.text
    assert "<h1>未找到</h1>" in response.text


def test_static_mount_serves_the_vendored_assets_and_the_stylesheet() -> None:
    browser = client()
    for path in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/vendor/echarts/echarts.min.js",
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/images/marker-icon.png",
        "/static/css/bihuan.css",
    ):
        assert browser.get(path).status_code == 200, path
    page = browser.get("/people").text
    assert 'src="/static/vendor/htmx/htmx.min.js"' in page
    assert 'href="/static/css/bihuan.css"' in page


# ---- Macros ----------------------------------------------------------------------------------------------


def request_for(path: str = "/people", query: str = "") -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": []})


def render_string(source: str, language: str = "en", **context: Any) -> str:
    template = get_environment(language).from_string('{% import "macros.html" as m with context %}' + source)
    return template.render(request=request_for(query="q=x&page=3"), lang=language, **context)


def test_pagination_summarises_and_links_pages_keeping_the_filters() -> None:
    html = render_string("{{ m.pagination(3, 50, 1234) }}")
    assert "Showing 101–150 of 1,234" in html
    assert 'href="/people?q=x&amp;page=4" rel="next"' in html
    assert 'aria-current="page">3</span>' in html
    assert "第 101–150 条，共 1,234 条" in render_string("{{ m.pagination(3, 50, 1234) }}", "zh-CN")


def test_pagination_of_an_empty_list_says_so_and_offers_no_pages() -> None:
    html = render_string("{{ m.pagination(1, 50, 0) }}", "zh-CN")
    assert "暂无记录" in html
    assert "pagination-pages" not in html


def test_flashes_accept_strings_pairs_and_mappings() -> None:
    html = render_string(
        "{{ m.flashes(items) }}",
        items=["Saved", ("error", "Refused"), {"category": "warning", "text": "Check"}],
    )
    assert '<div class="flash flash-info" role="status">Saved</div>' in html
    assert '<div class="flash flash-error" role="alert">Refused</div>' in html
    assert '<div class="flash flash-warning" role="alert">Check</div>' in html


def test_table_shows_its_rows_or_an_empty_message() -> None:
    rows = render_string('{% call m.table(["Name"], count=1) %}<tr><td>王芳</td></tr>{% endcall %}')
    assert "<td>王芳</td>" in rows
    empty = render_string('{% call m.table(["Name", "Age"], count=0) %}<tr>never</tr>{% endcall %}', "zh-CN")
    assert '<td colspan="2">暂无记录</td>' in empty
    assert "never" not in empty


def test_templates_escape_what_they_are_given() -> None:
    html = render_string("{{ m.flashes(items) }}", items=["<script>alert(1)</script>"])
    assert "<script>" not in html


# ---- Helpers and filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "count", "expected"),
    [
        (1, 0, [1]),
        (1, 120, [1, 2, 3]),
        (5, 500, [1, 2, 3, 4, 5, 6, 7, None, 10]),
        (10, 500, [1, None, 8, 9, 10]),
    ],
)
def test_page_window_offers_first_last_and_neighbours(page: int, count: int, expected: list[int | None]) -> None:
    assert page_window(page, 50, count) == expected


def test_url_with_params_replaces_and_removes_parameters() -> None:
    request = request_for(query="q=x&page=3&lang=en")
    assert url_with_params(request, page=4) == "/people?q=x&lang=en&page=4"
    assert url_with_params(request, q=None, page=None, lang=None) == "/people"


def test_user_summary_reads_an_enum_role_and_a_jurisdiction_object() -> None:
    class Role(enum.Enum):
        COMMANDER = "commander"

    user = SimpleNamespace(username="wf", role=Role.COMMANDER, jurisdiction=SimpleNamespace(name="西湖区"))
    summary = summarize_user(user, "en")
    assert summary is not None
    assert (summary.name, summary.role, summary.role_label, summary.jurisdiction) == (
        "wf",
        "commander",
        "Commander",
        "西湖区",
    )
    assert summarize_user(None) is None


@pytest.mark.parametrize(
    ("code", "language", "expected"),
    [
        ("commander", "zh-CN", "指挥人员"),
        ("site_manager", "zh-CN", "隔离点管理员"),
        ("site_manager", "en", "Site manager"),
        ("volunteer", "zh-CN", "Volunteer"),  # a role the catalogue does not know is spelled out
    ],
)
def test_role_is_labelled_in_the_page_language(code: str, language: str, expected: str) -> None:
    assert role_label(code, language) == expected


def test_dates_and_numbers_are_written_the_way_each_language_writes_them() -> None:
    moment = dt.datetime(2024, 5, 1, 14, 30)
    assert format_datetime(moment, "zh-CN").startswith("2024年5月1日")
    assert format_datetime(moment, "en").startswith("May 1, 2024")
    assert format_number(1234567.891, "en", digits=2) == "1,234,567.89"
    assert format_percent(0.125, "zh-CN", digits=1) == "12.5%"
    assert format_datetime(None, "en") == "—"


def test_filters_follow_the_template_language() -> None:
    source = "{{ when|date }} {{ n|number }}"
    context = {"when": dt.date(2024, 5, 1), "n": 12345}
    assert get_environment("zh-CN").from_string(source).render(**context) == "2024年5月1日 12,345"
    assert get_environment("en").from_string(source).render(**context) == "May 1, 2024 12,345"


def test_package_exports_are_sorted_and_resolve() -> None:
    import bihuan.web

    assert list(bihuan.web.__all__) == sorted(bihuan.web.__all__)
    for name in bihuan.web.__all__:
        assert getattr(bihuan.web, name) is not None
