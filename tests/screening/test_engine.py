"""The bulk path of lab results: a round costs a fixed number of statements, whatever its size."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.factories import context, count_statements, make_district
from tests.screening.lab_factories import ZONE, lab_csv, make_people, make_tube, result_row

from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.people.schemas import Page
from bihuan.screening.models import LabResult
from bihuan.screening.service import followup, results


def test_a_round_is_stored_in_a_fixed_number_of_statements(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    people = make_people(database, clock, district.building_a, 6)
    small = [make_tube(database, clock, people[:3], announce=False)]
    large = [make_tube(database, clock, people[3:], announce=False)]
    sizes = {}
    for name, tubes, extra in (("small", small, 20), ("large", large, 600)):
        rows = [result_row(t.barcode, "positive", run_id=name) for t in tubes]
        rows += [result_row(f"{name}-{i}", run_id=name) for i in range(extra)]  # held: tubes not known
        with count_statements(database) as statements, context(database, clock) as ctx:
            report = results.ingest_lab_file(ctx, f"{name}.csv", lab_csv(rows), timezone=ZONE)
        assert report.rows_created == extra + 1
        sizes[name] = len(statements)
    assert sizes["small"] == sizes["large"]
    with database.session() as session:
        assert session.scalar(select(func.count(LabResult.id)).where(LabResult.tube_id.is_(None))) == 620


def test_the_follow_up_lists_cost_a_fixed_number_of_queries(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    first = make_tube(database, clock, make_people(database, clock, district.building_a, 2))
    second = make_tube(database, clock, make_people(database, clock, district.building_b, 8))
    counts = []
    for tube in (first, second):
        with context(database, clock) as ctx:
            results.ingest_lab_file(ctx, "lab.csv", lab_csv([result_row(tube.barcode, "positive")]), timezone=ZONE)
        with count_statements(database) as statements, context(database, clock) as ctx:
            rows, _ = followup.list_retests(ctx, Page(page=1, page_size=50))
        counts.append((len(rows), len(statements)))
    assert [n for n, _ in counts] == [2, 10]
    assert counts[0][1] == counts[1][1]
