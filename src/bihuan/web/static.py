"""The ``/static`` mount: CSS and the vendored htmx, ECharts and Leaflet, served from the package itself."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bihuan.web.templating import STATIC_PREFIX

STATIC_DIR = Path(__file__).resolve().parent / "static"


def mount_static(app: FastAPI) -> None:
    """Serve the package's ``web/static`` directory at ``/static``; templates link it with ``static_url(path)``."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR, check_dir=True), name="static")
