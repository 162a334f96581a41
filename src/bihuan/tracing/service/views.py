"""Read-only look-ups the tracing pages need to show in words what the services return (no business rules).

Contacts' reasons name venues and people by id (``venue:12``, ``via:34:household``); the chain
pages name cases by case id. These helpers turn those ids into names and investigation links.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, select

from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.permissions import Permission, require
from bihuan.people.models import Person, Venue
from bihuan.people.service import in_scope
from bihuan.tracing.models import Investigation
from bihuan.tracing.schemas import ContactPublic

_CHUNK = 500


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    return id_chunks(ids, _CHUNK)


def _rows(stmt: Any) -> Select[Any]:
    """A two-column select, as the people service's scope filter takes it."""
    return cast("Select[Any]", stmt)


def venue_names(ctx: Ctx, venue_ids: Iterable[int]) -> dict[int, str]:
    """Venue names by id (venues are public places: any venue a contact reason names)."""
    require(ctx.actor, Permission.READ_TRACING)
    found: dict[int, str] = {}
    for chunk in _chunks(venue_ids):
        found.update(
            {int(i): str(n) for i, n in ctx.session.execute(select(Venue.id, Venue.name).where(Venue.id.in_(chunk)))}
        )
    return found


def person_names(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, str]:
    """Names of people a case's contact reasons or chain graph name (its contacts and their contacts)."""
    require(ctx.actor, Permission.READ_TRACING)
    found: dict[int, str] = {}
    for chunk in _chunks(person_ids):
        rows = ctx.session.execute(select(Person.id, Person.name).where(Person.id.in_(chunk)))
        found.update({int(i): str(n) for i, n in rows})
    return found


def investigations_of_cases(ctx: Ctx, case_ids: Iterable[int]) -> dict[int, int]:
    """The investigation id of each case, for the cases in the actor's subtree (others are left out)."""
    require(ctx.actor, Permission.READ_TRACING)
    found: dict[int, int] = {}
    for chunk in _chunks(case_ids):
        stmt = in_scope(ctx, _rows(select(Investigation.case_id, Investigation.id)), Investigation.jurisdiction_id)
        found.update({int(c): int(i) for c, i in ctx.session.execute(stmt.where(Investigation.case_id.in_(chunk)))})
    return found


def investigations_of_people(ctx: Ctx, person_ids: Iterable[int]) -> dict[int, int]:
    """The investigation id of each person who is a case in the actor's subtree (the chain graph's nodes)."""
    require(ctx.actor, Permission.READ_TRACING)
    found: dict[int, int] = {}
    for chunk in _chunks(person_ids):
        stmt = in_scope(ctx, _rows(select(Investigation.person_id, Investigation.id)), Investigation.jurisdiction_id)
        found.update({int(p): int(i) for p, i in ctx.session.execute(stmt.where(Investigation.person_id.in_(chunk)))})
    return found


@dataclass(frozen=True)
class Reason:
    """One reason a contact was found, parsed for display: ``kind`` picks the sentence, the rest fills it."""

    kind: str  # household, venue, via_household, via_venue, trip, grid, other
    raw: str
    venue: str = ""
    person: str = ""
    ref: str = ""


def _parse_reason(raw: str) -> tuple[str, int | None, int | None, str]:
    """Split a reason: ``household``, ``venue:<id>``, ``via:<person>:household``, ``via:<person>:venue:<id>``,
    ``trip:<id>``, ``grid:<cell>``; anything else is shown as it is."""
    parts = raw.split(":")
    if raw == "household":
        return "household", None, None, ""
    if parts[0] == "venue" and len(parts) == 2 and parts[1].isdigit():
        return "venue", int(parts[1]), None, ""
    if parts[0] == "via" and len(parts) >= 3 and parts[1].isdigit():
        rest = parts[2:]
        if rest == ["household"]:
            return "via_household", None, int(parts[1]), ""
        if len(rest) == 2 and rest[0] == "venue" and rest[1].isdigit():
            return "via_venue", int(rest[1]), int(parts[1]), ""
        return "via_other", None, int(parts[1]), ":".join(rest)
    if parts[0] in ("trip", "grid") and len(parts) >= 2:
        return parts[0], None, None, ":".join(parts[1:])
    return "other", None, None, raw


def describe_reasons(ctx: Ctx, rows: list[ContactPublic]) -> dict[int, list[Reason]]:
    """Each contact's reasons with the venues and people they name looked up (two queries in all)."""
    parsed = {row.id: [(raw, *_parse_reason(raw)) for raw in row.reasons] for row in rows}
    venue_ids = {venue for found in parsed.values() for _, _, venue, _, _ in found if venue is not None}
    person_ids = {person for found in parsed.values() for _, _, _, person, _ in found if person is not None}
    venues = venue_names(ctx, venue_ids) if venue_ids else {}
    people = person_names(ctx, person_ids) if person_ids else {}
    return {
        contact_id: [
            Reason(
                kind=kind,
                raw=raw,
                venue="" if venue is None else venues.get(venue, f"#{venue}"),
                person="" if person is None else people.get(person, f"#{person}"),
                ref=ref,
            )
            for raw, kind, venue, person, ref in found
        ]
        for contact_id, found in parsed.items()
    }


def named_nodes(ctx: Ctx, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chain-graph nodes with contacts named (the graph names cases only) and case nodes linked to their page."""
    keys = [int(node["id"]) for node in nodes if str(node["id"]).isdigit()]
    unnamed = [int(node["id"]) for node in nodes if node["name"] == node["id"] and str(node["id"]).isdigit()]
    names = person_names(ctx, unnamed) if unnamed else {}
    pages = investigations_of_people(ctx, keys) if keys else {}
    shown = []
    for node in nodes:
        node = dict(node)
        if str(node["id"]).isdigit():
            key = int(node["id"])
            node["name"] = names.get(key, node["name"])
            if key in pages:
                node["url"] = f"/tracing/investigations/{pages[key]}"
        shown.append(node)
    return shown
