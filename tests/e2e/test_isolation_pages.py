"""Site staff enter a floor's temperature round on a phone and see the fever on the site's board, in the browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from tests.factories import PASSWORD, make_user
from tests.isolation.factories import CLOSE, deliver, stays_at, world_with_floor
from tests.transfer.factories import make_household

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation.models import TemperatureReading

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _fits_the_phone(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"])


def test_a_floors_round_entered_on_a_phone_shows_its_fever_on_the_site_board(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    world, floor = world_with_floor(database, clock)
    people = [p for _ in range(3) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people, CLOSE)
    clock.advance(timedelta(hours=2))
    first, feverish, third = stays_at(database, world.near_site)
    manager = make_user(database, clock, Role.SITE_MANAGER, world.district.county_a)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", manager)
    page.fill("input[name=password]", PASSWORD)
    page.click("form#login-form button[type=submit]")
    page.goto(f"{live_server}/isolation/sites/{world.near_site}")
    expect(page.locator("[data-count=alerts]")).to_have_text("0")
    assert _fits_the_phone(page)
    with page.expect_navigation():
        page.click(f"#floor-{floor} a[href$='/temperatures']")

    expect(page.locator("h1")).to_have_text("体温录入")
    page.fill(f"#field-value-{first.stay_id}", "36.5")
    page.fill(f"#field-value-{feverish.stay_id}", "38.6")
    page.fill(f"#field-symptoms-{feverish.stay_id}", "咳嗽")
    page.fill(f"#field-value-{third.stay_id}", "365")
    assert _fits_the_phone(page), "the form is no wider than the phone"
    with page.expect_navigation():
        page.click("#temperature-form button[type=submit]")
    expect(page.locator(f"#stay-{third.stay_id} .field-error")).to_contain_text("365 像是漏了小数点的 36.5")
    expect(page.locator(f"#field-value-{feverish.stay_id}")).to_have_value("38.6")
    page.fill(f"#field-value-{third.stay_id}", "36.7")
    with page.expect_navigation():
        page.click("#temperature-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("已保存体温记录 3 条")

    page.goto(f"{live_server}/isolation/sites/{world.near_site}")
    expect(page.locator("[data-count=alerts]")).to_have_text("1")
    expect(page.locator("#alerts [data-kind=fever]")).to_contain_text("38.6 °C")
    expect(page.locator("#floors .room-grid .room-alert")).to_have_count(1)
    assert _fits_the_phone(page)
    with database.session() as session:
        assert sorted(session.scalars(select(TemperatureReading.celsius))) == [36.5, 36.7, 38.6]


def test_a_floors_tests_are_taken_on_a_phone_by_typing_barcodes_and_the_counts_follow(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import date

    from tests.isolation.factories import give_plans

    from bihuan.isolation.models import SiteTestSample

    world, floor = world_with_floor(database, clock)
    people = [p for _ in range(2) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people, CLOSE)
    clock.advance(timedelta(hours=2))
    give_plans(database, clock, [s.stay_id for s in stays_at(database, world.near_site)], date(2021, 12, 9))
    manager = make_user(database, clock, Role.SITE_MANAGER, world.district.county_a)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", manager)
    page.fill("input[name=password]", PASSWORD)
    page.click("form#login-form button[type=submit]")
    page.goto(f"{live_server}/isolation/sites/{world.near_site}")
    with page.expect_navigation():
        page.click("#attention a[href$='/tests']")
    with page.expect_navigation():
        page.click(f"#floor-links a[data-floor='{floor}']")
    expect(page.locator("h1")).to_contain_text("今日核酸采样")
    expect(page.locator("[data-count=due]")).to_have_text("2")
    assert _fits_the_phone(page), "the tests page is no wider than the phone"

    for barcode in ("E2E0001", "E2E0002"):  # the scanner types into the focused field and presses Enter
        expect(page.locator("input[name='barcode-0']").first).to_be_focused()
        with page.expect_navigation():
            page.keyboard.type(barcode)
            page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("已采样")
    expect(page.locator("[data-count=due]")).to_have_text("0")
    expect(page.locator("[data-count=sampled]")).to_have_text("2")
    expect(page.locator("#tests [data-status=sampled]")).to_have_count(2)
    assert _fits_the_phone(page)
    with database.session() as session:
        assert sorted(session.scalars(select(SiteTestSample.barcode))) == ["E2E0001", "E2E0002"]
