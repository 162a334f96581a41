"""The context a service works in: its session, its clock and who is acting."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bihuan.core.choices import Role
from bihuan.core.clock import Clock


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user bound to a jurisdiction subtree, or the system itself."""

    user_id: int | None
    username: str
    role: Role
    jurisdiction_id: int | None
    jurisdiction_path: str  # "" sees everything; "33/3306/330604/" sees that county's subtree
    jurisdiction_name: str = ""

    def sees(self, jurisdiction_path: str) -> bool:
        return jurisdiction_path.startswith(self.jurisdiction_path)


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN, jurisdiction_id=None, jurisdiction_path="")


@dataclass(frozen=True, slots=True)
class Ctx:
    """Session + clock + actor: what every service function takes first."""

    session: Session
    clock: Clock
    actor: Actor = SYSTEM
