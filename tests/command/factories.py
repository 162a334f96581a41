"""Incidents activated the way a commander does it, and the acting users of command tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.factories import context

from bihuan.command import service
from bihuan.command.schemas import IncidentCreate, IncidentPublic, TaskCreate, TaskPublic
from bihuan.core import auth
from bihuan.core.auth_models import User
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import SYSTEM, Actor
from bihuan.core.db import Database
from bihuan.protocol import load_profile

PROFILE = load_profile("cn-8th-2021")


def actor(database: Database, clock: SimulatedClock, username: str) -> Actor:
    """The actor a logged-in user acts as."""
    with context(database, clock) as ctx:
        user = ctx.session.scalar(select(User).where(User.username == username))
        assert user is not None
        return auth.actor_for(ctx, user)


def user_id(database: Database, username: str) -> int:
    with database.session() as session:
        found = session.scalar(select(User.id).where(User.username == username))
        assert found is not None
        return found


def activate(
    database: Database, clock: SimulatedClock, jurisdiction_id: int, name: str = "上虞区疫情处置", by: Actor = SYSTEM
) -> IncidentPublic:
    with context(database, clock, by) as ctx:
        return service.activate_incident(ctx, PROFILE, IncidentCreate(jurisdiction_id=jurisdiction_id, name=name))


def add_task(database: Database, clock: SimulatedClock, incident_id: int, **fields: object) -> TaskPublic:
    values: dict[str, object] = {
        "incident_id": incident_id,
        "task_force": "tracing",
        "title": "核查密接名单",
        "due_at": clock.now() + timedelta(hours=4),
    }
    values.update(fields)
    with context(database, clock) as ctx:
        return service.create_task(ctx, TaskCreate.model_validate(values))
