"""Access (权限): argon2-hashed passwords, revocable login sessions, and the actor a session stands for."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from bihuan.core.auth_models import User, UserSession
from bihuan.core.choices import EventKind, Role
from bihuan.core.context import Actor, Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


class LoginFailed(FieldError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("password", "unknown user or wrong password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _jurisdiction(ctx: Ctx, jurisdiction_id: int | None) -> tuple[str, str]:
    """The path and name of a jurisdiction ("" and "" for province-wide users)."""
    if jurisdiction_id is None:
        return "", ""
    from bihuan.people.service import jurisdiction_path_and_name  # the register owns the tree

    return jurisdiction_path_and_name(ctx, jurisdiction_id)


def _jurisdiction_path(ctx: Ctx, jurisdiction_id: int | None) -> str:
    return _jurisdiction(ctx, jurisdiction_id)[0]


def actor_for(ctx: Ctx, user: User) -> Actor:
    path, name = _jurisdiction(ctx, user.jurisdiction_id)
    return Actor(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction_id=user.jurisdiction_id,
        jurisdiction_path=path,
        jurisdiction_name=name,
    )


def create_user(
    ctx: Ctx, *, username: str, password: str, role: Role, jurisdiction_id: int | None, display_name: str = ""
) -> User:
    """A new user; a user may only create users inside their own subtree."""
    require(ctx.actor, Permission.MANAGE_USERS)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if not ctx.actor.sees(_jurisdiction_path(ctx, jurisdiction_id)):
        raise FieldError("jurisdiction_id", "outside your own jurisdiction")
    if ctx.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"username: {username!r} is taken")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role.value,
        jurisdiction_id=jurisdiction_id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(user)
    ctx.session.flush()
    record(
        ctx,
        EventKind.USER_CREATED,
        jurisdiction_id=jurisdiction_id,
        subject_type="user",
        subject_id=user.id,
        payload={"username": username, "role": role.value},
    )
    return user


def login(ctx: Ctx, username: str, password: str, *, hours: int) -> tuple[str, User]:
    """Check the password and open a session; returns the session token (shown once) and the user."""
    user = ctx.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        _hasher.hash(password)  # spend the same time whether or not the user exists
        raise LoginFailed()
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise LoginFailed() from None
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    ctx.session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    as_user = Ctx(session=ctx.session, clock=ctx.clock, actor=actor_for(ctx, user))
    record(
        as_user,
        EventKind.USER_LOGGED_IN,
        jurisdiction_id=user.jurisdiction_id,
        subject_type="user",
        subject_id=user.id,
        payload={"username": user.username},
    )
    return token, user


def user_for_token(ctx: Ctx, token: str) -> User:
    """The user of a live session, or NotFound."""
    now = ctx.clock.now()
    row = ctx.session.execute(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _token_hash(token), User.active.is_(True))
    ).first()
    if row is None or row.UserSession.revoked_at is not None or row.UserSession.expires_at <= now:
        raise NotFound("session: expired or unknown; log in again")
    return row.User


def logout(ctx: Ctx, token: str) -> None:
    session = ctx.session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if session is not None and session.revoked_at is None:
        session.revoked_at = ctx.clock.now()
