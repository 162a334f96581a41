"""The isolation pages (快隔离), driven through the TestClient as a site manager's phone would: the board,
a floor's temperature round, the day's checklists and the release list."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories import login, make_user
from tests.isolation.factories import CLOSE, StayRef, deliver, give_plans, stays_at, world_with_floor
from tests.isolation.release_factories import EXPOSED, LAST_DAY, release_test_resulted
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import make_household

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation.checklist_models import ChecklistEntry
from bihuan.isolation.models import HealthAlert, IsolationStay, TemperatureReading
from bihuan.people.models import Person

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]
DAY = "2021-12-10"


def english(headers: Headers) -> Headers:
    return {**headers, "Accept-Language": "en"}


class Site:
    """A site's floor A-3 with three close contacts of county A, one per room; now 10:00 on the 10th."""

    def __init__(self, database: Database, clock: SimulatedClock) -> None:
        self.world, self.floor = world_with_floor(database, clock)
        people = [p for _ in range(3) for p in make_household(database, clock, self.world.district.building_a, 1)]
        deliver(database, clock, people, CLOSE)
        clock.advance(timedelta(hours=2))
        self.stays: list[StayRef] = stays_at(database, self.world.near_site)
        self.id = self.world.near_site

    def url(self, page: str = "") -> str:
        return f"/isolation/sites/{self.id}{page}"

    @property
    def temperatures(self) -> str:
        return self.url(f"/floors/{self.floor}/temperatures")


@pytest.fixture
def site(database: Database, clock: SimulatedClock) -> Site:
    return Site(database, clock)


@pytest.fixture
def manager(client: TestClient, database: Database, clock: SimulatedClock, site: Site) -> Headers:
    return login(client, make_user(database, clock, Role.SITE_MANAGER, site.world.district.county_a))


def _count(database: Database, model: type[TemperatureReading] | type[HealthAlert] | type[ChecklistEntry]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(model.id))) or 0


def _names(database: Database, person_ids: list[int]) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(Person.name).where(Person.id.in_(person_ids))))


def section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def round_of(site: Site, *values: str, time: str = "09:30", **symptoms: str) -> dict[str, str]:
    form = {"day": DAY, "measured_time": time}
    for stay, value in zip(site.stays, values, strict=False):
        form[f"value-{stay.stay_id}"] = value
    form.update(symptoms)
    return form


def test_the_sites_and_a_sites_board_show_rooms_by_floor_in_both_languages(
    client: TestClient, database: Database, site: Site, manager: Headers
) -> None:
    listing = client.get("/isolation", headers=manager)
    assert listing.status_code == 200 and "隔离点" in listing.text and "百官隔离酒店" in listing.text
    assert ">隔离</a>" in listing.text, "the nav leads here"
    board = client.get(site.url(), headers=manager)
    assert board.status_code == 200
    floors = section(board.text, "floors")
    assert "A 栋 3 层" in floors and "密接" in floors
    assert 'data-rooms="occupied">已入住 3' in floors and 'data-rooms="free">空闲 3' in floors
    assert floors.count('data-status="occupied"') == 3 and floors.count('data-status="free"') == 3
    names = _names(database, [s.person_id for s in site.stays])
    assert all(name not in board.text for name in names), "names are masked on the board"
    assert all(f"{name[0]}{'*' * (len(name) - 1)}" in floors for name in names)
    assert f'href="{site.temperatures}"' in floors
    english_board = client.get(site.url(), headers=english(manager))
    assert "Building A, floor 3" in english_board.text and "Close contact" in english_board.text
    assert 'data-rooms="occupied">Occupied 3' in english_board.text and "Rooms by floor" in english_board.text


def test_a_floors_round_is_stored_from_one_form_and_a_fever_shows_on_the_board(
    client: TestClient, database: Database, site: Site, manager: Headers
) -> None:
    form = client.get(site.temperatures, headers=manager)
    assert form.status_code == 200 and "体温录入" in form.text
    assert form.text.count('inputmode="decimal"') == 3, "one big decimal input per person"
    assert re.search(r"\d{4}\*+\d{4}", form.text), "resident IDs are masked"
    first, second, third = site.stays
    sent = round_of(site, "36.5", "38.2", "98.6F", **{f"symptoms-{second.stay_id}": "咳嗽，乏力"})
    stored = client.post(site.temperatures, data=sent, headers=english(manager))
    assert stored.status_code == 200 and "Readings stored: 3." in stored.text
    assert "98.6 °F converted to 37.0 °C" in section(stored.text, "conversions")
    assert f'id="stay-{second.stay_id}"' in stored.text and "38.2 °C (咳嗽, 乏力)" in stored.text
    with database.session() as session:
        readings = dict(session.execute(select(TemperatureReading.stay_id, TemperatureReading.celsius)).all())
    assert readings == {first.stay_id: 36.5, second.stay_id: 38.2, third.stay_id: 37.0}

    again = client.post(site.temperatures, data=sent, headers=english(manager))
    assert "Readings stored: 0." in again.text and "Stored already, not stored twice: 3." in again.text
    assert _count(database, TemperatureReading) == 3, "sending the round again stores nothing"
    board = client.get(site.url(), headers=manager)
    alerts = section(board.text, "alerts")
    assert 'data-kind="fever"' in alerts and "38.2 °C" in alerts
    assert 'data-count="alerts">1<' in board.text and "room-alert" in section(board.text, "floors")


def test_365_and_3_65_come_back_next_to_their_rows_as_typed_and_nothing_is_stored(
    client: TestClient, database: Database, site: Site, manager: Headers
) -> None:
    first, second, third = site.stays
    refused = client.post(site.temperatures, data=round_of(site, "36.5", "365", "3.65"), headers=manager)
    assert refused.status_code == 422 and "未保存" in refused.text
    row = refused.text[
        refused.text.index(f'id="stay-{second.stay_id}"') : refused.text.index(f'id="stay-{third.stay_id}"')
    ]
    assert 'value="365"' in row and 'aria-invalid="true"' in row and "365 像是" in row and "36.5" in row
    last = refused.text[refused.text.index(f'id="stay-{third.stay_id}"') :]
    assert 'value="3.65"' in last and "小数点" in last
    assert f'name="value-{first.stay_id}" type="text" value="36.5"' in refused.text, "the good row is kept too"
    english_refusal = client.post(site.temperatures, data=round_of(site, "", "365"), headers=english(manager))
    assert "365 looks like 36.5 without its decimal point" in english_refusal.text
    assert _count(database, TemperatureReading) == 0 and _count(database, HealthAlert) == 0


def test_a_round_entered_for_a_time_in_the_future_is_refused_on_the_time_field(
    client: TestClient, database: Database, site: Site, manager: Headers
) -> None:
    refused = client.post(site.temperatures, data=round_of(site, "36.5", time="23:00"), headers=english(manager))
    assert refused.status_code == 422 and "The time of the round is in the future." in refused.text
    assert _count(database, TemperatureReading) == 0


def test_a_checklist_post_records_the_answered_items_and_the_history_keeps_corrections(
    client: TestClient, database: Database, site: Site, manager: Headers
) -> None:
    page = client.get(site.url("/checklists"), headers=manager)
    assert page.status_code == 200 and "工作清单" in page.text and "白班" in page.text
    key = "site_daily.medical_waste.day"
    assert f'name="status-{key}"' in page.text
    saved = client.post(
        site.url("/checklists"),
        data={"day": DAY, f"status-{key}": "done", "note-site_daily.staff_ppe.day": ""},
        headers=english(manager),
    )
    assert saved.status_code == 200 and "Checks saved: 1 new, 0 corrected, 0 unchanged." in saved.text
    assert f'data-line="{key}" data-status="done"' in saved.text
    corrected = client.post(
        site.url("/checklists"),
        data={"day": DAY, f"status-{key}": "not_done", f"note-{key}": "垃圾桶满"},
        headers=manager,
    )
    assert corrected.status_code == 200
    history = client.get(site.url(f"/checklists/history?day={DAY}"), headers=english(manager))
    assert history.text.count("data-entry=") == 2 and "corrected at" in history.text and "垃圾桶满" in history.text
    assert _count(database, ChecklistEntry) == 2


def test_a_note_without_an_answer_is_refused_next_to_its_item(
    client: TestClient, database: Database, site: Site, manager: Headers
) -> None:
    key = "site_daily.medical_waste.day"
    refused = client.post(site.url("/checklists"), data={"day": DAY, f"note-{key}": "没做完"}, headers=english(manager))
    assert refused.status_code == 422
    line = refused.text[refused.text.index(f'id="line-{key}"') :]
    assert "Choose done, not done or not applicable" in line[: line.index("</fieldset>")]
    assert 'value="没做完"' in line and _count(database, ChecklistEntry) == 0


def test_the_release_list_releases_the_ready_and_says_why_the_others_may_not_go_yet(
    client: TestClient, database: Database, clock: SimulatedClock, site: Site
) -> None:
    ready, untested, early = site.stays
    give_plans(database, clock, [ready.stay_id, untested.stay_id], EXPOSED)
    give_plans(database, clock, [early.stay_id], EXPOSED + timedelta(days=3))
    release_test_resulted(database, clock, ready.stay_id, [("negative", "A"), ("negative", "B")])
    clock.advance(LAST_DAY - date(2021, 12, 10))
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, site.world.district.county_a))
    page = client.get(site.url("/release"), headers=manager)
    assert page.status_code == 200 and "解除隔离名单" in page.text
    listed = section(page.text, "ready")
    assert f'name="stay_ids" value="{ready.stay_id}"' in listed and f'data-stay="{untested.stay_id}"' not in listed
    not_yet = section(page.text, "not-yet")
    assert "2021-12-22 的解除隔离检测尚未采样" in not_yet
    english_page = section(client.get(site.url("/release"), headers=english(manager)).text, "not-yet")
    assert "Release test of 2021-12-22 not taken yet" in english_page
    assert f'data-stay="{early.stay_id}"' not in english_page, "not due today or tomorrow: not listed"

    sent = {"stay_ids": [str(ready.stay_id), str(untested.stay_id)]}
    done = client.post(site.url("/release"), data=sent, headers=manager)
    assert done.status_code == 200 and "已解除隔离 1 人" in done.text and "未解除隔离 1 人" in done.text
    assert f'data-stay="{ready.stay_id}"' not in done.text and f'data-stay="{untested.stay_id}"' in done.text
    with database.session() as session:
        statuses = dict(session.execute(select(IsolationStay.id, IsolationStay.status)).all())
    assert statuses[ready.stay_id] == "released" and statuses[untested.stay_id] == "in_stay"


def test_releasing_with_nobody_ticked_is_refused_on_the_page(
    client: TestClient, database: Database, site: Site, manager: Headers
) -> None:
    refused = client.post(site.url("/release"), data={}, headers=english(manager))
    assert refused.status_code == 422 and "Tick at least one person to release." in refused.text


def test_another_countys_user_sees_none_of_the_people(
    client: TestClient, database: Database, clock: SimulatedClock, site: Site, manager: Headers
) -> None:
    client.post(site.temperatures, data=round_of(site, "38.5"), headers=manager)
    other = login(client, make_user(database, clock, Role.SITE_MANAGER, site.world.district.county_b))
    board = client.get(site.url(), headers=other)
    assert board.status_code == 200 and 'data-count="alerts">0<' in board.text
    assert "<details>" not in section(board.text, "floors"), "no occupant shown in any room"
    form = client.get(site.temperatures, headers=other)
    assert all(f'id="stay-{s.stay_id}"' not in form.text for s in site.stays)
    release = client.get(site.url("/release"), headers=other)
    assert all(f'data-stay="{s.stay_id}"' not in release.text for s in site.stays)
