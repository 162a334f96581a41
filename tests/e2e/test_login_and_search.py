"""A user logs in through the browser and finds a person; the language switch works."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from tests.factories import PASSWORD, make_district, make_person, make_user, new_resident_id

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database

pytestmark = pytest.mark.browser


def test_investigator_logs_in_and_finds_a_person_by_resident_id(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    district = make_district(database, clock)
    resident_id = new_resident_id()
    make_person(database, clock, district.building_a, name="李建国", resident_id=resident_id)
    make_person(database, clock, district.building_a, name="张伟")
    make_person(database, clock, district.building_b, name="李四", resident_id=new_resident_id("330602"))
    username = make_user(database, clock, Role.INVESTIGATOR, district.county_a)

    page.goto(f"{live_server}/people")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form#login-form button[type=submit]")
    page.wait_for_url(f"{live_server}/people")

    page.fill("input[name=resident_id]", resident_id)
    page.click("form#people-search button[type=submit]")
    results = page.locator("#people-results")
    expect(results).not_to_contain_text("张伟")
    expect(results).to_contain_text("李建国")
    assert resident_id not in page.content()  # masked: 3306**********xxxx
    assert f"{resident_id[:4]}**********{resident_id[-4:]}" in results.inner_text()

    page.fill("input[name=resident_id]", "")
    page.fill("input[name=q]", "李")
    page.click("form#people-search button[type=submit]")
    expect(results).not_to_contain_text("张伟")
    expect(results).to_contain_text("李建国")
    assert "李四" not in results.inner_text()  # another county's resident stays invisible


def test_the_language_switch_turns_the_pages_into_english(
    database: Database,
    clock: SimulatedClock,
    live_server: str,
    page,  # type: ignore[no-untyped-def]
) -> None:
    page.goto(f"{live_server}/login")
    assert page.locator("h1").inner_text() == "登录"
    page.goto(f"{live_server}/login?lang=en")
    assert page.locator("h1").inner_text() == "Log in"
    page.goto(f"{live_server}/login")
    assert page.locator("h1").inner_text() == "Log in"  # the choice is remembered
