"""Bulk loading of the register's reference data (jurisdictions, addresses, venues), idempotent on codes.

Used when a whole district arrives at once (a demo, a migration from another system); rows whose
code is already stored are left as they are, so loading the same data twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.events import make_event, record_many
from bihuan.core.permissions import Permission, require
from bihuan.people.choices import JurisdictionLevel, VenueKind
from bihuan.people.models import Address, Jurisdiction, Venue

_CHUNK = 2000


def _stored_codes(ctx: Ctx, column: Any, codes: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(codes), _CHUNK):
        stmt = select(column, column.class_.id).where(column.in_(codes[start : start + _CHUNK]))
        found.update((key, id_) for key, id_ in ctx.session.execute(stmt))
    return found


def _insert(ctx: Ctx, model: Any, rows: list[dict[str, Any]], kind: EventKind, subject: str) -> int:
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        ids = ctx.session.execute(
            insert(model).returning(model.id, model.jurisdiction_id if subject != "jurisdiction" else model.id), chunk
        ).all()
        record_many(
            ctx,
            (
                make_event(
                    ctx, kind, jurisdiction_id=jid, subject_type=subject, subject_id=id_, payload={"source": "bulk"}
                )
                for id_, jid in ids
            ),
        )
    return len(rows)


def _paths(ctx: Ctx, codes: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(codes), _CHUNK):
        stmt = select(Jurisdiction.code, Jurisdiction.id, Jurisdiction.path).where(
            Jurisdiction.code.in_(codes[start : start + _CHUNK])
        )
        found.update((code, (id_, path)) for code, id_, path in ctx.session.execute(stmt))
    return found


def load_jurisdictions(ctx: Ctx, rows: Iterable[Mapping[str, Any]]) -> int:
    """Rows with code, name, name_en, level, parent_code, lat, lon; parents before children. Returns rows added."""
    require(ctx.actor, Permission.WRITE_JURISDICTIONS)
    ordered = sorted(rows, key=lambda r: JurisdictionLevel(r["level"]).depth)
    known = {
        j.code: (j.id, j.path)
        for j in ctx.session.scalars(
            select(Jurisdiction).where(Jurisdiction.code.in_({r["parent_code"] for r in ordered if r["parent_code"]}))
        )
    }
    added = 0
    for depth in sorted({JurisdictionLevel(r["level"]).depth for r in ordered}):
        level_rows = [r for r in ordered if JurisdictionLevel(r["level"]).depth == depth]
        stored = _stored_codes(ctx, Jurisdiction.code, [r["code"] for r in level_rows])
        new = []
        for row in level_rows:
            if row["code"] in stored:
                continue
            parent = known.get(row["parent_code"]) if row["parent_code"] else None
            if row["parent_code"] and parent is None:
                raise FieldError("parent_code", f"{row['parent_code']} (parent of {row['code']}) is unknown")
            path = (parent[1] if parent else "") + f"{row['code']}/"
            if not ctx.actor.sees(path):
                raise FieldError("code", f"{row['code']} is outside your jurisdiction")
            new.append(
                {
                    "code": row["code"],
                    "name": row["name"],
                    "name_en": row.get("name_en") or "",
                    "level": row["level"],
                    "parent_id": parent[0] if parent else None,
                    "path": path,
                    "lat": row.get("lat"),
                    "lon": row.get("lon"),
                }
            )
        added += _insert(ctx, Jurisdiction, new, EventKind.JURISDICTION_CREATED, "jurisdiction")
        known.update(_paths(ctx, [r["code"] for r in level_rows]))
    return added


def _jurisdiction_ids(ctx: Ctx, codes: set[str], field: str) -> dict[str, int]:
    found = _stored_codes(ctx, Jurisdiction.code, sorted(codes))
    missing = codes - set(found)
    if missing:
        raise FieldError(field, f"unknown jurisdiction code(s): {', '.join(sorted(missing)[:5])}")
    return found


def load_addresses(ctx: Ctx, rows: Iterable[Mapping[str, Any]]) -> int:
    """Rows with address_code, building_code, text, lat, lon. Returns rows added."""
    require(ctx.actor, Permission.WRITE_PEOPLE)
    rows = list(rows)
    stored = _stored_codes(ctx, Address.code, [r["address_code"] for r in rows])
    places = _jurisdiction_ids(ctx, {r["building_code"] for r in rows}, "building_code")
    new = [
        {
            "code": r["address_code"],
            "jurisdiction_id": places[r["building_code"]],
            "text": r["text"],
            "lat": r.get("lat"),
            "lon": r.get("lon"),
        }
        for r in rows
        if r["address_code"] not in stored
    ]
    return _insert(ctx, Address, new, EventKind.ADDRESS_CREATED, "address")


def load_venues(ctx: Ctx, rows: Iterable[Mapping[str, Any]]) -> int:
    """Rows with venue_code, name, kind, community_code, lat, lon, capacity. Returns rows added."""
    require(ctx.actor, Permission.WRITE_VENUES)
    rows = list(rows)
    stored = _stored_codes(ctx, Venue.code, [r["venue_code"] for r in rows])
    places = _jurisdiction_ids(ctx, {r["community_code"] for r in rows}, "community_code")
    new = [
        {
            "code": r["venue_code"],
            "name": r["name"],
            "kind": VenueKind(r["kind"]).value,
            "jurisdiction_id": places[r["community_code"]],
            "address_text": r.get("address_text") or "",
            "lat": r.get("lat"),
            "lon": r.get("lon"),
            "capacity": r.get("capacity"),
        }
        for r in rows
        if r["venue_code"] not in stored
    ]
    return _insert(ctx, Venue, new, EventKind.VENUE_CREATED, "venue")
