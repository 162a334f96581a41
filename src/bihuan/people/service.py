"""The register's use cases (人员库): the only code that changes its tables.

Every read is scoped to the actor's jurisdiction subtree; something outside it is answered
exactly as something that does not exist.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.errors import Conflict, FieldError, NotFound
from bihuan.core.events import record
from bihuan.core.permissions import Permission, require
from bihuan.core.resident_id import mask_phone, mask_resident_id
from bihuan.people.choices import JurisdictionLevel
from bihuan.people.models import Address, Household, Jurisdiction, Person, Venue
from bihuan.people.schemas import (
    AddressCreate,
    HouseholdCreate,
    JurisdictionCreate,
    Page,
    PersonCreate,
    PersonIdentityRevealed,
    PersonPublic,
    PersonUpdate,
    VenueCreate,
    VenueUpdate,
)
from bihuan.people.validation import clean_identity, normalise_phone

T = TypeVar("T")
C = TypeVar("C", Jurisdiction, Address, Household, Venue)


# -- scope ---------------------------------------------------------------------------------------


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def in_scope(ctx: Ctx, stmt: _Query, jurisdiction_column: Any) -> _Query:
    """Restrict a query to rows whose jurisdiction lies in the actor's subtree."""
    if not ctx.actor.jurisdiction_path:
        return stmt
    subtree = select(Jurisdiction.id).where(Jurisdiction.path.startswith(ctx.actor.jurisdiction_path))
    return stmt.where(jurisdiction_column.in_(subtree))


def jurisdiction_path(ctx: Ctx, jurisdiction_id: int) -> str:
    return jurisdiction_path_and_name(ctx, jurisdiction_id)[0]


def jurisdiction_path_and_name(ctx: Ctx, jurisdiction_id: int) -> tuple[str, str]:
    row = ctx.session.execute(
        select(Jurisdiction.path, Jurisdiction.name).where(Jurisdiction.id == jurisdiction_id)
    ).first()
    if row is None:
        raise FieldError("jurisdiction_id", f"jurisdiction {jurisdiction_id} does not exist")
    return row.path, row.name


def _visible_jurisdiction(ctx: Ctx, jurisdiction_id: int, field: str = "jurisdiction_id") -> Jurisdiction:
    found = ctx.session.get(Jurisdiction, jurisdiction_id)
    if found is None or not ctx.actor.sees(found.path):
        raise FieldError(field, f"jurisdiction {jurisdiction_id} does not exist or is outside your jurisdiction")
    return found


def _get_scoped(ctx: Ctx, model: type[T], id_: int, jurisdiction_column: Any, what: str) -> T:
    stmt: Select[Any] = select(model).where(model.id == id_)  # type: ignore[attr-defined]
    row: T | None = ctx.session.scalar(in_scope(ctx, stmt, jurisdiction_column))
    if row is None:
        raise NotFound(f"{what} {id_} not found")
    return row


def _page(session: Session, stmt: Select[Any], page: Page) -> tuple[list[Any], int]:
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.limit(page.page_size).offset(page.offset)))
    return rows, count


def _add_coded(ctx: Ctx, row: C, event: EventKind, subject_type: str, **payload: Any) -> C:
    """Store a new row whose `code` must be unique, with its creation event."""
    model = type(row)
    if ctx.session.scalar(select(model.id).where(model.code == row.code)) is not None:
        raise Conflict(f"code: {subject_type} {row.code} exists")
    ctx.session.add(row)
    ctx.session.flush()
    place = row.id if isinstance(row, Jurisdiction) else row.jurisdiction_id
    record(
        ctx,
        event,
        jurisdiction_id=place,
        subject_type=subject_type,
        subject_id=row.id,
        payload={"code": row.code, **payload},
    )
    return row


# -- jurisdictions -------------------------------------------------------------------------------


def create_jurisdiction(ctx: Ctx, data: JurisdictionCreate) -> Jurisdiction:
    """A node of the tree; its level must sit right below its parent's (a building only under a community)."""
    require(ctx.actor, Permission.WRITE_JURISDICTIONS)
    level = data.level
    if data.parent_id is None:
        if level is not JurisdictionLevel.PROVINCE or ctx.actor.jurisdiction_path:
            raise FieldError("parent_id", "only a province has no parent, and only a province-wide user adds one")
        path = f"{data.code}/"
    else:
        parent = _visible_jurisdiction(ctx, data.parent_id, "parent_id")
        if JurisdictionLevel(parent.level).depth + 1 != level.depth:
            raise FieldError("level", f"a {level.value} cannot sit directly under a {parent.level}")
        path = f"{parent.path}{data.code}/"
    node = Jurisdiction(**data.model_dump(), path=path)
    node.level = level.value
    return _add_coded(ctx, node, EventKind.JURISDICTION_CREATED, "jurisdiction", name=node.name, level=node.level)


def list_jurisdictions(
    ctx: Ctx, page: Page, *, parent_id: int | None = None, level: JurisdictionLevel | None = None, q: str = ""
) -> tuple[list[Jurisdiction], int]:
    stmt = in_scope(ctx, select(Jurisdiction), Jurisdiction.id).order_by(Jurisdiction.path)
    if parent_id is not None:
        stmt = stmt.where(Jurisdiction.parent_id == parent_id)
    if level is not None:
        stmt = stmt.where(Jurisdiction.level == level.value)
    if q:
        stmt = stmt.where(Jurisdiction.name.contains(q) | Jurisdiction.code.startswith(q))
    return _page(ctx.session, stmt, page)


def get_jurisdiction(ctx: Ctx, jurisdiction_id: int) -> Jurisdiction:
    return _get_scoped(ctx, Jurisdiction, jurisdiction_id, Jurisdiction.id, "jurisdiction")


def jurisdictions_by_code(ctx: Ctx, codes: set[str]) -> dict[str, Jurisdiction]:
    """The visible jurisdictions with these codes (chunked, for imports)."""
    found: dict[str, Jurisdiction] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 1000):
        stmt = in_scope(
            ctx,
            select(Jurisdiction).where(Jurisdiction.code.in_(ordered[start : start + 1000])),
            Jurisdiction.id,
        )
        found.update((j.code, j) for j in ctx.session.scalars(stmt))
    return found


# -- addresses and households --------------------------------------------------------------------


def create_address(ctx: Ctx, data: AddressCreate) -> Address:
    require(ctx.actor, Permission.WRITE_PEOPLE)
    _visible_jurisdiction(ctx, data.jurisdiction_id)
    return _add_coded(ctx, Address(**data.model_dump()), EventKind.ADDRESS_CREATED, "address")


def get_address(ctx: Ctx, address_id: int) -> Address:
    return _get_scoped(ctx, Address, address_id, Address.jurisdiction_id, "address")


def create_household(ctx: Ctx, data: HouseholdCreate) -> Household:
    require(ctx.actor, Permission.WRITE_PEOPLE)
    _visible_jurisdiction(ctx, data.jurisdiction_id)
    if data.address_id is not None:
        _check_reference(ctx, Address, data.address_id, "address_id")
    return _add_coded(ctx, Household(**data.model_dump()), EventKind.HOUSEHOLD_CREATED, "household")


def get_household(ctx: Ctx, household_id: int) -> Household:
    return _get_scoped(ctx, Household, household_id, Household.jurisdiction_id, "household")


def list_households(ctx: Ctx, page: Page, *, jurisdiction_id: int | None = None) -> tuple[list[Household], int]:
    stmt = in_scope(ctx, select(Household), Household.jurisdiction_id).order_by(Household.id)
    if jurisdiction_id is not None:
        stmt = _under(ctx, stmt, Household.jurisdiction_id, jurisdiction_id)
    return _page(ctx.session, stmt, page)


def _under(ctx: Ctx, stmt: Select[Any], column: Any, jurisdiction_id: int) -> Select[Any]:
    path = jurisdiction_path(ctx, jurisdiction_id)
    return stmt.where(column.in_(select(Jurisdiction.id).where(Jurisdiction.path.startswith(path))))


def _check_reference(ctx: Ctx, model: type[Any], id_: int, field: str) -> None:
    if ctx.session.scalar(in_scope(ctx, select(model.id).where(model.id == id_), model.jurisdiction_id)) is None:
        raise FieldError(field, f"{id_} does not exist or is outside your jurisdiction")


# -- persons -------------------------------------------------------------------------------------


def person_public(person: Person, jurisdiction_name: str, address_text: str | None) -> PersonPublic:
    """Masked view of a person (3301**********1234, 138****5678)."""
    return PersonPublic(
        id=person.id,
        name=person.name,
        sex=person.sex,
        birth_date=person.birth_date,
        nationality=person.nationality,
        resident_id_masked=mask_resident_id(person.resident_id) if person.resident_id else None,
        passport_masked=mask_resident_id(person.passport_no) if person.passport_no else None,
        phone_masked=mask_phone(person.phone) if person.phone else None,
        jurisdiction_id=person.jurisdiction_id,
        jurisdiction_name=jurisdiction_name,
        household_id=person.household_id,
        address_id=person.address_id,
        address_text=address_text,
        updated_at=person.updated_at,
    )


def _public_rows(stmt: Select[Any]) -> Select[Any]:
    return (
        stmt.add_columns(Jurisdiction.name, Address.text)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .outerjoin(Address, Address.id == Person.address_id)
    )


def list_persons(
    ctx: Ctx,
    page: Page,
    *,
    q: str = "",
    resident_id: str = "",
    phone: str = "",
    jurisdiction_id: int | None = None,
    household_id: int | None = None,
    sex: str = "",
) -> tuple[list[PersonPublic], int]:
    """Search the register inside the actor's subtree; exact identity numbers or a name prefix."""
    require(ctx.actor, Permission.READ_PEOPLE)
    stmt = in_scope(ctx, select(Person), Person.jurisdiction_id)
    if q:
        stmt = stmt.where(Person.name.startswith(q.strip()))
    if resident_id:
        stmt = stmt.where(Person.resident_id == resident_id.strip().upper())
    if phone:
        stmt = stmt.where(Person.phone == normalise_phone(phone))
    if jurisdiction_id is not None:
        stmt = _under(ctx, stmt, Person.jurisdiction_id, jurisdiction_id)
    if household_id is not None:
        stmt = stmt.where(Person.household_id == household_id)
    if sex:
        stmt = stmt.where(Person.sex == sex)
    count = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = ctx.session.execute(_public_rows(stmt).order_by(Person.id).limit(page.page_size).offset(page.offset))
    return [person_public(p, jname, atext) for p, jname, atext in rows], count


def _scoped_person(ctx: Ctx, person_id: int) -> Person:
    return _get_scoped(ctx, Person, person_id, Person.jurisdiction_id, "person")


def get_person(ctx: Ctx, person_id: int) -> PersonPublic:
    require(ctx.actor, Permission.READ_PEOPLE)
    stmt = _public_rows(in_scope(ctx, select(Person).where(Person.id == person_id), Person.jurisdiction_id))
    row = ctx.session.execute(stmt).first()
    if row is None:
        raise NotFound(f"person {person_id} not found")
    return person_public(*row)


def _check_household_and_address(ctx: Ctx, household_id: int | None, address_id: int | None) -> None:
    if household_id is not None:
        _check_reference(ctx, Household, household_id, "household_id")
    if address_id is not None:
        _check_reference(ctx, Address, address_id, "address_id")


def create_person(ctx: Ctx, data: PersonCreate) -> PersonPublic:
    """Register one person; the same resident ID or passport twice is a conflict, not a second person."""
    require(ctx.actor, Permission.WRITE_PEOPLE)
    identity = clean_identity(data.model_dump(), today=ctx.clock.now().date())
    _visible_jurisdiction(ctx, data.jurisdiction_id)
    _check_household_and_address(ctx, data.household_id, data.address_id)
    if find_person_id(ctx.session, identity.resident_id, identity.passport_no, identity.nationality):
        raise Conflict("resident_id: a person with this identity number is already registered")
    now = ctx.clock.now()
    person = Person(
        **{f: getattr(identity, f) for f in identity.__slots__},
        jurisdiction_id=data.jurisdiction_id,
        household_id=data.household_id,
        address_id=data.address_id,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(person)
    ctx.session.flush()
    record(
        ctx,
        EventKind.PERSON_CREATED,
        person_id=person.id,
        jurisdiction_id=person.jurisdiction_id,
        subject_type="person",
        subject_id=person.id,
        payload={"source": "api"},
    )
    return get_person(ctx, person.id)


def find_person_id(session: Session, resident_id: str | None, passport_no: str | None, nationality: str) -> int | None:
    if resident_id:
        return session.scalar(select(Person.id).where(Person.resident_id == resident_id))
    return session.scalar(select(Person.id).where(Person.passport_no == passport_no, Person.nationality == nationality))


def update_person(ctx: Ctx, person_id: int, data: PersonUpdate) -> PersonPublic:
    """Change the fields given; the event keeps what changed, from what, to what."""
    require(ctx.actor, Permission.WRITE_PEOPLE)
    person = _scoped_person(ctx, person_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        changes["name"] = clean_identity(
            {
                "name": changes["name"],
                "resident_id": person.resident_id,
                "passport_no": person.passport_no,
                "nationality": person.nationality,
                "sex": person.sex,
                "birth_date": person.birth_date,
            },
            today=ctx.clock.now().date(),
        ).name
    if changes.get("phone"):
        changes["phone"] = normalise_phone(changes["phone"])
    if changes.get("jurisdiction_id") is not None:
        _visible_jurisdiction(ctx, changes["jurisdiction_id"])
    elif "jurisdiction_id" in changes:
        raise FieldError("jurisdiction_id", "cannot be emptied")
    _check_household_and_address(ctx, changes.get("household_id"), changes.get("address_id"))
    diff = {k: [getattr(person, k), v] for k, v in changes.items() if getattr(person, k) != v}
    if diff:
        for field, (_old, new) in diff.items():
            setattr(person, field, new)
        person.updated_at = ctx.clock.now()
        masked = {k: ([mask_phone(x) if x else x for x in v] if k == "phone" else v) for k, v in diff.items()}
        record(
            ctx,
            EventKind.PERSON_UPDATED,
            person_id=person.id,
            jurisdiction_id=person.jurisdiction_id,
            subject_type="person",
            subject_id=person.id,
            payload={"changes": masked, "source": "api"},
        )
    ctx.session.flush()
    return get_person(ctx, person.id)


def reveal_identity(ctx: Ctx, person_id: int, reason: str) -> PersonIdentityRevealed:
    """The full identity numbers, for an explicit reason that is logged (查看完整身份证号须说明理由)."""
    require(ctx.actor, Permission.REVEAL_IDENTITY)
    if len(reason.strip()) < 4:
        raise FieldError("reason", "say why the full number is needed (at least 4 characters)")
    person = _scoped_person(ctx, person_id)
    record(
        ctx,
        EventKind.RESIDENT_ID_REVEALED,
        person_id=person.id,
        jurisdiction_id=person.jurisdiction_id,
        subject_type="person",
        subject_id=person.id,
        payload={"reason": reason.strip()},
    )
    return PersonIdentityRevealed(
        id=person.id, resident_id=person.resident_id, passport_no=person.passport_no, phone=person.phone
    )


# -- venues --------------------------------------------------------------------------------------


def create_venue(ctx: Ctx, data: VenueCreate) -> Venue:
    require(ctx.actor, Permission.WRITE_VENUES)
    _visible_jurisdiction(ctx, data.jurisdiction_id)
    venue = Venue(**data.model_dump())
    venue.kind = data.kind.value
    return _add_coded(ctx, venue, EventKind.VENUE_CREATED, "venue", kind=venue.kind)


def get_venue(ctx: Ctx, venue_id: int) -> Venue:
    return _get_scoped(ctx, Venue, venue_id, Venue.jurisdiction_id, "venue")


def list_venues(
    ctx: Ctx, page: Page, *, kind: str = "", q: str = "", jurisdiction_id: int | None = None
) -> tuple[list[Venue], int]:
    stmt = in_scope(ctx, select(Venue), Venue.jurisdiction_id).order_by(Venue.id)
    if kind:
        stmt = stmt.where(Venue.kind == kind)
    if q:
        stmt = stmt.where(Venue.name.contains(q) | (Venue.code == q))
    if jurisdiction_id is not None:
        stmt = _under(ctx, stmt, Venue.jurisdiction_id, jurisdiction_id)
    return _page(ctx.session, stmt, page)


def update_venue(ctx: Ctx, venue_id: int, data: VenueUpdate) -> Venue:
    require(ctx.actor, Permission.WRITE_VENUES)
    venue = get_venue(ctx, venue_id)
    changes = {k: (v.value if hasattr(v, "value") else v) for k, v in data.model_dump(exclude_unset=True).items()}
    diff = {k: [getattr(venue, k), v] for k, v in changes.items() if getattr(venue, k) != v}
    for field, (_old, new) in diff.items():
        setattr(venue, field, new)
    if diff:
        record(
            ctx,
            EventKind.VENUE_UPDATED,
            jurisdiction_id=venue.jurisdiction_id,
            subject_type="venue",
            subject_id=venue.id,
            payload={"changes": diff},
        )
    ctx.session.flush()
    return venue
