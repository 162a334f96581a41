"""Contacts on shared vehicles (同乘交通工具): who on board is a close contact and who a general contact."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.tracing.spark_fixtures import sorted_rows, spark_backend, spark_session  # noqa: F401 (fixtures)

from bihuan.protocol import (
    ContactCategory,
    ProtocolProfile,
    Seat,
    VehicleKind,
    VehicleRule,
    VehicleScope,
    load_profile,
    vehicle_close_contact,
)
from bihuan.sim._scans import SCAN_SCHEMA
from bihuan.tracing._transport_sql import TRIPS, VEHICLE_RULES, trip_contacts, vehicle_rules_table
from bihuan.tracing.backends import DuckDBBackend, QueryBackend
from bihuan.tracing.engine import CaseExposure, ContactSources, find_contacts
from bihuan.tracing.sources import TRIP_SCHEMA

CASE = 1
DEPARTS = datetime(2021, 12, 3, 8, 0)
WINDOWS = "exposure_windows"
WINDOW_SCHEMA = pa.schema(
    [
        ("origin_key", pa.int64()),
        ("case_key", pa.int64()),
        ("window_start", pa.timestamp("us")),
        ("window_end", pa.timestamp("us")),
    ]
)
OPEN_WINDOW = (datetime(2021, 12, 1), datetime(2021, 12, 10))


@pytest.fixture(scope="module")
def profile() -> ProtocolProfile:
    return load_profile("cn-8th-2021")


@pytest.fixture(scope="module")
def duckdb_backend() -> Iterator[DuckDBBackend]:
    backend = DuckDBBackend(threads=1)
    yield backend
    backend.close()


def ride(person: int, kind: VehicleKind, trip_id: str = "T1", *, hours: float = 2.0, **seat: Any) -> dict[str, Any]:
    """One traveller's row on a trip departing at DEPARTS; ``seat`` holds row, car, compartment, cabin, crew."""
    row = {"trip_id": trip_id, "vehicle_kind": str(kind), "person_key": person, "departs_at": DEPARTS}
    row["arrives_at"] = DEPARTS + timedelta(hours=hours)
    return row | {"row": None, "car": None, "compartment": None, "cabin": None, "crew": False} | seat


def trip_table(rides: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rides, schema=TRIP_SCHEMA)


def window_table(*windows: tuple[int, datetime, datetime]) -> pa.Table:
    return pa.Table.from_pylist(
        [dict(zip(WINDOW_SCHEMA.names, (case, case, start, end), strict=True)) for case, start, end in windows],
        schema=WINDOW_SCHEMA,
    )


def co_travellers(
    backend: QueryBackend, rides: list[dict[str, Any]], profile: ProtocolProfile, windows: pa.Table | None = None
) -> pa.Table:
    """The SQL's answer for these rides, the case's window open over the whole trip by default."""
    backend.register_arrow(TRIPS, trip_table(rides))
    backend.register_arrow(VEHICLE_RULES, vehicle_rules_table(profile))
    backend.register_arrow(WINDOWS, windows if windows is not None else window_table((CASE, *OPEN_WINDOW)))
    return backend.query(trip_contacts(WINDOWS))


def closeness(table: pa.Table) -> dict[int, bool]:
    return {int(r["contact_key"]): bool(r["is_close"]) for r in table.to_pylist()}


def test_on_a_plane_three_rows_either_side_and_the_crew_are_close_the_fourth_row_is_general(
    duckdb_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    plane = VehicleKind.PLANE
    rows = {CASE: 20, 2: 20, 3: 17, 4: 23, 5: 24, 6: 16, 7: 1}
    rides = [ride(person, plane, row=row) for person, row in rows.items()] + [ride(8, plane, crew=True)]
    found = closeness(co_travellers(duckdb_backend, rides, profile))
    assert found == {2: True, 3: True, 4: True, 5: False, 6: False, 7: False, 8: True}


def test_on_a_sealed_train_the_whole_car_is_close_and_other_cars_are_general(
    duckdb_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    train = VehicleKind.TRAIN
    rides = [ride(CASE, train, car="05", row=3), ride(2, train, car="05", row=18), ride(3, train, car="06", row=3)]
    assert closeness(co_travellers(duckdb_backend, rides, profile)) == {2: True, 3: False}


def test_in_a_soft_sleeper_only_the_case_compartment_is_close(
    duckdb_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    train = VehicleKind.TRAIN
    rides = [
        ride(CASE, train, car="02", compartment="03"),
        ride(2, train, car="02", compartment="03"),
        ride(3, train, car="02", compartment="04"),
        ride(4, train, car="03", compartment="03"),
    ]
    assert closeness(co_travellers(duckdb_backend, rides, profile)) == {2: True, 3: False, 4: False}


def test_on_a_coach_everyone_on_board_is_close(duckdb_backend: DuckDBBackend, profile: ProtocolProfile) -> None:
    coach = VehicleKind.COACH
    rides = [ride(CASE, coach, row=1), ride(2, coach, row=12), ride(3, coach, crew=True)]
    assert closeness(co_travellers(duckdb_backend, rides, profile)) == {2: True, 3: True}


def test_on_a_ship_the_same_cabin_is_close_and_the_deck_is_general(
    duckdb_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    ship = VehicleKind.SHIP
    rides = [ride(CASE, ship, cabin="C101"), ride(2, ship, cabin="C101"), ride(3, ship, cabin="C102"), ride(4, ship)]
    assert closeness(co_travellers(duckdb_backend, rides, profile)) == {2: True, 3: False, 4: False}


def test_a_trip_outside_the_case_window_finds_nobody(duckdb_backend: DuckDBBackend, profile: ProtocolProfile) -> None:
    coach = VehicleKind.COACH
    rides = [ride(CASE, coach, row=1), ride(2, coach, row=2)]
    before = window_table((CASE, DEPARTS + timedelta(hours=2), DEPARTS + timedelta(days=5)))
    after = window_table((CASE, DEPARTS - timedelta(days=5), DEPARTS))
    assert co_travellers(duckdb_backend, rides, profile, before).num_rows == 0
    assert co_travellers(duckdb_backend, rides, profile, after).num_rows == 0


def test_exposure_is_the_time_on_board_together_within_the_window(
    duckdb_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    coach = VehicleKind.COACH
    rides = [ride(CASE, coach, hours=6), ride(2, coach, hours=1), ride(3, coach, hours=6)]
    isolated = DEPARTS + timedelta(hours=4)
    rows = co_travellers(duckdb_backend, rides, profile, window_table((CASE, OPEN_WINDOW[0], isolated))).to_pylist()
    spans = {r["contact_key"]: (r["exposure_start"], r["exposure_end"]) for r in rows}
    assert spans == {2: (DEPARTS, DEPARTS + timedelta(hours=1)), 3: (DEPARTS, isolated)}
    assert {(r["trip_id"], r["vehicle_kind"]) for r in rows} == {("T1", "coach")}


def test_a_traveller_who_left_before_the_case_boarded_is_not_a_contact(
    duckdb_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    train = VehicleKind.TRAIN
    case = ride(CASE, train, car="05", hours=5) | {"departs_at": DEPARTS + timedelta(hours=3)}
    rides = [case, ride(2, train, car="05", hours=3), ride(3, train, car="05", hours=4)]
    assert closeness(co_travellers(duckdb_backend, rides, profile)) == {3: True}


def test_vehicle_rules_come_from_the_profile(duckdb_backend: DuckDBBackend, profile: ProtocolProfile) -> None:
    wider = _with_rule(profile, VehicleKind.PLANE, VehicleRule(scope=VehicleScope.ROWS, rows_either_side=5))
    rides = [
        ride(CASE, VehicleKind.PLANE, row=10),
        ride(2, VehicleKind.PLANE, row=15),
        ride(3, VehicleKind.PLANE, crew=True),
    ]
    assert closeness(co_travellers(duckdb_backend, rides, wider)) == {2: True, 3: False}


def _with_rule(profile: ProtocolProfile, kind: VehicleKind, rule: VehicleRule) -> ProtocolProfile:
    """The profile with one vehicle rule replaced (policy is data)."""
    tracing = profile.tracing.model_copy(update={"vehicles": {**profile.tracing.vehicles, kind: rule}})
    return profile.model_copy(update={"tracing": tracing})


# ------------------------------------------------------------------ the SQL agrees with the pure rule

SEATS = st.builds(
    Seat,
    row=st.none() | st.integers(1, 9),
    car=st.none() | st.sampled_from(["01", "02"]),
    compartment=st.none() | st.sampled_from(["01", "02"]),
    cabin=st.none() | st.sampled_from(["C101", "C102"]),
    crew=st.booleans(),
)


@st.composite
def vehicle_rules(draw: st.DrawFn) -> VehicleRule:
    scope = draw(st.sampled_from(list(VehicleScope)))
    rows = draw(st.integers(0, 4)) if scope is VehicleScope.ROWS else None
    sleeper = draw(st.none() | st.just(VehicleScope.COMPARTMENT))
    return VehicleRule(scope=scope, rows_either_side=rows, include_crew=draw(st.booleans()), sleeper_scope=sleeper)


def _seat_ride(person: int, kind: VehicleKind, seat: Seat) -> dict[str, Any]:
    return ride(
        person, kind, row=seat.row, car=seat.car, compartment=seat.compartment, cabin=seat.cabin, crew=seat.crew
    )


@settings(max_examples=100, deadline=None, database=None)
@given(
    kind=st.sampled_from(list(VehicleKind)),
    rule=vehicle_rules(),
    case_seat=SEATS,
    others=st.lists(SEATS, min_size=1, max_size=8),
)
def test_sql_closeness_equals_the_pure_vehicle_rule(
    duckdb_backend: DuckDBBackend,
    profile: ProtocolProfile,
    kind: VehicleKind,
    rule: VehicleRule,
    case_seat: Seat,
    others: list[Seat],
) -> None:
    profile = _with_rule(profile, kind, rule)
    rides = [_seat_ride(CASE, kind, case_seat)] + [_seat_ride(2 + i, kind, seat) for i, seat in enumerate(others)]
    found = closeness(co_travellers(duckdb_backend, rides, profile))
    expected = {2 + i: vehicle_close_contact(kind, case_seat, seat, profile) for i, seat in enumerate(others)}
    assert found == expected


# ------------------------------------------------------------------ Spark returns the same rows


def _every_story() -> list[dict[str, Any]]:
    """One trip of each kind with a case aboard, seats around the case's, and a trip outside the window."""
    plane, train, coach, ship = VehicleKind.PLANE, VehicleKind.TRAIN, VehicleKind.COACH, VehicleKind.SHIP
    rides = [ride(CASE, plane, "MU1", row=20), ride(CASE, train, "Z1", car="02", compartment="03")]
    rides += [ride(CASE, coach, "KY1", row=1), ride(CASE, ship, "SH1", cabin="C101")]
    rides += [ride(p, plane, "MU1", row=r) for p, r in ((2, 17), (3, 23), (4, 24), (5, 16))]
    rides += [ride(6, plane, "MU1", crew=True), ride(7, train, "Z1", car="02", compartment="03")]
    rides += [ride(8, train, "Z1", car="02", compartment="04"), ride(9, train, "Z1", car="05", row=4)]
    rides += [ride(10, coach, "KY1", row=12), ride(11, ship, "SH1", cabin="C101"), ride(12, ship, "SH1")]
    later = DEPARTS + timedelta(days=30)
    rides += [ride(p, VehicleKind.BUS, "CT1", row=1) | {"departs_at": later, "arrives_at": later + timedelta(hours=1)}
              for p in (CASE, 13)]  # fmt: skip
    return rides


# ------------------------------------------------------------------ in the contact engine


@pytest.fixture()
def engine_backend() -> Iterator[DuckDBBackend]:
    """A fresh backend: the engine registers the trips as Parquet, not as the Arrow views above."""
    backend = DuckDBBackend(threads=1)
    yield backend
    backend.close()


def _sources(
    tmp_path: Path, rides: list[dict[str, Any]], households: dict[int, str], *, by_day: bool = False
) -> ContactSources:
    """Persons (one household each unless given), one venue and no scans, and the rides as a trip file
    (or, ``by_day``, a directory of departure days as the generator writes them)."""
    people = sorted({r["person_key"] for r in rides} | set(households))
    persons = pa.table(
        {
            "person_key": pa.array(people, pa.int64()),
            "household_code": [households.get(p, f"H{p}") for p in people],
        }
    )
    pq.write_table(persons, tmp_path / "persons.parquet")
    pq.write_table(pa.table({"venue_id": pa.array([1], pa.int32()), "kind": ["other"]}), tmp_path / "venues.parquet")
    pq.write_table(SCAN_SCHEMA.empty_table(), tmp_path / "scans.parquet")
    trips = tmp_path / "trips"
    for day in sorted({r["departs_at"].date() for r in rides}) if by_day else []:
        (trips / f"day={day}").mkdir(parents=True)
        rows = [r for r in rides if r["departs_at"].date() == day]
        pq.write_table(trip_table(rows), trips / f"day={day}" / "part-00000.parquet")
    if not by_day:
        trips = tmp_path / "trips.parquet"
        pq.write_table(trip_table(rides), trips)
    names = ("persons", "venues", "scans")
    return ContactSources(*(tmp_path / f"{name}.parquet" for name in names), period=OPEN_WINDOW, trips=trips)


def test_the_engine_reports_co_travellers_as_close_and_general_contacts(
    tmp_path: Path, engine_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    plane = VehicleKind.PLANE
    rides = [ride(CASE, plane, "MU5101-2021-12-03", row=20), ride(2, plane, "MU5101-2021-12-03", row=22)]
    rides.append(ride(3, plane, "MU5101-2021-12-03", row=30))
    sources = _sources(tmp_path, rides, {2: "H2", 4: "H2"})
    found = find_contacts(engine_backend, sources, [CaseExposure(CASE, OPEN_WINDOW[0])], profile).of_case(CASE)
    assert {key: (c.category, c.reasons) for key, c in found.items()} == {
        2: (ContactCategory.CLOSE_CONTACT, ("trip:MU5101-2021-12-03",)),
        3: (ContactCategory.GENERAL_CONTACT, ("trip:MU5101-2021-12-03",)),
        4: (ContactCategory.SECONDARY_CONTACT, ("via:2:household",)),  # the close contact's household
    }
    assert (found[2].first_exposure, found[2].last_exposure, found[2].minutes) == (
        DEPARTS,
        DEPARTS + timedelta(hours=2),
        120.0,
    )


def test_without_trips_the_engine_finds_no_co_travellers(
    tmp_path: Path, engine_backend: DuckDBBackend, profile: ProtocolProfile
) -> None:
    rides = [ride(CASE, VehicleKind.COACH, row=1), ride(2, VehicleKind.COACH, row=2)]
    sources = dataclasses.replace(_sources(tmp_path, rides, {}), trips=None)
    assert find_contacts(engine_backend, sources, [CaseExposure(CASE, OPEN_WINDOW[0])], profile).contacts == ()


# ------------------------------------------------------------------ Spark returns the same


@pytest.mark.spark
def test_spark_finds_the_same_co_travellers_as_duckdb(
    tmp_path: Path,
    engine_backend: DuckDBBackend,
    spark_backend: QueryBackend,  # noqa: F811
    profile: ProtocolProfile,
) -> None:
    trips = _sources(tmp_path, _every_story(), {}, by_day=True).trips
    answers = []
    for backend in (engine_backend, spark_backend):  # the trips read as the engine reads them
        backend.register_parquet(TRIPS, f"{trips}/*/*.parquet", hive_partitioning=True)
        backend.register_arrow(VEHICLE_RULES, vehicle_rules_table(profile))
        backend.register_arrow(WINDOWS, window_table((CASE, *OPEN_WINDOW)))
        answers.append(backend.query(trip_contacts(WINDOWS)))
    expected, got = answers
    assert expected.num_rows == 11
    assert got.schema == expected.schema
    assert got.to_pylist() == expected.to_pylist()  # ordered output, row for row
