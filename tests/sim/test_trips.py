"""Transport records (乘坐交通工具记录) from the generator: optional, seeded, seated, and changing nothing else."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bihuan.protocol import VehicleKind
from bihuan.sim import DistrictManifest, generate_district
from bihuan.sim._geography import build_areas
from bihuan.sim._population import build_population
from bihuan.sim._trips import TripParams, plan_trips
from bihuan.sim.cli import sim_app
from bihuan.tracing.sources import TRIP_SCHEMA

from .conftest import content_digest

TRAVEL = {"people": 3_000, "days": 5, "index_cases": 5, "progress": False}


@pytest.fixture(scope="module")
def travelled(tmp_path_factory: pytest.TempPathFactory) -> DistrictManifest:
    return generate_district(tmp_path_factory.mktemp("trips"), seed=5, trips=True, **TRAVEL)


@pytest.fixture()
def trips_db(travelled: DistrictManifest) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW trips AS SELECT * FROM read_parquet('{travelled.trips}/*/*.parquet')")
    con.execute(f"CREATE VIEW persons AS SELECT * FROM read_parquet('{travelled.persons}')")
    return con


def _trip_digest(manifest: DistrictManifest) -> dict[str, str]:
    return {name: digest for name, digest in content_digest(manifest.out_dir).items() if name.startswith("trips/")}


def test_trips_are_written_per_departure_day_in_the_trip_schema(travelled: DistrictManifest) -> None:
    assert travelled.trips == travelled.out_dir / "trips"
    files = sorted(travelled.trips.glob("day=*/part-00000.parquet"))
    assert [f.parent.name for f in files] == [f"day=2021-12-0{d}" for d in range(1, 6)]
    assert all(pq.read_schema(f).equals(TRIP_SCHEMA) for f in files)
    assert sum(pq.read_metadata(f).num_rows for f in files) == travelled.counts["trips"] > 0
    assert travelled.to_json()["counts"]["trips"] == travelled.counts["trips"]


def test_a_modest_share_of_residents_travel_by_every_kind_of_vehicle(trips_db: duckdb.DuckDBPyConnection) -> None:
    kinds = {kind for (kind,) in trips_db.execute("SELECT DISTINCT vehicle_kind FROM trips").fetchall()}
    assert kinds == {str(kind) for kind in VehicleKind}
    travellers = trips_db.execute("SELECT count(DISTINCT person_key) FROM trips WHERE NOT crew").fetchone()
    assert travellers is not None and 0.005 * 3_000 < travellers[0] < 0.05 * 3_000
    unknown = trips_db.execute("SELECT count(*) FROM trips t ANTI JOIN persons p USING (person_key)").fetchone()
    assert unknown == (0,)


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Three busy days of 2,000 residents on services they fill completely, as a ``rides`` view."""
    areas = build_areas(2_000, 3)
    population, _ = build_population(2_000, areas, date(2021, 12, 1), 3)
    params = TripParams(journeys_per_person_day=0.3, resident_load=1.0)
    con = duckdb.connect()
    con.register(
        "rides", pa.concat_tables(table for _, table in plan_trips(population, date(2021, 12, 1), 3, 3, params))
    )
    return con


def test_seats_have_the_parts_of_their_vehicle(busy: duckdb.DuckDBPyConnection) -> None:
    shapes = busy.execute(
        """SELECT vehicle_kind, crew, row IS NOT NULL, car IS NOT NULL, compartment IS NOT NULL, cabin IS NOT NULL
           FROM rides GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    assert shapes == [
        ("bus", False, True, False, False, False),
        ("coach", False, True, False, False, False),
        ("plane", False, True, False, False, False),
        ("plane", True, False, False, False, False),  # crew serve the whole plane
        ("ship", False, False, False, False, False),  # deck seats
        ("ship", False, False, False, False, True),  # cabins
        ("train", False, False, True, True, False),  # soft-sleeper berths
        ("train", False, True, True, False, False),  # seat cars
    ]


def test_full_services_seat_everyone_without_sharing_a_seat(busy: duckdb.DuckDBPyConnection) -> None:
    fullest = busy.execute(
        """SELECT vehicle_kind, CASE WHEN compartment IS NOT NULL THEN 'compartment' WHEN cabin IS NOT NULL
                  THEN 'cabin' WHEN row IS NOT NULL THEN 'row' ELSE 'deck' END AS part, max(n) AS most
           FROM (SELECT vehicle_kind, trip_id, row, car, compartment, cabin, count(*) AS n FROM rides
                 WHERE NOT crew GROUP BY ALL)
           WHERE vehicle_kind <> 'ship' OR cabin IS NOT NULL
           GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    capacity = {("bus", "row"): 4, ("coach", "row"): 4, ("plane", "row"): 6, ("ship", "cabin"): 4,
                ("train", "compartment"): 4, ("train", "row"): 5}  # fmt: skip
    assert {(kind, part) for kind, part, _ in fullest} == set(capacity)
    assert all(most <= capacity[kind, part] for kind, part, most in fullest)
    assert ("plane", "row", 6) in fullest  # full flights fill whole rows


def test_families_travel_together_in_neighbouring_seats(trips_db: duckdb.DuckDBPyConnection) -> None:
    spans = trips_db.execute(
        """SELECT max(row) - min(row) FROM trips JOIN persons USING (person_key)
           WHERE vehicle_kind IN ('plane', 'coach', 'bus') AND NOT crew
           GROUP BY trip_id, household_code HAVING count(*) > 1"""
    ).fetchall()
    assert len(spans) >= 3
    assert sum(span <= 1 for (span,) in spans) >= 0.8 * len(spans)  # a few travel on their own, same service


def test_a_traveller_is_never_on_two_vehicles_at_once(trips_db: duckdb.DuckDBPyConnection) -> None:
    clashes = trips_db.execute(
        """SELECT count(*) FROM trips a JOIN trips b
           ON a.person_key = b.person_key AND a.trip_id < b.trip_id
          AND a.departs_at < b.arrives_at AND b.departs_at < a.arrives_at"""
    ).fetchone()
    assert clashes == (0,)
    trips = trips_db.execute("SELECT count(*) = count(DISTINCT (trip_id, person_key)) FROM trips").fetchone()
    assert trips == (True,)


def test_trips_are_deterministic_from_the_seed(travelled: DistrictManifest, tmp_path: Path) -> None:
    again = generate_district(tmp_path / "again", seed=5, trips=True, **TRAVEL)
    other = generate_district(tmp_path / "other", seed=6, trips=True, **TRAVEL)
    assert _trip_digest(again) == _trip_digest(travelled)
    assert _trip_digest(other) != _trip_digest(travelled)


def test_trips_change_nothing_else_and_are_off_by_default(travelled: DistrictManifest, tmp_path: Path) -> None:
    plain = generate_district(tmp_path / "plain", seed=5, **TRAVEL)
    assert plain.trips is None and not (plain.out_dir / "trips").exists()
    assert {**plain.counts, "trips": travelled.counts["trips"]} == travelled.counts
    everything_else = {k: v for k, v in content_digest(travelled.out_dir).items() if not k.startswith("trips/")}
    assert content_digest(plain.out_dir) == everything_else


def test_a_run_without_trips_removes_stale_trips(tmp_path: Path) -> None:
    generate_district(tmp_path, seed=5, trips=True, people=200, days=2, index_cases=1, progress=False)
    assert generate_district(tmp_path, seed=5, people=200, days=2, index_cases=1, progress=False).trips is None
    assert not (tmp_path / "trips").exists()


def test_the_cli_writes_trips_when_asked(tmp_path: Path) -> None:
    args = ["district", "--out", str(tmp_path), "--people", "300", "--days", "2", "--index-cases", "1", "-q"]
    result = CliRunner().invoke(sim_app, [*args, "--trips"])
    assert result.exit_code == 0, result.output
    assert "trips" in result.output
    assert sorted(p.parent.name for p in (tmp_path / "trips").glob("*/*.parquet")) == [
        "day=2021-12-01",
        "day=2021-12-02",
    ]
