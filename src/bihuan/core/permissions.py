"""What each role may do (权限), as data read by services and routes alike."""

from __future__ import annotations

from enum import StrEnum

from bihuan.core.choices import Role
from bihuan.core.context import Actor
from bihuan.core.errors import Forbidden


class Permission(StrEnum):
    READ_PEOPLE = "read_people"
    WRITE_PEOPLE = "write_people"
    IMPORT_PEOPLE = "import_people"
    REVEAL_IDENTITY = "reveal_identity"
    WRITE_JURISDICTIONS = "write_jurisdictions"
    WRITE_VENUES = "write_venues"
    READ_AUDIT = "read_audit"
    MANAGE_USERS = "manage_users"


_EVERYONE = {Permission.READ_PEOPLE}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.COMMANDER: frozenset(
        _EVERYONE
        | {
            Permission.WRITE_PEOPLE,
            Permission.IMPORT_PEOPLE,
            Permission.REVEAL_IDENTITY,
            Permission.WRITE_VENUES,
            Permission.READ_AUDIT,
        }
    ),
    Role.INVESTIGATOR: frozenset(_EVERYONE | {Permission.WRITE_PEOPLE, Permission.REVEAL_IDENTITY}),
    Role.LAB: frozenset(_EVERYONE),
    Role.TRANSFER: frozenset(_EVERYONE | {Permission.REVEAL_IDENTITY}),
    Role.SITE_MANAGER: frozenset(_EVERYONE | {Permission.REVEAL_IDENTITY}),
    Role.COMMUNITY_WORKER: frozenset(
        _EVERYONE | {Permission.WRITE_PEOPLE, Permission.REVEAL_IDENTITY, Permission.WRITE_VENUES}
    ),
    Role.ANALYST: frozenset(_EVERYONE | {Permission.READ_AUDIT}),
}


def can(actor: Actor, permission: Permission) -> bool:
    return permission in GRANTS[actor.role]


def require(actor: Actor, permission: Permission) -> None:
    """Refuse with 403 unless the actor's role grants the permission."""
    if not can(actor, permission):
        raise Forbidden(f"role {actor.role.value} may not {permission.value.replace('_', ' ')}")
