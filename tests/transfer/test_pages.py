"""The transfer pages (快编组、快转运), driven through the TestClient as a commander's and a team's browser would."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.factories import login, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import TransferWorld, identify_contacts, make_household, make_transfer_world

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.protocol import TransferCategory

pytestmark = pytest.mark.usefixtures("cheap_argon2")
Headers = dict[str, str]


def english(headers: Headers) -> Headers:
    return {**headers, "Accept-Language": "en"}


@pytest.fixture
def world(database: Database, clock: SimulatedClock) -> TransferWorld:
    return make_transfer_world(database, clock)


@pytest.fixture
def household(database: Database, clock: SimulatedClock, world: TransferWorld) -> list[int]:
    """A household of three in county A, traced as close contacts: they wait in the queue."""
    people = make_household(database, clock, world.district.building_a, 3)
    identify_contacts(database, clock, people, TransferCategory.CLOSE_CONTACT)
    return people


@pytest.fixture
def commander(client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld) -> Headers:
    return login(client, make_user(database, clock, Role.COMMANDER, world.district.county_a))


@pytest.fixture
def team(client: TestClient, database: Database, clock: SimulatedClock, world: TransferWorld) -> Headers:
    return login(client, make_user(database, clock, Role.TRANSFER, world.district.county_a))


def section(html: str, section_id: str) -> str:
    """The HTML of one <section id=...> of the page."""
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def people_on_the_route(html: str) -> str:
    """The stops of a batch page, with their people (not the batch's counts above them)."""
    return html[html.index('id="stops"') : html.index('id="stop-site"')]


def plan_a_batch(client: TestClient, commander: Headers) -> int:
    """Plan from the board; the id of the first batch it shows."""
    board = client.post("/transfer/plan", data={}, headers=commander)
    assert board.status_code == 200
    found = re.search(r'<tr data-batch="(\d+)">', section(board.text, "batches"))
    assert found is not None, "the plan made a batch"
    return int(found.group(1))


def test_the_board_shows_the_queue_and_the_sites_free_places_in_both_languages(
    client: TestClient, commander: Headers, household: list[int]
) -> None:
    chinese = client.get("/transfer", headers=commander)
    assert chinese.status_code == 200
    assert "转运看板" in chinese.text and "密接" in chinese.text
    queue = section(chinese.text, "queue")
    assert all(f'data-person="{person}"' in queue for person in household)
    assert re.search(r"\d{4}\*+\d{4}", queue), "resident IDs are masked"
    sites = section(chinese.text, "sites")
    assert "百官隔离酒店" in sites and "宁波隔离点" in sites and "定点医院" in sites
    assert "空余 50 / 共 50" in sites
    english_board = client.get("/transfer", headers=english(commander))
    assert "Transfer board" in english_board.text and "Close contact" in english_board.text
    assert "50 free of 50" in section(english_board.text, "sites")
    assert ">Transfer</a>" in english_board.text, "the nav leads here"


def test_planning_from_the_board_puts_the_household_on_a_batch_shown_on_the_board(
    client: TestClient, commander: Headers, household: list[int]
) -> None:
    board = client.post("/transfer/plan", data={"categories": "close_contact"}, headers=english(commander))
    assert board.status_code == 200 and "Plan made" in board.text
    result = section(board.text, "plan")
    assert 'data-plan-placed="3"' in result and 'data-plan-trips="1"' in result and "Nobody" in result
    assert "Nobody is waiting for transfer" in section(board.text, "queue")
    planned = board.text[board.text.index('id="batches-planned"') : board.text.index('id="batches-recent"')]
    assert "百官隔离酒店" in planned and "Close contact" in planned and "To pick up" in planned
    assert '"routes": [{' in board.text.replace("\n", ""), "the map draws the batch's route"


def test_the_team_dispatches_picks_up_and_hands_over_at_the_site(
    client: TestClient, commander: Headers, team: Headers, household: list[int]
) -> None:
    batch = plan_a_batch(client, commander)
    page = client.get(f"/transfer/batches/{batch}", headers=english(team))
    assert page.status_code == 200 and "Stop 1" in page.text and 'id="dispatch-form"' in page.text
    dispatched = client.post(f"/transfer/batches/{batch}/dispatch", headers=english(team))
    assert "Batch dispatched" in dispatched.text and 'data-status="dispatched"' in dispatched.text
    for person in household:
        picked = client.post(f"/transfer/batches/{batch}/members/{person}/pickup", headers=english(team))
        assert picked.status_code == 200
    assert people_on_the_route(picked.text).count('data-member-status="picked_up"') == 3
    arrived = client.post(f"/transfer/batches/{batch}/arrive", headers=team)
    assert "已送达" in arrived.text and 'data-status="completed"' in arrived.text
    board = client.get("/transfer", headers=english(commander))
    recent = board.text[board.text.index('id="batches-recent"') :]
    assert f'data-batch="{batch}"' in recent and "Completed" in recent
    assert "49 free of 50" not in section(board.text, "sites") and "47 free of 50" in section(board.text, "sites")


def test_a_person_not_picked_up_is_back_on_the_boards_queue_with_the_reason(
    client: TestClient, commander: Headers, team: Headers, household: list[int]
) -> None:
    batch = plan_a_batch(client, commander)
    client.post(f"/transfer/batches/{batch}/dispatch", headers=team)
    missed = household[0]
    page = client.post(
        f"/transfer/batches/{batch}/members/{missed}/not-picked-up", data={"reason": "不在家"}, headers=team
    )
    assert page.status_code == 200 and 'data-member-status="returned"' in page.text
    board = client.get("/transfer", headers=commander)
    queue = section(board.text, "queue")
    assert f'data-person="{missed}"' in queue and "未接到：不在家" in queue
    english_queue = section(client.get("/transfer", headers=english(commander)).text, "queue")
    assert "Not picked up: 不在家" in english_queue


def test_not_picked_up_without_a_reason_is_refused_on_the_page(
    client: TestClient, commander: Headers, team: Headers, household: list[int]
) -> None:
    batch = plan_a_batch(client, commander)
    client.post(f"/transfer/batches/{batch}/dispatch", headers=team)
    refused = client.post(
        f"/transfer/batches/{batch}/members/{household[0]}/not-picked-up", data={"reason": " "}, headers=english(team)
    )
    assert refused.status_code == 422 and "Not recorded: Give the reason" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert people_on_the_route(refused.text).count('data-member-status="planned"') == 3, "nobody was handed back"


def test_arriving_before_dispatch_is_refused_with_the_reason_not_a_crash(
    client: TestClient, commander: Headers, team: Headers, household: list[int]
) -> None:
    batch = plan_a_batch(client, commander)
    refused = client.post(f"/transfer/batches/{batch}/arrive", headers=english(team))
    assert refused.status_code == 409 and "only a dispatched batch arrives" in refused.text
    assert 'data-status="planned"' in refused.text


def test_a_transfer_team_cannot_plan(client: TestClient, team: Headers, household: list[int]) -> None:
    board = client.get("/transfer", headers=team)
    assert board.status_code == 200 and 'id="plan-form"' not in board.text
    assert client.post("/transfer/plan", data={}, headers=team).status_code == 403


def test_a_user_whose_role_does_not_read_transfers_is_refused(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    commander: Headers,
    world: TransferWorld,
    household: list[int],
) -> None:
    batch = plan_a_batch(client, commander)
    lab = login(client, make_user(database, clock, Role.LAB, world.district.county_a))
    assert client.get("/transfer", headers=lab).status_code == 403
    assert client.get(f"/transfer/batches/{batch}", headers=lab).status_code == 403


def test_a_vehicle_breakdown_on_the_board_hands_its_people_back_to_the_queue_with_the_reason(
    client: TestClient, commander: Headers, world: TransferWorld, household: list[int]
) -> None:
    plan_a_batch(client, commander)
    board = client.post(
        f"/transfer/vehicles/{world.coach}/failure", data={"reason": "爆胎"}, headers=english(commander)
    )
    assert "Breakdown recorded: 3 people back in the queue, 1 batches cancelled." in board.text
    vehicles = section(board.text, "vehicles")
    assert 'data-vehicle-status="failed"' in vehicles and "爆胎" in vehicles
    queue = section(board.text, "queue")
    assert all(f'data-person="{person}"' in queue for person in household), "no other coach: they wait again"
    assert "No vehicle free" in queue


def test_reporting_a_site_full_shows_it_full_on_the_board(
    client: TestClient, commander: Headers, world: TransferWorld, household: list[int]
) -> None:
    board = client.post(f"/transfer/sites/{world.near_site}/full", data={"reason": "水管故障"}, headers=commander)
    assert board.status_code == 200
    row = re.search(rf'<tr data-site="{world.near_site}">.*?</tr>', board.text, re.S)
    assert row is not None and 'data-site-status="full"' in row.group(0) and "水管故障" in row.group(0)


def test_a_user_of_another_county_sees_no_batch_of_this_county(
    client: TestClient,
    database: Database,
    clock: SimulatedClock,
    commander: Headers,
    world: TransferWorld,
    household: list[int],
) -> None:
    batch = plan_a_batch(client, commander)
    other = login(client, make_user(database, clock, Role.COMMANDER, world.district.county_b))
    assert client.get(f"/transfer/batches/{batch}", headers=other).status_code == 404
    assert client.post(f"/transfer/batches/{batch}/dispatch", headers=other).status_code == 404
    board = client.get("/transfer", headers=other)
    assert f'data-batch="{batch}"' not in board.text
    assert all(f'data-person="{person}"' not in board.text for person in household)
