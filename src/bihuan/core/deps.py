"""FastAPI dependencies: the database session, the clock and the acting user, as one typed context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from bihuan.core.auth import actor_for, user_for_token
from bihuan.core.auth_models import User
from bihuan.core.choices import Role
from bihuan.core.clock import Clock
from bihuan.core.context import SYSTEM, Ctx
from bihuan.core.db import Database
from bihuan.core.errors import BihuanError, NotFound
from bihuan.protocol import ProtocolProfile

SESSION_COOKIE = "bihuan_session"


class NotAuthenticated(BihuanError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("not logged in: log in at /login or send Authorization: Bearer <token>")


def session_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_profile(request: Request) -> ProtocolProfile:
    """The deployment's protocol profile, loaded once by create_app."""
    profile: ProtocolProfile = request.app.state.profile
    return profile


ProfileDep = Annotated[ProtocolProfile, Depends(get_profile)]


def get_zone(request: Request) -> ZoneInfo:
    """The deployment's local time zone (``BIHUAN_TIMEZONE``): days of plans and measurements are local days."""
    return ZoneInfo(request.app.state.settings.timezone)


ZoneDep = Annotated[ZoneInfo, Depends(get_zone)]


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """What the pages show of the user (plain data: it outlives the request's session)."""

    username: str
    display_name: str
    role: Role
    jurisdiction_name: str | None


def _signed_in(ctx: Ctx, user: User) -> SignedInUser:
    return SignedInUser(user.username, user.display_name, Role(user.role), ctx.actor.jurisdiction_name or None)


def _context(request: Request, *, anonymous: bool) -> Iterator[Ctx]:
    database = get_database(request)
    with database.session() as session:
        ctx = Ctx(session=session, clock=get_clock(request), actor=SYSTEM)
        token = session_token(request)
        if token is None:
            if not anonymous:
                raise NotAuthenticated()
            yield ctx
            return
        try:
            user = user_for_token(ctx, token)
        except NotFound:
            if not anonymous:
                raise NotAuthenticated() from None
            yield ctx
            return
        ctx = Ctx(session=session, clock=ctx.clock, actor=actor_for(ctx, user))
        request.state.user = _signed_in(ctx, user)
        yield ctx


def user_context(request: Request) -> Iterator[Ctx]:
    """The context of a logged-in user; 401 otherwise."""
    yield from _context(request, anonymous=False)


def public_context(request: Request) -> Iterator[Ctx]:
    """A context for pages open to anyone (login): the system actor unless someone is logged in."""
    yield from _context(request, anonymous=True)


# scope="function": the transaction commits when the route returns, before the response is sent, so a
# browser following a redirect after a form post always sees what the post changed.
UserCtx = Annotated[Ctx, Depends(user_context, scope="function")]
PublicCtx = Annotated[Ctx, Depends(public_context, scope="function")]
