"""People in stays at a site: delivered the way the loop brings them, or thousands at once for speed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select
from tests.factories import context, make_district
from tests.transfer.factories import PROFILE, TransferWorld, add_site, identify_contacts, make_transfer_world

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database, core_table
from bihuan.isolation import service as sites
from bihuan.isolation.choices import RoomStatus, StayStatus
from bihuan.isolation.models import IsolationStay, SiteFloor, SiteRoom
from bihuan.isolation.schemas import FloorCreate
from bihuan.people.models import Person
from bihuan.protocol import TransferCategory
from bihuan.transfer.models import Batch, BatchMember
from bihuan.transfer.service import dispatch, planning

CLOSE = TransferCategory.CLOSE_CONTACT


def deliver(database: Database, clock: SimulatedClock, people: list[int], category: TransferCategory) -> None:
    """Traced contacts planned, driven and handed over at a site, every batch of the plan."""
    identify_contacts(database, clock, people, category)
    with context(database, clock) as ctx:
        planning.plan(ctx, PROFILE, categories=[category])
    with database.session() as session:
        batch_ids = session.scalars(select(Batch.id).where(Batch.status == "planned")).all()
    for batch_id in batch_ids:
        with context(database, clock) as ctx:
            dispatch.dispatch(ctx, batch_id)
            aboard = ctx.session.scalars(select(BatchMember.person_id).where(BatchMember.batch_id == batch_id))
            for person in list(aboard):
                dispatch.pick_up(ctx, batch_id, person)
            dispatch.arrive(ctx, PROFILE, batch_id)


def world_with_floor(database: Database, clock: SimulatedClock, rooms: int = 6) -> tuple[TransferWorld, int]:
    """The transfer world with one close-contact floor (A-3) at its near site; returns it and the floor."""
    world = make_transfer_world(database, clock, far_places=0)
    with context(database, clock) as ctx:
        floor = sites.add_floor(
            ctx, PROFILE, world.near_site, FloorCreate(building="A", number=3, category=CLOSE, room_count=rooms)
        )
        return world, floor.id


@dataclass(frozen=True)
class StayRef:
    stay_id: int
    person_id: int
    room_id: int


def stays_at(database: Database, site_id: int) -> list[StayRef]:
    """The site's open stays (with a room), by room."""
    with database.session() as session:
        rows = session.execute(
            select(IsolationStay.id, IsolationStay.person_id, IsolationStay.room_id)
            .where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
            .order_by(IsolationStay.room_id, IsolationStay.id)
        ).all()
    return [StayRef(int(s), int(p), int(r)) for s, p, r in rows]


def large_site(database: Database, clock: SimulatedClock, rooms: int, per_floor: int = 50) -> tuple[int, list[StayRef]]:
    """A site of `rooms` occupied rooms, one close contact each, built with Core inserts (no transfer)."""
    district = make_district(database, clock)
    site_id = add_site(database, clock, "大型隔离点", (30.04, 120.87), {CLOSE: 0})
    now = clock.now()
    with database.session() as session:
        floors = -(-rooms // per_floor)
        session.execute(
            insert(core_table(SiteFloor)),
            [{"site_id": site_id, "building": "A", "number": n + 1, "category": CLOSE.value} for n in range(floors)],
        )
        floor_ids = session.scalars(select(SiteFloor.id).where(SiteFloor.site_id == site_id).order_by(SiteFloor.number))
        session.execute(
            insert(core_table(SiteRoom)),
            [
                {
                    "site_id": site_id,
                    "floor_id": floor_id,
                    "number": f"{n + 1}{i + 1:02d}",
                    "private_bathroom": True,
                    "accessible": False,
                    "status": RoomStatus.OCCUPIED.value,
                }
                for n, floor_id in enumerate(list(floor_ids))
                for i in range(min(per_floor, rooms - n * per_floor))
            ],
        )
        session.execute(
            insert(core_table(Person)),
            [
                {
                    "name": f"隔离{site_id}-{i}",
                    "sex": "F",
                    "birth_date": date(1980, 1, 1),
                    "nationality": "CHN",
                    "jurisdiction_id": district.building_a,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(rooms)
            ],
        )
        person_ids = session.scalars(select(Person.id).where(Person.name.like(f"隔离{site_id}-%")).order_by(Person.id))
        room_ids = session.scalars(select(SiteRoom.id).where(SiteRoom.site_id == site_id).order_by(SiteRoom.id))
        session.execute(
            insert(core_table(IsolationStay)),
            [
                {
                    "person_id": person_id,
                    "open_person_id": person_id,
                    "jurisdiction_id": district.building_a,
                    "site_id": site_id,
                    "room_id": room_id,
                    "category": CLOSE.value,
                    "status": StayStatus.IN_STAY.value,
                    "started_at": now,
                }
                for person_id, room_id in zip(list(person_ids), list(room_ids), strict=True)
            ],
        )
    return site_id, stays_at(database, site_id)


def traced_and_delivered(
    database: Database,
    clock: SimulatedClock,
    people: list[int],
    last_exposure: date,
    category: TransferCategory = CLOSE,
) -> None:
    """Contacts of a case as tracing stores them (each with the plan their last exposure sets, local noon
    of `last_exposure`), then planned, driven and handed over at a site like `deliver`."""
    from datetime import UTC, datetime, time
    from pathlib import Path

    from tests.factories import make_person
    from tests.tracing.factories import ZONE, confirm_case

    from bihuan.protocol import ContactCategory
    from bihuan.tracing.models import Investigation, TracedContact
    from bihuan.tracing.service.contacts import plan_summary
    from bihuan.tracing.service.runtime import TracingRuntime
    from bihuan.tracing.sources import ScanStore

    with database.session() as session:
        where = session.scalar(select(Person.jurisdiction_id).where(Person.id == people[0]))
    assert where is not None
    case_id = confirm_case(database, clock, make_person(database, clock, where, name="源头病例").id, where)
    runtime = TracingRuntime(profile=PROFILE, store=ScanStore.under(Path("unused")), timezone=ZONE)
    exposed = datetime.combine(last_exposure, time(12), tzinfo=runtime.zone).astimezone(UTC)
    plan = plan_summary(ContactCategory(category.value), exposed, runtime)
    with context(database, clock) as ctx:
        investigation = ctx.session.scalar(select(Investigation.id).where(Investigation.case_id == case_id))
        assert investigation is not None
        places = dict(ctx.session.execute(select(Person.id, Person.jurisdiction_id).where(Person.id.in_(people))).all())
        now = clock.now()
        ctx.session.add_all(
            TracedContact(
                investigation_id=investigation,
                case_id=case_id,
                person_id=person,
                jurisdiction_id=places[person],
                category=category.value,
                reasons=["household"],
                first_exposure=exposed,
                last_exposure=exposed,
                identified_at=now,
                updated_at=now,
                plan=plan,
            )
            for person in people
        )
    deliver(database, clock, people, category)


def give_plans(database: Database, clock: SimulatedClock, stay_ids: list[int], last_exposure: date) -> None:
    """Stays under the plan a last exposure sets (as tracing stores it), with the plan's tests scheduled."""
    from bihuan.isolation.service.testing import schedule_plan_tests
    from bihuan.protocol import ContactCategory, plan_document, quarantine_plan

    with context(database, clock) as ctx:
        stays = list(ctx.session.scalars(select(IsolationStay).where(IsolationStay.id.in_(stay_ids))))
        for stay in stays:
            stay.last_exposure = last_exposure
            stay.plan = plan_document(quarantine_plan(ContactCategory(stay.category), last_exposure, PROFILE))
        ctx.session.flush()
        schedule_plan_tests(ctx, PROFILE, stays)


def end_stay(database: Database, clock: SimulatedClock, stay_id: int, status: StayStatus = StayStatus.RELEASED) -> None:
    """A stay ended (released, moved on) as the workflow leaves it: closed, its room free again."""
    with context(database, clock) as ctx:
        stay = ctx.session.get(IsolationStay, stay_id)
        assert stay is not None and stay.room_id is not None
        stay.open_person_id, stay.status, stay.ended_at = None, status.value, clock.now()
        room = ctx.session.get(SiteRoom, stay.room_id)
        assert room is not None
        room.status = RoomStatus.FREE.value


def room_labels(database: Database, site_id: int) -> dict[str, StayRef]:
    """The site's open stays by room label ("A-3-301"); a room of two (a carer) is keyed by the cared-for."""
    with database.session() as session:
        rows = session.execute(
            select(IsolationStay, SiteFloor.building, SiteFloor.number, SiteRoom.number)
            .join(SiteRoom, SiteRoom.id == IsolationStay.room_id)
            .join(SiteFloor, SiteFloor.id == SiteRoom.floor_id)
            .where(IsolationStay.site_id == site_id, IsolationStay.open_person_id.is_not(None))
            .order_by(IsolationStay.carer_for.is_not(None), IsolationStay.id)
        ).all()
    labels: dict[str, StayRef] = {}
    for stay, building, floor, room in rows:
        labels.setdefault(f"{building}-{floor}-{room}", StayRef(stay.id, stay.person_id, room_id=stay.room_id or 0))
    return labels


def traced_again(
    database: Database,
    clock: SimulatedClock,
    person: int,
    last_exposure: date,
    category: TransferCategory = CLOSE,
    *,
    announce: bool = True,
) -> int:
    """The person found again as another case's contact, last exposed at local noon of `last_exposure`:
    the contact stored with its plan as tracing stores it, and (`announce`) its ``contact_identified``
    committed, so the after-commit reactions run. Returns the contact's id (`contact_identified_again`
    sends it again)."""
    from datetime import UTC, datetime, time
    from pathlib import Path

    from tests.factories import make_person
    from tests.tracing.factories import ZONE, confirm_case

    from bihuan.protocol import ContactCategory
    from bihuan.tracing.models import Investigation, TracedContact
    from bihuan.tracing.service.contacts import plan_summary
    from bihuan.tracing.service.runtime import TracingRuntime
    from bihuan.tracing.sources import ScanStore

    with database.session() as session:
        where = session.scalar(select(Person.jurisdiction_id).where(Person.id == person))
    assert where is not None
    case_id = confirm_case(database, clock, make_person(database, clock, where, name="另一病例").id, where)
    runtime = TracingRuntime(profile=PROFILE, store=ScanStore.under(Path("unused")), timezone=ZONE)
    exposed = datetime.combine(last_exposure, time(12), tzinfo=runtime.zone).astimezone(UTC)
    with context(database, clock) as ctx:
        investigation = ctx.session.scalar(select(Investigation.id).where(Investigation.case_id == case_id))
        assert investigation is not None
        contact = TracedContact(
            investigation_id=investigation,
            case_id=case_id,
            person_id=person,
            jurisdiction_id=where,
            category=category.value,
            reasons=["household"],
            first_exposure=exposed,
            last_exposure=exposed,
            identified_at=clock.now(),
            updated_at=clock.now(),
            plan=plan_summary(ContactCategory(category.value), exposed, runtime),
        )
        ctx.session.add(contact)
        ctx.session.flush()
        contact_id = contact.id
    if announce:
        contact_identified_again(database, clock, contact_id)
    return contact_id


def contact_identified_again(database: Database, clock: SimulatedClock, *contact_ids: int) -> None:
    """Stored contacts' ``contact_identified`` as tracing raises them, in one committed transaction."""
    from bihuan.core.choices import EventKind
    from bihuan.core.events import make_event, record_many
    from bihuan.tracing.models import TracedContact

    with context(database, clock) as ctx:
        contacts = ctx.session.scalars(select(TracedContact).where(TracedContact.id.in_(contact_ids)))
        record_many(
            ctx,
            [
                make_event(
                    ctx,
                    EventKind.CONTACT_IDENTIFIED,
                    person_id=contact.person_id,
                    jurisdiction_id=contact.jurisdiction_id,
                    subject_type="contact",
                    subject_id=contact.id,
                    refs={"case": contact.case_id, "investigation": contact.investigation_id},
                    payload={
                        "category": contact.category,
                        "last_exposure": contact.last_exposure.isoformat(),
                        "plan_end": contact.plan.get("end"),
                    },
                )
                for contact in contacts
            ],
        )
