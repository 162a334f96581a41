"""The FastAPI application factory: mounts each capability's router and the web pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

import bihuan.subscribers  # noqa: F401  (the loop's event subscribers)
from bihuan.audit.api import router as audit_router
from bihuan.audit.pages import router as audit_pages
from bihuan.command.api import router as command_router
from bihuan.command.capacity_api import router as capacity_router
from bihuan.command.pages import router as command_pages
from bihuan.command.pages_incidents import router as incident_pages
from bihuan.command.pages_situation import router as situation_pages
from bihuan.command.situation_api import router as situation_router
from bihuan.config import Settings, get_settings
from bihuan.core.auth_api import router as auth_router
from bihuan.core.auth_pages import router as auth_pages
from bihuan.core.clock import Clock, SystemClock
from bihuan.core.db import Database
from bihuan.core.errors import BihuanError, FieldError
from bihuan.grouping.api import router as grouping_router
from bihuan.isolation.api import router as isolation_router
from bihuan.isolation.checklist_api import router as checklist_router
from bihuan.isolation.cross_infection_api import router as cross_infection_router
from bihuan.isolation.pages import router as isolation_pages
from bihuan.isolation.pages_tasks import router as isolation_task_pages
from bihuan.isolation.release_api import router as release_router
from bihuan.isolation.testing_api import router as testing_router
from bihuan.loop.api import router as loop_router
from bihuan.people.api import router as people_router
from bihuan.people.outcomes_api import router as outcomes_router
from bihuan.people.pages import router as people_pages
from bihuan.protocol import ProtocolProfile, load_profile
from bihuan.screening.api import router as screening_router
from bihuan.screening.pages import router as screening_pages
from bihuan.tracing.api import router as tracing_router
from bihuan.tracing.pages import router as tracing_pages
from bihuan.tracing.service.runtime import TracingRuntime, configure
from bihuan.tracing.sources import ScanStore
from bihuan.transfer.api import router as transfer_router
from bihuan.transfer.pages import router as transfer_pages
from bihuan.web.formatting import set_display_timezone
from bihuan.web.static import mount_static

API_ROUTERS = (
    auth_router,
    people_router,
    audit_router,
    screening_router,
    tracing_router,
    grouping_router,
    isolation_router,
    checklist_router,
    cross_infection_router,
    testing_router,
    release_router,
    transfer_router,
    loop_router,
    command_router,
    capacity_router,
    situation_router,
    outcomes_router,
)
PAGE_ROUTERS = (
    auth_pages,
    people_pages,
    audit_pages,
    screening_pages,
    tracing_pages,
    transfer_pages,
    isolation_pages,
    isolation_task_pages,
    command_pages,
    incident_pages,
    situation_pages,
)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    profile: ProtocolProfile | None = None,
) -> FastAPI:
    """Build the app; tests and drills hand in their own database, (simulated) clock and loaded profile
    (else the settings' profile is loaded)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Bihuan 闭环",
        version="0.1.0",
        description="Outbreak response command platform",
        docs_url=None,  # served below from vendored Swagger UI: nothing is fetched from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database or Database(settings.resolved_database_url)
    app.state.clock = clock or SystemClock()
    app.state.profile = profile or load_profile(settings.profile)
    set_display_timezone(settings.timezone)
    configure(app.state.database, tracing_runtime(settings, app.state.profile))
    for router in API_ROUTERS:
        app.include_router(router)
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.add_api_route("/docs", _api_docs, include_in_schema=False)
    mount_static(app)
    app.add_exception_handler(BihuanError, _bihuan_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    return app


def tracing_runtime(settings: Settings, profile: ProtocolProfile) -> TracingRuntime:
    """Tracing's wiring for this deployment: its profile, the scan store under the data dir, its zone."""
    return TracingRuntime(
        profile=profile,
        store=ScanStore.under(settings.data_dir),
        timezone=settings.timezone,
        spark_master=settings.spark_master,
    )


async def _api_docs() -> Response:
    """OpenAPI docs with the vendored Swagger UI."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Bihuan 闭环 API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
    )


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "text/html")


async def _bihuan_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, BihuanError)
    if _wants_html(request):
        if error.status_code == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        from bihuan.web.templating import render

        return render(
            request,
            "error.html",
            {"status_code": error.status_code, "message": str(error)},
            status_code=error.status_code,
        )
    if isinstance(error, FieldError):
        detail = [{"loc": ["body", error.field], "msg": error.reason, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=error.status_code)
    return JSONResponse({"detail": str(error)}, status_code=error.status_code)


async def _integrity_error(request: Request, error: Exception) -> Response:
    return JSONResponse(
        {"detail": "conflict: the change clashes with stored data (a duplicate code or number)"}, status_code=409
    )
