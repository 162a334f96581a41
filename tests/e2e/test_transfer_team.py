"""A command centre plans from the board; a transfer team works its batch on a phone, in the browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from tests.factories import PASSWORD, make_user
from tests.transfer.factories import identify_contacts, make_household, make_transfer_world

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.grouping.models import TransferRequest
from bihuan.protocol import TransferCategory

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _log_in(page, live_server: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form#login-form button[type=submit]")


def test_a_plan_made_on_the_board_is_driven_to_the_site_from_a_phone(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    world = make_transfer_world(database, clock)
    family = make_household(database, clock, world.district.building_a, 2)
    identify_contacts(database, clock, family, TransferCategory.CLOSE_CONTACT)
    commander = make_user(database, clock, Role.COMMANDER, world.district.province)
    team = make_user(database, clock, Role.TRANSFER, world.district.province)

    _log_in(page, live_server, commander)
    page.goto(f"{live_server}/transfer")
    expect(page.locator("#waiting-count")).to_contain_text("2")
    page.click("form#plan-form button[type=submit]")
    expect(page.locator("#plan-result")).to_be_visible()
    assert page.locator("#map .leaflet-interactive").count() > 0  # sites and the planned route are drawn
    batch_link = page.locator("#batches a[href^='/transfer/batches/']").first
    batch_url = batch_link.get_attribute("href")

    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    _log_in(page, live_server, team)
    page.goto(f"{live_server}{batch_url}")
    with page.expect_navigation():
        page.click("#dispatch-form button")
    for person in family:
        with page.expect_navigation():
            page.locator(f"#person-{person} form[action$='/pickup'] button").click()
    with page.expect_navigation():
        page.click("#arrive-form button")

    expect(page.locator("h1")).to_contain_text("已完成")
    expect(page.locator("#batch-facts")).to_contain_text("已送达 2")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    with database.session() as session:
        statuses = session.scalars(select(TransferRequest.status)).all()
    assert statuses == ["arrived", "arrived"]
