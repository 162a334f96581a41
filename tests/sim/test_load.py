"""The generated district goes into the platform through its services, on both databases."""

from __future__ import annotations

import pyarrow.parquet as pq
from sqlalchemy import func, select

from bihuan.core import auth
from bihuan.core.auth import actor_for
from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Ctx
from bihuan.core.db import Database
from bihuan.people import service
from bihuan.people.models import Jurisdiction, Person, Venue
from bihuan.people.schemas import Page
from bihuan.sim import DistrictManifest
from bihuan.sim.demo import create_demo_users
from bihuan.sim.load import load_district


def _count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_every_generated_resident_venue_and_jurisdiction_is_loaded_once(
    database: Database, clock: SimulatedClock, district: DistrictManifest
) -> None:
    summary = load_district(database, clock, district.out_dir)

    assert summary.persons_rejected == 0
    assert _count(database, Person) == district.people
    assert _count(database, Venue) == pq.read_metadata(district.out_dir / "venues.parquet").num_rows
    assert _count(database, Jurisdiction) == pq.read_metadata(district.out_dir / "jurisdictions.parquet").num_rows

    again = load_district(database, clock, district.out_dir)
    assert (again.persons_created, again.persons_unchanged) == (0, district.people)
    assert (again.jurisdictions, again.addresses, again.venues) == (0, 0, 0)
    assert _count(database, Person) == district.people


def test_the_demo_has_one_login_per_role(database: Database, clock: SimulatedClock, district: DistrictManifest) -> None:
    load_district(database, clock, district.out_dir)
    roles = {login.role for login in create_demo_users(database)}
    assert roles == {role.value for role in Role}


def test_a_user_bound_to_one_building_sees_only_its_residents(
    database: Database, clock: SimulatedClock, district: DistrictManifest
) -> None:
    load_district(database, clock, district.out_dir)
    with database.session() as session:
        building = session.scalars(select(Jurisdiction).where(Jurisdiction.level == "building")).first()
        assert building is not None
        residents = session.scalar(select(func.count()).where(Person.jurisdiction_id == building.id))
        user = auth.create_user(
            Ctx(session, clock),
            username="building-worker",
            password="long-enough-1",
            role=Role.COMMUNITY_WORKER,
            jurisdiction_id=building.id,
        )
        ctx = Ctx(session=session, clock=clock, actor=actor_for(Ctx(session, clock), user))
        visible, count = service.list_persons(ctx, Page(page=1, page_size=200))

    assert 0 < count == residents < district.people
    assert {p.jurisdiction_id for p in visible} == {building.id}
