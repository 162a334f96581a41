"""Browser tests: a real server on a free local port, driven by Playwright in Debian's headless Chromium.

Skipped when Chromium is missing, unless BIHUAN_REQUIRE_BROWSER=1 (as in CI), which makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from bihuan.app import create_app
from bihuan.config import Settings
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

CHROMIUM = os.environ.get("BIHUAN_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served_profile() -> str:
    """The protocol profile the test server runs (a shipped name or a TOML path); a module may serve its own."""
    return "cn-8th-2021"


@pytest.fixture
def live_server(database: Database, clock: SimulatedClock, served_profile: str, tmp_path: Path) -> Iterator[str]:
    """The platform served on 127.0.0.1 for the length of one test."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url, profile=served_profile)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, database=database, clock=clock), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(live_server: str):  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        if os.environ.get("BIHUAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required (BIHUAN_REQUIRE_BROWSER=1) but missing at {CHROMIUM}")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context(locale="zh-CN")
        yield context.new_page()
        context.close()
        browser.close()
