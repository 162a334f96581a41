"""Positive-pool follow-up (阳性混管处置): control in place, re-tests, confirmation, case — each an event."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from tests.factories import context, make_district
from tests.screening.lab_factories import ZONE, lab_csv, make_people, make_tube, new_barcode, result_row

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, Forbidden, NotFound
from bihuan.core.events import Event
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.schemas import Page
from bihuan.screening.choices import ConfirmationStatus, RetestStatus
from bihuan.screening.models import Case, Confirmation, Retest, Sample
from bihuan.screening.service import followup, results


def ingest(database: Database, clock: SimulatedClock, rows: list[dict[str, object]]) -> None:
    with context(database, clock) as ctx:
        results.ingest_lab_file(ctx, "lab.csv", lab_csv(rows), timezone=ZONE)


def retest_of(database: Database, person_id: int) -> Retest:
    with database.session() as session:
        return session.scalars(select(Retest).where(Retest.person_id == person_id)).one()


def kinds_of(database: Database, person_id: int) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(Event.kind).where(Event.person_id == person_id).order_by(Event.id)))


def test_every_member_of_a_positive_pool_is_controlled_and_gets_a_retest(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    members = make_people(database, clock, district.building_a, 10)
    others = make_people(database, clock, district.building_b, 10)
    pool, clean = make_tube(database, clock, members), make_tube(database, clock, others)
    clock.advance(timedelta(hours=6))

    ingest(database, clock, [result_row(pool.barcode, "positive"), result_row(clean.barcode)])

    with database.session() as session:
        retests = session.scalars(select(Retest).order_by(Retest.person_id)).all()
        addresses = dict(session.execute(select(Person.id, Person.address_id)).all())
        events = session.scalars(select(Event).where(Event.kind.in_(["pool_positive", "controlled_in_place"]))).all()
    assert [r.person_id for r in retests] == sorted(members)
    assert all(r.status == RetestStatus.OPEN and r.source_tube_id == pool.id for r in retests)
    assert all(r.jurisdiction_id == district.building_a and r.created_at == clock.now() for r in retests)
    assert all(r.address_id == addresses[r.person_id] for r in retests)
    assert sorted(e.person_id for e in events if e.kind == "pool_positive") == sorted(members)
    assert sorted(e.person_id for e in events if e.kind == "controlled_in_place") == sorted(members)
    assert all(e.subject_type == "tube" and e.subject_id == pool.id for e in events)
    for person in members:
        assert kinds_of(database, person)[-3:] == ["pool_positive", "controlled_in_place", "retest_scheduled"]
    for person in others:
        assert kinds_of(database, person) == ["person_created", "sampled"]


def test_a_positive_retest_becomes_a_case_with_events_in_order(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    members = make_people(database, clock, district.building_a, 5)
    pool = make_tube(database, clock, members)  # sampled on 10 Dec, 08:00 local
    clock.advance(timedelta(hours=8))
    ingest(database, clock, [result_row(pool.barcode, "positive", tested_at="2021-12-10 15:00")])
    patient, healthy = members[0], members[1]
    clock.advance(timedelta(hours=1))
    with context(database, clock) as ctx:
        followup.sample_retest(ctx, retest_of(database, patient).id, "RT-0001")
        followup.sample_retest(ctx, retest_of(database, healthy).id, "RT-0002")
    clock.advance(timedelta(hours=4))
    ingest(
        database,
        clock,
        [
            result_row("RT-0001", "positive", run_id="RUN-7", tested_at="2021-12-10 21:00"),
            result_row("RT-0002", "negative", run_id="RUN-7", tested_at="2021-12-10 21:00"),
        ],
    )
    with context(database, clock) as ctx:
        pending, total = followup.list_confirmations(ctx, Page(page=1, page_size=10), status=ConfirmationStatus.PENDING)
        assert total == 1 and pending[0].person_id == patient and pending[0].tube_barcode == "RT-0001"
        clock.advance(timedelta(hours=2))
        followup.decide_confirmation(ctx, pending[0].id, "asymptomatic", "no symptoms", timezone=ZONE)

    assert kinds_of(database, patient) == [
        "person_created",
        "sampled",
        "pool_positive",
        "controlled_in_place",
        "retest_scheduled",
        "retest_sampled",
        "test_resulted",
        "confirmation_opened",
        "case_confirmed",
        "investigation_opened",  # tracing reacts to the confirmed case (快流调)
        "transfer_queued",  # and the case waits for its transfer to the designated hospital (快编组)
    ]
    assert kinds_of(database, healthy)[-2:] == ["retest_sampled", "test_resulted"]
    with database.session() as session:
        case = session.scalars(select(Case)).one()
        confirmed = session.scalars(select(Event).where(Event.kind == EventKind.CASE_CONFIRMED)).one()
        sample = session.scalars(select(Sample).where(Sample.retest_id.is_not(None), Sample.person_id == patient)).one()
    assert (case.person_id, case.classification, case.jurisdiction_id) == (patient, "asymptomatic", district.building_a)
    assert case.first_positive_sampling_date == date(2021, 12, 10)  # the pool's sampling, local date
    assert confirmed.subject_type == "case" and confirmed.subject_id == case.id
    assert confirmed.payload == {"classification": "asymptomatic", "first_positive_sampling_date": "2021-12-10"}
    assert sample.kind == "retest"
    closed, negative = retest_of(database, patient), retest_of(database, healthy)
    assert (closed.status, closed.result) == ("resulted", "positive")
    assert (negative.status, negative.result) == ("resulted", "negative")
    assert closed.created_at < closed.sampled_at < closed.resulted_at  # type: ignore[operator]


def test_a_retest_not_confirmed_ends_without_a_case(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    members = make_people(database, clock, district.building_a, 3)
    pool = make_tube(database, clock, members)
    ingest(database, clock, [result_row(pool.barcode, "positive")])
    with context(database, clock) as ctx:
        followup.sample_retest(ctx, retest_of(database, members[0]).id, "RT-0100")
    ingest(database, clock, [result_row("RT-0100", "阳性", run_id="RUN-2", ct_orf1ab="38.9", ct_n="")])
    with context(database, clock) as ctx:
        (pending,), _ = followup.list_confirmations(ctx, Page(page=1, page_size=5))
        assert pending.ct_values == {"orf1ab": 38.9}
        followup.decide_confirmation(
            ctx, pending.id, ConfirmationStatus.NOT_CONFIRMED, "re-test negative", timezone=ZONE
        )
    with context(database, clock) as ctx, pytest.raises(Conflict, match="already decided"):
        followup.decide_confirmation(ctx, pending.id, "confirmed", timezone=ZONE)
    assert kinds_of(database, members[0])[-2:] == ["confirmation_opened", "case_not_confirmed"]
    with database.session() as session:
        assert session.scalar(select(func.count(Case.id))) == 0
        assert session.scalars(select(Confirmation.status)).one() == "not_confirmed"


def test_an_invalid_retest_result_sends_the_task_back_to_be_sampled(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    (person,) = make_people(database, clock, district.building_a, 1)
    pool = make_tube(database, clock, [person])
    ingest(database, clock, [result_row(pool.barcode, "positive")])
    retest_id = retest_of(database, person).id
    with context(database, clock) as ctx:
        followup.sample_retest(ctx, retest_id, "RT-0200")
        with pytest.raises(Conflict, match="not open"):
            followup.sample_retest(ctx, retest_id, "RT-0201")
    ingest(database, clock, [result_row("RT-0200", "invalid", run_id="RUN-3")])
    assert retest_of(database, person).status == RetestStatus.OPEN
    with context(database, clock) as ctx:
        with pytest.raises(Conflict, match="already in use"):
            followup.sample_retest(ctx, retest_id, "RT-0200")
        followup.sample_retest(ctx, retest_id, "RT-0201")
    assert retest_of(database, person).status == RetestStatus.SAMPLED


def test_follow_up_is_scoped_to_the_users_jurisdiction(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    ours = make_people(database, clock, district.building_a, 2)
    theirs = make_people(database, clock, district.building_b, 2)
    ingest(
        database,
        clock,
        [result_row(make_tube(database, clock, ours).barcode, "positive"), result_row(new_barcode(), "positive")],
    )
    ingest(database, clock, [result_row(make_tube(database, clock, theirs).barcode, "positive", run_id="B")])
    with database.session() as session:
        county_a = session.get(Jurisdiction, district.county_a)
        assert county_a is not None
        actor = Actor(None, "worker", Role.COMMUNITY_WORKER, county_a.id, county_a.path)
    foreign = retest_of(database, theirs[0]).id
    with context(database, clock, actor) as ctx:
        rows, total = followup.list_retests(ctx, Page(page=1, page_size=10))
        assert total == 2 and {r.person_id for r in rows} == set(ours)
        assert all(r.resident_id_masked and "*" in r.resident_id_masked for r in rows)
        with pytest.raises(NotFound):
            followup.sample_retest(ctx, foreign, "RT-0300")
        with pytest.raises(Forbidden):
            results.ingest_lab_file(ctx, "lab.csv", lab_csv([result_row("X")]), timezone=ZONE)
