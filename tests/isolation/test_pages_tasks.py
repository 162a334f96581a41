"""The isolation task pages (快隔离), driven through the TestClient as a phone would: a floor's tests of the
day taken by scanning tubes, a cross-infection investigation read and closed, and a community worker's
home tasks recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories import login, make_user
from tests.isolation.factories import CLOSE, StayRef, deliver, give_plans, room_labels, stays_at, world_with_floor
from tests.isolation.release_factories import LAST_DAY
from tests.isolation.test_pages import english, section
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.tracing.factories import confirm_case
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation.models import CrossInfection, HomeTask, IsolationStay, SiteTest, SiteTestSample
from bihuan.people.models import Person

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]
TODAY = "2021-12-10"


def _samples(database: Database) -> list[tuple[int, str, str]]:
    with database.session() as session:
        rows = session.execute(select(SiteTestSample.test_id, SiteTestSample.barcode, SiteTestSample.reagent))
        return sorted((int(t), b, r) for t, b, r in rows)


def _tests_today(database: Database, stays: list[StayRef], day: date) -> list[int]:
    """The stays' tests due on the day, in the stays' order."""
    with database.session() as session:
        found = dict(
            session.execute(
                select(SiteTest.stay_id, SiteTest.id).where(
                    SiteTest.stay_id.in_([s.stay_id for s in stays]), SiteTest.due_on == day
                )
            ).all()
        )
    return [found[s.stay_id] for s in stays]


def _row(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</article>", start)]


@pytest.fixture
def floor_due(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, int, list[StayRef]]:
    """Floor A-3 with three close contacts last exposed on the 9th: their first test is due today, the 10th."""
    world, floor = world_with_floor(database, clock)
    people = [p for _ in range(3) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people, CLOSE)
    clock.advance(timedelta(hours=2))
    stays = stays_at(database, world.near_site)
    give_plans(database, clock, [s.stay_id for s in stays], date(2021, 12, 9))
    return world, floor, stays


def test_a_floors_tests_are_taken_by_scanning_and_a_used_barcode_is_refused_on_its_row(
    client: TestClient, database: Database, clock: SimulatedClock, floor_due: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, floor, stays = floor_due
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    first, second, _ = _tests_today(database, stays, date(2021, 12, 10))
    url = f"/isolation/sites/{world.near_site}/tests"

    board = client.get(f"/isolation/sites/{world.near_site}", headers=manager)
    assert f'href="{url}"><strong data-count="tests">3<' in board.text, "the board's figure leads to the tests"
    page = client.get(f"{url}?floor_id={floor}", headers=manager)
    assert page.status_code == 200 and "今日核酸采样" in page.text
    assert page.text.count('data-status="due"') == 3 and 'data-count="due">3<' in page.text
    assert page.text.count('name="barcode-0"') == 3 and 'name="reagent-0"' not in page.text
    assert 'autocomplete="off"' in page.text and 'inputmode="text"' in page.text
    assert f'id="test-{first}-barcode-0"' in page.text and "autofocus" in _row(page.text, f"test-{first}")
    with database.session() as session:
        names = list(session.scalars(select(Person.name).where(Person.id.in_([s.person_id for s in stays]))))
    assert all(name not in page.text for name in names), "names are masked"

    form = {"day": TODAY, "floor_id": str(floor), "barcode-0": "ST0001"}
    taken = client.post(f"{url}/{first}", data=form, headers=manager)
    assert taken.status_code == 200 and "已采样" in taken.text
    assert 'data-count="due">2<' in taken.text and 'data-count="sampled">1<' in taken.text
    assert "autofocus" in _row(taken.text, f"test-{second}"), "the next test to scan has the focus"
    assert _samples(database) == [(first, "ST0001", "")]

    refused = client.post(f"{url}/{second}", data=form, headers=english(manager))
    assert refused.status_code == 422
    row = _row(refused.text, f"test-{second}")
    assert "Tube ST0001 is already in use: take a new tube." in row and 'value="ST0001"' in row
    assert 'aria-invalid="true"' in row and "autofocus" in row
    assert _samples(database) == [(first, "ST0001", "")], "nothing stored on a refusal"


def test_a_release_test_with_the_same_reagent_twice_is_refused_naming_the_reagent(
    client: TestClient, database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, [first, *_] = at_site
    clock.advance(LAST_DAY - date(2021, 12, 10))
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    [test] = _tests_today(database, [first], LAST_DAY)
    url = f"/isolation/sites/{world.near_site}/tests"

    page = _row(client.get(url, headers=manager).text, f"test-{test}")
    assert 'data-release="1"' in page and "2 管样本，2 种试剂" in page
    assert all(f'name="{name}"' in page for name in ("barcode-0", "reagent-0", "barcode-1", "reagent-1"))
    same = {"day": LAST_DAY.isoformat(), "barcode-0": "RT1", "reagent-0": "BGI", "barcode-1": "RT2", "reagent-1": "bgi"}
    refused = client.post(f"{url}/{test}", data=same, headers=manager)
    assert refused.status_code == 422
    reagent = _row(refused.text, f"test-{test}").split(f'id="test-{test}-reagent-1"')[1]
    assert "试剂“bgi”" in reagent and "不同" in reagent
    assert _samples(database) == []

    taken = client.post(f"{url}/{test}", data={**same, "reagent-1": "Daan"}, headers=manager)
    assert taken.status_code == 200
    assert _samples(database) == [(test, "RT1", "BGI"), (test, "RT2", "Daan")]


def test_an_open_investigation_shows_on_the_board_its_neighbours_in_detail_and_closes_with_a_note(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    world, _ = world_with_floor(database, clock, rooms=3)
    people = [make_household(database, clock, world.district.building_a, 1)[0] for _ in range(3)]
    deliver(database, clock, people, CLOSE)
    give_plans(database, clock, [s.stay_id for s in stays_at(database, world.near_site)], date(2021, 12, 5))
    rooms = room_labels(database, world.near_site)
    case = rooms["A-3-301"].person_id
    confirm_case(database, clock, case, world.district.building_a, onset=None, sampled=date(2021, 12, 10))
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    with database.session() as session:
        investigation = session.scalar(select(CrossInfection.id))
    detail_url = f"/isolation/sites/{world.near_site}/cross-infections/{investigation}"

    board = section(client.get(f"/isolation/sites/{world.near_site}", headers=manager).text, "investigations")
    assert f'href="{detail_url}"' in board and "A-3-301" in board
    assert 'data-relation="adjacent_room">相邻房间 1' in board and 'data-relation="same_floor">同楼层 1' in board
    detail = client.get(detail_url, headers=english(manager))
    neighbours = section(detail.text, "neighbours")
    assert neighbours.index("A-3-302") < neighbours.index("A-3-303"), "closest first"
    next_door = neighbours[neighbours.index(f'data-stay="{rooms["A-3-302"].stay_id}"') :]
    assert "Adjacent room" in next_door and 'data-clock-reset="1"' in next_door.split("</li>\n      <li")[0]
    assert next_door.count("data-extra-test=") >= len(PROFILE.sites.cross_infection.extra_test_days)
    with database.session() as session:
        name = session.scalar(select(Person.name).where(Person.id == rooms["A-3-302"].person_id))
    assert name is not None and name not in detail.text and f"{name[0]}*" in next_door

    closed = client.post(f"{detail_url}/close", data={"note": "邻室复核阴性"}, headers=manager)
    assert closed.status_code == 200 and "交叉感染调查已结案" in closed.text and "邻室复核阴性" in closed.text
    assert 'id="close-form"' not in closed.text
    again = client.post(f"{detail_url}/close", data={"note": "再次结案"}, headers=manager)
    assert again.status_code == 200 and "再次结案" not in again.text
    with database.session() as session:
        assert session.scalar(select(CrossInfection.note)) == "邻室复核阴性"
    board = section(client.get(f"/isolation/sites/{world.near_site}", headers=manager).text, "investigations")
    assert "data-investigation=" not in board


def _task_status(database: Database, task_id: int) -> tuple[str, str]:
    with database.session() as session:
        task = session.get(HomeTask, task_id)
        assert task is not None
        return task.status, task.note


def test_a_community_worker_sees_a_released_persons_task_and_another_countys_does_not(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    released: StayRef,
    at_site: tuple[TransferWorld, list[StayRef]],
) -> None:
    district = at_site[0].district
    with database.session() as session:
        person = session.get(Person, released.person_id)
        assert person is not None
        person.phone, name = "13800138000", person.name
    worker = login(client, make_user(database, clock, Role.COMMUNITY_WORKER, district.community_a))
    page = client.get("/isolation/home-tasks", headers=worker)
    assert page.status_code == 200 and "居家健康监测任务" in page.text
    assert 'href="/isolation/home-tasks"' in page.text, "the nav leads here"
    with database.session() as session:
        task = session.scalar(select(HomeTask.id).where(HomeTask.due_on == date(2021, 12, 23)))
    row = _row(page.text, f"task-{task}")
    assert name not in page.text and f"{name[0]}*" in row and 'href="tel:13800138000"' in row
    assert "每日健康监测" in row and "居家健康监测 · 至 2021年12月29日" in row

    elsewhere = login(client, make_user(database, clock, Role.COMMUNITY_WORKER, district.county_b))
    other = client.get("/isolation/home-tasks", headers=elsewhere)
    assert other.status_code == 200 and "data-task=" not in other.text


def test_a_home_task_is_recorded_done_or_missed_and_missed_needs_a_note(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    released: StayRef,
    at_site: tuple[TransferWorld, list[StayRef]],
) -> None:
    worker = login(client, make_user(database, clock, Role.COMMUNITY_WORKER, at_site[0].district.community_a))
    with database.session() as session:
        today = session.scalar(select(HomeTask.id).where(HomeTask.due_on == date(2021, 12, 23)))
    assert today is not None

    no_note = client.post(f"/isolation/home-tasks/{today}", data={"status": "missed"}, headers=english(worker))
    assert no_note.status_code == 422
    assert "Say why the task was missed." in _row(no_note.text, f"task-{today}").split(f'id="note-{today}"', 1)[1]
    assert _task_status(database, today) == ("open", "")

    with_note = {"status": "missed", "note": "电话未接通"}
    missed = client.post(f"/isolation/home-tasks/{today}", data=with_note, headers=worker)
    assert missed.status_code == 200 and f'data-task="{today}"' not in missed.text
    assert _task_status(database, today) == ("missed", "电话未接通")

    clock.advance(timedelta(days=1))
    worker = login(client, make_user(database, clock, Role.COMMUNITY_WORKER, at_site[0].district.community_a))
    with database.session() as session:
        test_day = session.scalar(select(HomeTask.id).where(HomeTask.kind == "test").order_by(HomeTask.due_on))
    assert test_day is not None
    done = client.post(f"/isolation/home-tasks/{test_day}", data={"status": "done"}, headers=worker)
    assert done.status_code == 200 and "已完成" in done.text and f'data-task="{test_day}"' not in done.text
    assert _task_status(database, test_day)[0] == "done"


def test_closing_the_day_ends_the_home_phases_past_their_last_day(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    released: StayRef,
    at_site: tuple[TransferWorld, list[StayRef]],
) -> None:
    clock.set(datetime(2021, 12, 30, 2, 0, tzinfo=UTC))
    worker = login(client, make_user(database, clock, Role.COMMUNITY_WORKER, at_site[0].district.community_a))
    closed = client.post("/isolation/home-tasks/close-day", headers=english(worker))
    assert closed.status_code == 200 and "home phases ended 1" in closed.text
    assert "data-task=" not in closed.text
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(HomeTask).where(HomeTask.status == "open")) == 0
        assert session.scalar(select(IsolationStay.status).where(IsolationStay.id == released.stay_id)) == "released"
