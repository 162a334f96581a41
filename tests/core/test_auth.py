"""Access: argon2 passwords, sessions that expire on the injected clock, logout that revokes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import PASSWORD, context, login, make_district, make_user

from bihuan.core import auth
from bihuan.core.auth_models import User, UserSession
from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Actor
from bihuan.core.db import Database
from bihuan.core.deps import SESSION_COOKIE
from bihuan.core.errors import FieldError, Forbidden


@pytest.fixture
def analyst(database: Database, clock: SimulatedClock) -> str:
    district = make_district(database, clock)
    return make_user(database, clock, Role.ANALYST, district.county_a, username="zhang.wei")


def test_only_an_argon2_hash_of_the_password_is_stored(database: Database, analyst: str) -> None:
    with database.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == analyst))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_a_login_opens_a_session_by_cookie_and_by_bearer_token(client: TestClient, analyst: str) -> None:
    response = client.post("/api/auth/login", json={"username": analyst, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["user"]["role"] == "analyst"
    assert client.cookies.get(SESSION_COOKIE) == token
    assert client.get("/api/auth/me").json()["username"] == analyst
    client.cookies.clear()
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == analyst


def test_only_a_hash_of_the_session_token_is_stored(client: TestClient, database: Database, analyst: str) -> None:
    token = client.post("/api/auth/login", json={"username": analyst, "password": PASSWORD}).json()["token"]
    with database.session() as session:
        hashes = session.scalars(select(UserSession.token_hash)).all()
    assert len(hashes) == 1
    assert token not in hashes[0]


@pytest.mark.parametrize(
    ("username", "password"), [("zhang.wei", "wrong-password-1"), ("nobody", PASSWORD), ("zhang.wei", "")]
)
def test_a_wrong_password_or_unknown_user_gets_401_and_no_cookie(
    client: TestClient, analyst: str, username: str, password: str
) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert SESSION_COOKIE not in response.cookies
    assert client.get("/api/auth/me").status_code == 401


def test_a_session_expires_after_session_hours_on_the_injected_clock(
    client: TestClient, clock: SimulatedClock, analyst: str
) -> None:
    headers = login(client, analyst)
    hours = client.app.state.settings.session_hours  # type: ignore[attr-defined]
    clock.advance(timedelta(hours=hours) - timedelta(seconds=1))
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_logout_revokes_the_session_for_good(client: TestClient, analyst: str) -> None:
    headers = login(client, analyst)
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.post("/api/auth/login", json={"username": analyst, "password": PASSWORD}).status_code == 200


def test_logging_out_one_session_leaves_the_others_open(client: TestClient, analyst: str) -> None:
    phone, laptop = login(client, analyst), login(client, analyst)
    client.post("/api/auth/logout", headers=phone)
    assert client.get("/api/auth/me", headers=phone).status_code == 401
    assert client.get("/api/auth/me", headers=laptop).status_code == 200


def test_a_deactivated_user_can_neither_log_in_nor_keep_a_session(
    client: TestClient, database: Database, analyst: str
) -> None:
    headers = login(client, analyst)
    with database.session() as session:
        session.scalars(select(User).where(User.username == analyst)).one().active = False
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.post("/api/auth/login", json={"username": analyst, "password": PASSWORD}).status_code == 401


def test_the_login_page_sets_the_cookie_and_goes_on_only_to_this_site(client: TestClient, analyst: str) -> None:
    form = {"username": analyst, "password": PASSWORD, "next": "//evil.example/steal"}
    response = client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/people"
    assert SESSION_COOKIE in response.cookies


def test_the_login_page_says_no_to_a_wrong_password(client: TestClient, analyst: str) -> None:
    response = client.post("/login", data={"username": analyst, "password": "nope-nope-nope"}, follow_redirects=False)
    assert response.status_code == 401
    assert SESSION_COOKIE not in response.cookies


def test_a_password_shorter_than_eight_characters_is_refused(database: Database, clock: SimulatedClock) -> None:
    with pytest.raises(FieldError) as refused, context(database, clock) as ctx:
        auth.create_user(ctx, username="li", password="short", role=Role.LAB, jurisdiction_id=None)
    assert refused.value.field == "password"


def test_a_county_admin_cannot_create_a_user_for_another_county(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    county_admin = Actor(1, "admin-a", Role.ADMIN, district.county_a, "33/3306/330604/")
    with pytest.raises(FieldError) as refused, context(database, clock, county_admin) as ctx:
        auth.create_user(ctx, username="b", password=PASSWORD, role=Role.LAB, jurisdiction_id=district.county_b)
    assert refused.value.field == "jurisdiction_id"


def test_only_a_role_that_manages_users_creates_them(database: Database, clock: SimulatedClock) -> None:
    commander = Actor(None, "commander", Role.COMMANDER, None, SYSTEM.jurisdiction_path)
    with pytest.raises(Forbidden), context(database, clock, commander) as ctx:
        auth.create_user(ctx, username="x", password=PASSWORD, role=Role.LAB, jurisdiction_id=None)
