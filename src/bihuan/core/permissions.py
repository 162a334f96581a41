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
    PLAN_SCREENING = "plan_screening"  # create and close testing rounds, add sampling sites
    SAMPLE = "sample"  # open tubes and scan people into them
    RECORD_RESULTS = "record_results"  # upload and read lab results
    FOLLOW_UP = "follow_up"  # positive-pool re-tests and confirmations lists, re-test sampling
    DECIDE_CASES = "decide_cases"  # confirm a case, an asymptomatic infection, or exclude
    READ_TRACING = "read_tracing"  # investigations, traced contacts, chains and clusters
    INVESTIGATE = "investigate"  # edit investigations and trajectories, run the contact engine, link cases
    READ_TRANSFER = "read_transfer"  # the transfer queue, batches, vehicles and sites' free places
    PLAN_TRANSFER = "plan_transfer"  # queue people by hand, plan batches, manage vehicles
    DISPATCH = "dispatch"  # dispatch batches, record pick-ups and arrivals, report a vehicle failure
    MANAGE_SITES = "manage_sites"  # register sites, set their places, report a site full
    RELEASE = "release"  # release people from a site when their plan and release tests allow
    HOME_MONITORING = "home_monitoring"  # home health-monitoring tasks of released people (居家健康监测)
    MANAGE_INCIDENTS = "manage_incidents"  # activate and stand down incidents (平转战), staff their task forces
    MANAGE_TASKS = "manage_tasks"  # create any task of an incident, update any task's status


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
            Permission.PLAN_SCREENING,
            Permission.SAMPLE,
            Permission.RECORD_RESULTS,
            Permission.FOLLOW_UP,
            Permission.DECIDE_CASES,
            Permission.READ_TRACING,
            Permission.INVESTIGATE,
            Permission.READ_TRANSFER,
            Permission.PLAN_TRANSFER,
            Permission.DISPATCH,
            Permission.MANAGE_SITES,
            Permission.RELEASE,
            Permission.HOME_MONITORING,
            Permission.MANAGE_INCIDENTS,
            Permission.MANAGE_TASKS,
        }
    ),
    Role.INVESTIGATOR: frozenset(
        _EVERYONE
        | {
            Permission.WRITE_PEOPLE,
            Permission.REVEAL_IDENTITY,
            Permission.FOLLOW_UP,
            Permission.DECIDE_CASES,
            Permission.READ_TRACING,
            Permission.INVESTIGATE,
        }
    ),
    Role.LAB: frozenset(_EVERYONE | {Permission.SAMPLE, Permission.RECORD_RESULTS, Permission.FOLLOW_UP}),
    Role.TRANSFER: frozenset(
        _EVERYONE | {Permission.REVEAL_IDENTITY, Permission.READ_TRACING, Permission.READ_TRANSFER, Permission.DISPATCH}
    ),
    Role.SITE_MANAGER: frozenset(
        _EVERYONE
        | {
            Permission.REVEAL_IDENTITY,
            Permission.READ_TRACING,
            Permission.READ_TRANSFER,
            Permission.MANAGE_SITES,
            Permission.SAMPLE,
            Permission.RELEASE,
        }
    ),
    Role.COMMUNITY_WORKER: frozenset(
        _EVERYONE
        | {
            Permission.WRITE_PEOPLE,
            Permission.REVEAL_IDENTITY,
            Permission.WRITE_VENUES,
            Permission.SAMPLE,
            Permission.FOLLOW_UP,
            Permission.READ_TRACING,
            Permission.HOME_MONITORING,
        }
    ),
    Role.ANALYST: frozenset(_EVERYONE | {Permission.READ_AUDIT, Permission.READ_TRACING, Permission.READ_TRANSFER}),
}


def can(actor: Actor, permission: Permission) -> bool:
    return permission in GRANTS[actor.role]


def require(actor: Actor, permission: Permission) -> None:
    """Refuse with 403 unless the actor's role grants the permission."""
    if not can(actor, permission):
        raise Forbidden(f"role {actor.role.value} may not {permission.value.replace('_', ' ')}")
