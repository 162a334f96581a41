"""Factories that build domain objects for tests: a small district, persons, users."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import event

from bihuan.core import auth
from bihuan.core.choices import Role
from bihuan.core.clock import Clock
from bihuan.core.context import SYSTEM, Actor, Ctx
from bihuan.core.db import Database
from bihuan.core.resident_id import make_resident_id
from bihuan.people import service
from bihuan.people.choices import JurisdictionLevel
from bihuan.people.models import Jurisdiction
from bihuan.people.schemas import JurisdictionCreate, PersonCreate, PersonPublic

PASSWORD = "correct-horse-42"
_sequence = itertools.count()


@contextmanager
def context(database: Database, clock: Clock, actor: Actor = SYSTEM) -> Iterator[Ctx]:
    """A service context in its own committed transaction."""
    with database.session() as session:
        yield Ctx(session=session, clock=clock, actor=actor)


@dataclass(frozen=True)
class District:
    """Ids of a province › city › two counties, each with a street, a community and a building."""

    province: int
    city: int
    county_a: int
    county_b: int
    building_a: int
    building_b: int
    community_a: int


def _node(ctx: Ctx, code: str, name: str, level: JurisdictionLevel, parent: int | None) -> Jurisdiction:
    return service.create_jurisdiction(
        ctx, JurisdictionCreate(code=code, name=name, name_en=name, level=level, parent_id=parent)
    )


def make_district(database: Database, clock: Clock) -> District:
    with context(database, clock) as ctx:
        province = _node(ctx, "33", "浙江省", JurisdictionLevel.PROVINCE, None)
        city = _node(ctx, "3306", "绍兴市", JurisdictionLevel.CITY, province.id)
        ids = []
        for county_code, county_name in (("330604", "上虞区"), ("330602", "越城区")):
            county = _node(ctx, county_code, county_name, JurisdictionLevel.COUNTY, city.id)
            street = _node(ctx, f"{county_code}001", f"{county_name}百官街道", JurisdictionLevel.STREET, county.id)
            community = _node(ctx, f"{county_code}001001", "龙山社区", JurisdictionLevel.COMMUNITY, street.id)
            building = _node(ctx, f"{county_code}001001001", "1幢", JurisdictionLevel.BUILDING, community.id)
            ids.append((county.id, building.id, community.id))
        return District(province.id, city.id, ids[0][0], ids[1][0], ids[0][1], ids[1][1], ids[0][2])


def new_resident_id(region: str = "330604", birth: date = date(1985, 3, 4), sex: str = "F") -> str:
    return make_resident_id(region, birth, next(_sequence) % 500, sex)


def make_person(database: Database, clock: Clock, jurisdiction_id: int, **fields: object) -> PersonPublic:
    values: dict[str, object] = {"name": "王芳", "resident_id": new_resident_id(), "jurisdiction_id": jurisdiction_id}
    values.update(fields)
    with context(database, clock) as ctx:
        return service.create_person(ctx, PersonCreate.model_validate(values))


def make_user(database: Database, clock: Clock, role: Role, jurisdiction_id: int | None, username: str = "") -> str:
    username = username or f"{role.value}-{next(_sequence)}"
    with context(database, clock) as ctx:
        auth.create_user(ctx, username=username, password=PASSWORD, role=role, jurisdiction_id=jurisdiction_id)
    return username


def login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Log in through the API; returns Bearer headers and leaves no session cookie on the client."""
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


@contextmanager
def count_statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
