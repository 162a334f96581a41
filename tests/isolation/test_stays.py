"""A traced contact's stay carries the quarantine plan their last exposure set (快流调 → 快隔离)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import context, login, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.tracing.factories import confirm_case, make_world, runtime_for_tests, world_scans, write_scans
from tests.transfer.factories import PROFILE, SHANGYU, add_site, add_vehicle

from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.isolation import service as sites
from bihuan.isolation.schemas import FloorCreate
from bihuan.people import service as people
from bihuan.people.schemas import AddressCreate, PersonUpdate
from bihuan.protocol import TransferCategory
from bihuan.tracing.models import TracedContact
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.service import dispatch, planning

pytestmark = pytest.mark.usefixtures("cheap_argon2")
CLOSE = TransferCategory.CLOSE_CONTACT


def test_a_traced_close_contact_arrives_with_the_plan_of_their_last_exposure_and_their_next_test(
    client: TestClient, database: Database, clock: SimulatedClock, tmp_path: Path
) -> None:
    world = make_world(database, clock)
    with context(database, clock) as ctx:
        home = people.create_address(
            ctx,
            AddressCreate(
                code="A-1", jurisdiction_id=world.district.building_a, text="龙山路1号", lat=SHANGYU[0], lon=SHANGYU[1]
            ),
        )
        people.update_person(ctx, world.colleague, PersonUpdate(address_id=home.id))
    runtime = runtime_for_tests(database, clock, tmp_path / "data")
    write_scans(runtime, world_scans(world))
    site = add_site(database, clock, "百官隔离酒店", SHANGYU, {CLOSE: 0})
    with context(database, clock) as ctx:
        sites.add_floor(ctx, PROFILE, site, FloorCreate(building="A", number=3, category=CLOSE, room_count=4))
    add_vehicle(database, clock)
    confirm_case(database, clock, world.case_person, world.district.building_a)  # traced at once: the colleague

    with context(database, clock) as ctx:
        planning.plan(ctx, PROFILE, categories=[CLOSE])
        [batch_id] = ctx.session.scalars(select(Batch.id)).all()
        dispatch.dispatch(ctx, batch_id)
        for person in list(ctx.session.scalars(select(BatchMember.person_id).where(BatchMember.batch_id == batch_id))):
            dispatch.pick_up(ctx, batch_id, person)
        dispatch.arrive(ctx, PROFILE, batch_id)
        traced = ctx.session.scalar(select(TracedContact).where(TracedContact.person_id == world.colleague))
        assert traced is not None

    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    stays = client.get(f"/api/sites/{site}/stays", headers=manager).json()["data"]
    [colleague] = [s for s in stays if s["person_id"] == world.colleague]
    assert colleague["plan"] == traced.plan
    assert colleague["last_exposure"] == traced.plan["last_exposure_date"] == "2021-12-08"
    assert colleague["central_end"] == "2021-12-22"  # 14 central days after the last exposure (cn-8th)
    assert colleague["next_test"] == "2021-12-12"  # tests on days 1, 4, 7, 14 from 9 Dec: today is the 10th
    assert colleague["room"] == "A-3-301"
    assert "*" in colleague["resident_id_masked"]
    assert date.fromisoformat(colleague["started_at"][:10]) == date(2021, 12, 10)
