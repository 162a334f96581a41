"""HTTP API of access: log in, log out, who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from bihuan.core import auth
from bihuan.core.deps import SESSION_COOKIE, PublicCtx, UserCtx, session_token

router = APIRouter(prefix="/api/auth", tags=["access"])


class LoginRequest(BaseModel):
    username: str
    password: str


class UserPublic(BaseModel):
    id: int | None
    username: str
    role: str
    jurisdiction_id: int | None


class LoginPublic(BaseModel):
    token: str
    user: UserPublic


@router.post("/login")
def login(ctx: PublicCtx, data: LoginRequest, request: Request, response: Response) -> LoginPublic:
    """Open a session: the token comes back once, and as an HttpOnly cookie for the pages."""
    hours = request.app.state.settings.session_hours
    token, user = auth.login(ctx, data.username, data.password, hours=hours)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", max_age=hours * 3600)
    return LoginPublic(
        token=token,
        user=UserPublic(id=user.id, username=user.username, role=user.role, jurisdiction_id=user.jurisdiction_id),
    )


@router.post("/logout", status_code=204)
def logout(ctx: PublicCtx, request: Request, response: Response) -> None:
    token = session_token(request)
    if token:
        auth.logout(ctx, token)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me")
def me(ctx: UserCtx) -> UserPublic:
    actor = ctx.actor
    return UserPublic(
        id=actor.user_id, username=actor.username, role=actor.role.value, jurisdiction_id=actor.jurisdiction_id
    )
