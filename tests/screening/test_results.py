"""Lab results (检测结果): stored idempotently, bad rows reported, unknown tubes held then matched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from tests.factories import context, make_district
from tests.screening.lab_factories import (
    LAB,
    ZONE,
    lab_csv,
    lab_xlsx,
    make_people,
    make_tube,
    new_barcode,
    result_row,
)

from bihuan.core.choices import EventKind
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.core.import_reports import ImportReport
from bihuan.screening.choices import SampleKind, TubeKind
from bihuan.screening.models import Confirmation, LabResult, Retest, Sample, Tube
from bihuan.screening.service import results


def ingest(database: Database, clock: SimulatedClock, content: bytes, filename: str = "lab.csv") -> ImportReport:
    with context(database, clock) as ctx:
        return results.ingest_lab_file(ctx, filename, content, timezone=ZONE)


def count(database: Database, stmt) -> int:  # type: ignore[no-untyped-def]
    with database.session() as session:
        return session.scalar(stmt) or 0


def test_the_same_lab_file_twice_stores_no_duplicate_results(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    people = make_people(database, clock, district.building_a, 6)
    negative, positive = make_tube(database, clock, people[:3]), make_tube(database, clock, people[3:])
    content = lab_csv([result_row(negative.barcode), result_row(positive.barcode, "阳性")])

    first = ingest(database, clock, content)
    second = ingest(database, clock, content)

    assert (first.rows_total, first.rows_created, first.rows_unchanged, first.rows_rejected) == (2, 2, 0, 0)
    assert (second.rows_total, second.rows_created, second.rows_unchanged, second.rows_rejected) == (2, 0, 2, 0)
    assert count(database, select(func.count(LabResult.id))) == 2
    assert count(database, select(func.count(Retest.id))) == 3, "no second re-test for the same result"
    assert count(database, select(func.count(Event.id)).where(Event.kind == EventKind.POOL_POSITIVE)) == 3


def test_a_changed_result_for_the_same_run_is_refused_not_overwritten(
    database: Database, clock: SimulatedClock
) -> None:
    barcode = new_barcode()
    ingest(database, clock, lab_csv([result_row(barcode, "negative")]))
    report = ingest(database, clock, lab_csv([result_row(barcode, "positive")]))
    assert report.rows_created == 0
    assert report.errors == [
        {
            "row": 2,
            "field": "result",
            "reason": "already recorded as negative for this tube, lab and run; a correction needs a new run_id",
        }
    ]
    with database.session() as session:
        assert session.scalars(select(LabResult.result)).all() == ["negative"]


def test_a_malformed_row_is_reported_and_the_rest_stored(database: Database, clock: SimulatedClock) -> None:
    good = [new_barcode() for _ in range(3)]
    rows = [
        result_row(good[0]),
        result_row(new_barcode(), "maybe"),
        result_row(new_barcode(), ct_n="abc"),
        result_row(new_barcode(), ct_e="51"),
        result_row(good[1], "阴性"),
        result_row(new_barcode(), tested_at="yesterday"),
        result_row(new_barcode(), tested_at="2021-12-09 19:00"),  # before received_at
        result_row(new_barcode(), lab=""),
        result_row(good[0]),  # the same tube, lab and run again
        result_row(good[2], "positive", run_id="RUN-2"),
        result_row(new_barcode(), tested_at="2021-12-11 09:00"),
    ]
    report = ingest(database, clock, lab_csv(rows))

    assert report.rows_total == 11
    assert report.rows_created == 3
    assert [(e["row"], e["field"]) for e in report.errors] == [
        (3, "result"),
        (4, "ct_n"),
        (5, "ct_e"),
        (7, "tested_at"),
        (8, "tested_at"),
        (9, "lab"),
        (10, "tube_barcode"),
        (12, "tested_at"),
    ]
    reasons = {e["row"]: e["reason"] for e in report.errors}
    assert reasons[3] == "'maybe' is not a result: use negative, positive or invalid"
    assert reasons[4] == "'abc' is not a number"
    assert reasons[5] == "51 is outside 0–45"
    assert reasons[8] == "is before received_at"
    assert reasons[9] == "is required"
    assert reasons[10] == "the same tube, lab and run as row 2"
    assert reasons[12] == "is in the future"
    assert report.rows_rejected == 8
    with database.session() as session:
        kept = session.get(ImportReport, report.id)
        assert kept is not None and kept.kind == "lab_results" and kept.rows_rejected == 8


def test_times_without_a_zone_are_local_and_ct_values_are_kept_per_gene(
    database: Database, clock: SimulatedClock
) -> None:
    barcode = new_barcode()
    row = result_row(barcode, "positive", ct_e="30", received_at="2021-12-09T20:00:00+00:00")
    row["tested_at"] = "2021/12/10 06:15"  # 22:15 UTC the day before
    ingest(database, clock, lab_csv([row]))
    with database.session() as session:
        stored = session.scalars(select(LabResult)).one()
    assert stored.tested_at == datetime(2021, 12, 9, 22, 15, tzinfo=UTC)
    assert stored.received_at == datetime(2021, 12, 9, 20, 0, tzinfo=UTC)
    assert stored.ct_values == {"orf1ab": 24.5, "n": 22.1, "e": 30.0}
    assert stored.lab == LAB and stored.tube_id is None


def test_a_gb18030_csv_and_an_xlsx_export_are_both_read(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    people = make_people(database, clock, district.building_a, 2)
    tube = make_tube(database, clock, people)
    report = ingest(database, clock, lab_csv([result_row(tube.barcode, "阴性")], encoding="gb18030"))
    assert report.rows_created == 1 and not report.errors
    workbook = lab_xlsx(
        [
            result_row(tube.barcode, "positive", run_id="RUN-9", ct_orf1ab=31.5, tested_at=datetime(2021, 12, 9, 23)),
            result_row(new_barcode(), "positive", ct_orf1ab="x"),
        ]
    )
    report = ingest(database, clock, workbook, filename="lab.xlsx")
    assert report.rows_created == 1
    assert report.errors == [{"row": 3, "field": "ct_orf1ab", "reason": "'x' is not a number"}]
    with database.session() as session:
        stored = session.scalars(select(LabResult).where(LabResult.run_id == "RUN-9")).one()
        assert stored.tested_at == datetime(2021, 12, 9, 15, tzinfo=UTC)
        assert stored.tube_id == tube.id
        assert session.scalar(select(func.count(Retest.id))) == 2


def test_a_file_without_the_required_columns_is_refused_and_the_failure_kept(
    database: Database, clock: SimulatedClock
) -> None:
    with pytest.raises(FieldError, match="missing column"):
        ingest(database, clock, b"barcode,result\nX1,negative\n")
    with database.session() as session:
        failed = session.scalars(select(ImportReport)).one()
    assert failed.status == "failed" and failed.errors[0]["field"] == "file"


def test_a_result_for_an_unknown_tube_is_held_then_matched(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    people = make_people(database, clock, district.building_a, 4)
    barcode = new_barcode()
    report = ingest(database, clock, lab_csv([result_row(barcode, "positive")]))
    assert report.rows_created == 1
    with context(database, clock) as ctx:
        held, total = results.list_held(ctx, results.Page(page=1, page_size=10))
        assert total == 1 and held[0].tube_barcode == barcode and held[0].tube_id is None
        assert results.get_upload(ctx, report.id).held == 1
    assert count(database, select(func.count(Retest.id))) == 0

    tube = make_tube(database, clock, people, barcode=barcode)  # sampling opens the tube: on_tubes_opened

    with database.session() as session:
        assert session.scalars(select(LabResult.tube_id)).one() == tube.id
        assert session.scalar(select(func.count(Retest.id))) == 4
        assert session.get(Tube, tube.id).resulted_at == session.scalars(select(LabResult.tested_at)).one()
    with context(database, clock) as ctx:
        assert results.list_held(ctx, results.Page(page=1, page_size=10))[1] == 0
        results.on_tubes_opened(ctx, [ctx.session.merge(tube)])  # again: nothing done twice
    assert count(database, select(func.count(Retest.id))) == 4
    assert count(database, select(func.count(Event.id)).where(Event.kind == EventKind.CONTROLLED_IN_PLACE)) == 4


def _resulted_at(database: Database, tube_id: int) -> datetime | None:
    with database.session() as session:
        return session.scalar(select(Tube.resulted_at).where(Tube.id == tube_id))


def test_a_tube_is_resulted_by_its_first_valid_result_and_an_invalid_run_leaves_it_awaiting(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    tube = make_tube(database, clock, make_people(database, clock, district.building_a, 2))
    ingest(database, clock, lab_csv([result_row(tube.barcode, "invalid", run_id="RUN-1")]))
    awaiting = _resulted_at(database, tube.id)

    first = datetime(2021, 12, 9, 23)
    ingest(database, clock, lab_csv([result_row(tube.barcode, "negative", run_id="RUN-2", tested_at=first)]))
    later = datetime(2021, 12, 10, 9)
    ingest(database, clock, lab_csv([result_row(tube.barcode, "negative", run_id="RUN-3", tested_at=later)]))

    assert awaiting is None
    assert _resulted_at(database, tube.id) == datetime(2021, 12, 9, 15, tzinfo=UTC)  # 23:00 in Shanghai


def test_a_positive_key_population_test_opens_one_confirmation(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    (person,) = make_people(database, clock, district.building_a, 1)
    tube = make_tube(database, clock, [person], kind=TubeKind.SINGLE, sample_kind=SampleKind.KEY_POPULATION)
    ingest(database, clock, lab_csv([result_row(tube.barcode, "positive")]))
    ingest(database, clock, lab_csv([result_row(tube.barcode, "positive", run_id="RUN-2")]))  # the lab re-ran it
    with database.session() as session:
        assert session.scalar(select(func.count(Confirmation.id))) == 1
        kinds = session.scalars(select(Event.kind).where(Event.person_id == person).order_by(Event.id)).all()
    assert kinds == ["person_created", "sampled", "test_resulted", "confirmation_opened", "test_resulted"]
    assert count(database, select(func.count(Retest.id))) == 0


def test_a_result_matched_before_its_single_tube_holds_a_sample_reaches_the_person_later(
    database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    (person,) = make_people(database, clock, district.building_a, 1)
    empty = make_tube(database, clock, [], kind=TubeKind.SINGLE, barcode=new_barcode(), announce=False)
    ingest(database, clock, lab_csv([result_row(empty.barcode, "positive")]))  # matched, but nobody in it yet
    with context(database, clock) as ctx:
        tube = ctx.session.merge(empty)
        ctx.session.add(Sample(person_id=person, tube_id=tube.id, kind="quarantine", sampled_at=clock.now()))
        ctx.session.flush()
        results.on_tubes_opened(ctx, [tube])  # the sampler closes the tube
        results.on_tubes_opened(ctx, [tube])  # and again: nothing twice
    with database.session() as session:
        kinds = session.scalars(select(Event.kind).where(Event.person_id == person).order_by(Event.id)).all()
    assert kinds == ["person_created", "test_resulted", "confirmation_opened"]
