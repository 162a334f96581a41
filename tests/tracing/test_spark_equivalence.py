"""The contact engine finds the same contacts on DuckDB and on Spark, from the same generated district."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.tracing.spark_fixtures import spark_session  # noqa: F401 (fixture)

from bihuan.protocol import CaseFacts, ContactCategory, ProtocolProfile, load_profile
from bihuan.sim import DistrictManifest, generate_district
from bihuan.tracing.backends import DuckDBBackend, QueryBackend
from bihuan.tracing.backends_spark import SparkBackend
from bihuan.tracing.engine import CaseExposure, ContactFindings, ContactSources, case_exposure, find_contacts

pytestmark = pytest.mark.spark

DISTRICT = {"people": 1_000, "seed": 29, "days": 4, "index_cases": 3, "attack": 1.5, "pings": True}


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    return generate_district(tmp_path_factory.mktemp("equivalence-district"), progress=False, **DISTRICT)


def _find(backend: QueryBackend, district: DistrictManifest, profile: ProtocolProfile) -> ContactFindings:
    start = datetime.combine(district.start_date, datetime.min.time())
    sources = ContactSources(
        district.persons,
        district.venues,
        district.scans,
        district.pings,
        period=(start, start + timedelta(days=district.days)),
    )
    cases = [
        case_exposure(
            int(row["infectee_key"]), CaseFacts(row["onset_date"], row["first_positive_sampling_date"]), profile
        )
        for row in pq.read_table(district.infections).to_pylist()
        if row["generation"] == 0  # the index cases: thousands of contacts, a CI-sized run
    ]
    began = time.perf_counter()
    found = find_contacts(backend, sources, cases, profile, case_visits=_visits(district, cases))
    print(f"\n{backend.name}: {len(cases)} cases, {len(found.contacts)} contacts, {time.perf_counter() - began:.2f} s")
    return found


def _visits(district: DistrictManifest, cases: list[CaseExposure]) -> pa.Table:
    """Each case also tells of a visit to venue 0 on its window's first afternoon (a case visit)."""
    afternoon = [c.start + timedelta(hours=14) for c in cases]
    return pa.table(
        {
            "person_key": pa.array([c.person_key for c in cases], pa.int64()),
            "venue_id": pa.array([0] * len(cases), pa.int32()),
            "time_in": pa.array(afternoon, pa.timestamp("us")),
            "time_out": pa.array([moment + timedelta(hours=1) for moment in afternoon], pa.timestamp("us")),
        }
    )


def test_duckdb_and_spark_find_the_same_contacts(district: DistrictManifest, spark_session: object) -> None:  # noqa: F811
    profile = load_profile("cn-8th-2021")
    duck = DuckDBBackend(threads=2)
    spark = SparkBackend(session=spark_session)  # type: ignore[arg-type]
    try:
        expected, got = _find(duck, district, profile), _find(spark, district, profile)
    finally:
        duck.close()
        spark.close()
    categories = {c.category for c in expected.contacts}
    assert {
        ContactCategory.CLOSE_CONTACT,
        ContactCategory.SECONDARY_CONTACT,
    } <= categories
    assert sorted(got.contacts, key=lambda c: (c.case_key, c.contact_key)) == sorted(
        expected.contacts, key=lambda c: (c.case_key, c.contact_key)
    )
    assert got.bad_rows == expected.bad_rows
