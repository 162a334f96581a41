"""generate_district: write a synthetic district and its outbreak as a directory of Parquet files.

Deterministic from the seed (one named random stream per component), bounded in memory
(people and scans are generated and written in chunks), and vectorised throughout.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bihuan.sim._geography import Areas, Buildings, build_areas, jurisdiction_table
from bihuan.sim._identity import PhoneBook
from bihuan.sim._outbreak import DEFAULT_INDEX_CASES, SETTINGS, OutbreakParams, simulate_outbreak
from bihuan.sim._population import EPOCH, Population, build_population
from bihuan.sim._progress import ProgressCallback, Reporter, Step, reporter
from bihuan.sim._random import stream
from bihuan.sim._scans import DAY_US, PING_SCHEMA, SCAN_SCHEMA, DayPlan, plan_day, plan_pings
from bihuan.sim._tables import address_chunk, household_chunk, person_chunk
from bihuan.sim._trips import plan_trips
from bihuan.sim._venues import Routines, Venues, assign_routines, build_venues, venue_table
from bihuan.tracing.sources import TRIP_SCHEMA

GENERATOR_VERSION = "1.0"
"""Bump when a change alters the generated output (and update tests/sim/baseline.json)."""

CHUNK_PEOPLE = 250_000
"""People (or households) per chunk; fixed, because random streams are named per chunk."""

COMPRESSION = "zstd"


@dataclass(frozen=True, slots=True)
class DistrictManifest:
    """What was generated: where the files are, their row counts and the outbreak's size."""

    out_dir: Path
    seed: int
    people: int
    days: int
    start_date: date
    counts: dict[str, int]
    cases: int
    cases_by_setting: dict[str, int]
    wall_seconds: float
    generator_version: str = GENERATOR_VERSION
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def jurisdictions(self) -> Path:
        return self.out_dir / "jurisdictions.parquet"

    @property
    def addresses(self) -> Path:
        return self.out_dir / "addresses.parquet"

    @property
    def households(self) -> Path:
        return self.out_dir / "households.parquet"

    @property
    def persons(self) -> Path:
        return self.out_dir / "persons.parquet"

    @property
    def venues(self) -> Path:
        return self.out_dir / "venues.parquet"

    @property
    def scans(self) -> Path:
        """The hive-partitioned scan logs: scans/day=YYYY-MM-DD/part-*.parquet."""
        return self.out_dir / "scans"

    @property
    def pings(self) -> Path | None:
        return self.out_dir / "pings" if "pings" in self.counts else None

    @property
    def trips(self) -> Path | None:
        """The transport records by departure day (trips/day=YYYY-MM-DD/part-*.parquet), when generated."""
        return self.out_dir / "trips" if "trips" in self.counts else None

    @property
    def infections(self) -> Path:
        return self.out_dir / "outbreak" / "infections.parquet"

    @property
    def manifest(self) -> Path:
        return self.out_dir / "manifest.json"

    def to_json(self) -> dict[str, Any]:
        """The content of manifest.json."""
        return {
            "generator_version": self.generator_version,
            "seed": self.seed,
            "people": self.people,
            "days": self.days,
            "start_date": self.start_date.isoformat(),
            "counts": self.counts,
            "cases": self.cases,
            "cases_by_setting": self.cases_by_setting,
            "wall_seconds": round(self.wall_seconds, 3),
            **self.details,
        }


@dataclass(frozen=True, slots=True)
class _World:
    """Everything drawn before the scans: places, people, venues and routines."""

    areas: Areas
    population: Population
    buildings: Buildings
    venues: Venues
    routines: Routines
    home_community: np.ndarray


def generate_district(
    out_dir: Path,
    *,
    people: int = 50_000,
    seed: int = 20211220,
    days: int = 14,
    start_date: date = date(2021, 12, 1),
    pings: bool = False,
    index_cases: int = DEFAULT_INDEX_CASES,
    attack: float = 1.0,
    ping_interval_minutes: int = 30,
    trips: bool = False,
    progress: bool | ProgressCallback = True,
) -> DistrictManifest:
    """Generate the district, its residents, venues, scan logs and outbreak truth under ``out_dir``.

    ``progress`` is True for a Rich progress bar, False for silence, or a callback
    ``(step, done, total)``. ``trips`` also writes residents' transport records (trips/). Existing
    scans/, pings/, trips/ and outbreak/ directories are replaced.
    """
    if people < 10 or days < 1 or index_cases < 0 or attack < 0 or ping_interval_minutes < 1:
        raise ValueError("need people >= 10, days >= 1, index_cases >= 0, attack >= 0, ping interval >= 1")
    began = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("scans", "pings", "trips", "outbreak"):
        shutil.rmtree(out_dir / stale, ignore_errors=True)
    params = OutbreakParams(index_cases=index_cases, attack=attack)
    with reporter(progress) as report:
        world, counts = _write_registers(out_dir, people, seed, start_date, report)
        day_files, scan_counts = _write_scans(
            out_dir, world, seed, days, start_date, ping_interval_minutes if pings else None, report
        )
        counts.update(scan_counts)
        if trips:
            counts["trips"] = _write_trips(out_dir, world, seed, days, start_date, report)
        outbreak_step = report.step("Outbreak", days)
        infections = simulate_outbreak(
            world.population, world.venues.kind, day_files, start_date, seed, params, outbreak_step.advance
        )
    counts["infections"] = _write(infections, out_dir / "outbreak" / "infections.parquet")
    settings = infections.column("setting").to_pylist()
    manifest = DistrictManifest(
        out_dir=out_dir,
        seed=seed,
        people=people,
        days=days,
        start_date=start_date,
        counts=counts,
        cases=infections.num_rows,
        cases_by_setting={name: settings.count(name) for name in SETTINGS},
        wall_seconds=time.perf_counter() - began,
        details={
            "index_cases": index_cases,
            "attack": attack,
            "min_venue_overlap_minutes": params.min_overlap_minutes,
            "ping_interval_minutes": ping_interval_minutes if pings else None,
            "chunk_people": CHUNK_PEOPLE,
            "foreigners": int(world.population.foreign.sum()),
            "mean_household_size": round(people / world.population.households, 4),
            "scans_per_person_day": round(counts["scans"] / (people * days), 4),
        },
    )
    manifest.manifest.write_text(json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return manifest


def _write_registers(
    out_dir: Path, people: int, seed: int, start_date: date, report: Reporter
) -> tuple[_World, dict[str, int]]:
    """Draw the world and write jurisdictions, venues, addresses, households and persons."""
    person_chunks = _chunks(people)
    step = report.step("District and residents", 3 + len(person_chunks))
    areas = build_areas(people, seed)
    population, buildings = build_population(people, areas, start_date, seed)
    venues = build_venues(people, areas, seed)
    home_community = buildings.community[population.person_building()]
    routines = assign_routines(population, home_community, venues, seed)
    world = _World(areas, population, buildings, venues, routines, home_community)
    counts = {
        "jurisdictions": _write(jurisdiction_table(areas, buildings), out_dir / "jurisdictions.parquet"),
        "venues": _write(venue_table(venues, areas, routines), out_dir / "venues.parquet"),
    }
    step.advance()
    house_chunks = _chunks(population.households)
    counts["addresses"] = _write_chunks(
        out_dir / "addresses.parquet",
        (address_chunk(population, buildings, areas, lo, hi) for lo, hi in house_chunks),
    )
    step.advance()
    counts["households"] = _write_chunks(
        out_dir / "households.parquet", (household_chunk(population, buildings, lo, hi) for lo, hi in house_chunks)
    )
    step.advance()
    phones = PhoneBook(seed)
    counts["persons"] = _write_chunks(
        out_dir / "persons.parquet",
        (
            _advancing(step, person_chunk(population, buildings, areas, routines, phones, lo, hi, seed, index))
            for index, (lo, hi) in enumerate(person_chunks)
        ),
    )
    return world, counts


def _write_scans(
    out_dir: Path,
    world: _World,
    seed: int,
    days: int,
    start_date: date,
    ping_interval: int | None,
    report: Reporter,
) -> tuple[list[Path], dict[str, int]]:
    """Write one scan file (and optionally one ping file) per day, one row group per chunk of people."""
    plans = [_day_plan(world, lo, hi) for lo, hi in _chunks(world.population.size)]
    step = report.step("Venue scans" + (" and pings" if ping_interval else ""), days * len(plans))
    counts = {"scans": 0} | ({"pings": 0} if ping_interval else {})
    day_files: list[Path] = []
    for day in range(days):
        today = start_date + timedelta(days=day)
        day_us = ((today - EPOCH).days) * DAY_US
        partition = f"day={today.isoformat()}"
        day_files.append(out_dir / "scans" / partition / "part-00000.parquet")
        scan_writer = _writer(day_files[-1], SCAN_SCHEMA)
        ping_file = out_dir / "pings" / partition / "part-00000.parquet"
        ping_writer = _writer(ping_file, PING_SCHEMA) if ping_interval else None
        for index, plan in enumerate(plans):
            rows = plan_day(plan, world.venues, today.weekday(), stream(seed, f"scans.day{day}.chunk{index}"))
            who, venue, t_in, t_out = rows
            scans = {
                "person_key": pa.array(plan.person_key[who]),
                "venue_id": pa.array(venue),
                "time_in": pa.array(day_us + t_in * 1_000_000, type=pa.timestamp("us")),
                "time_out": pa.array(day_us + t_out * 1_000_000, type=pa.timestamp("us")),
            }
            scan_writer.write_table(pa.table(scans, schema=SCAN_SCHEMA))
            counts["scans"] += len(who)
            if ping_writer is not None and ping_interval is not None:
                rng = stream(seed, f"pings.day{day}.chunk{index}")
                counts["pings"] += _write_pings(ping_writer, world, plan, rows, ping_interval, day_us, rng)
            step.advance()
        scan_writer.close()
        if ping_writer is not None:
            ping_writer.close()
    return day_files, counts


def _write_trips(out_dir: Path, world: _World, seed: int, days: int, start_date: date, report: Reporter) -> int:
    """Write one trip file per departure day (empty on a day nobody travels); returns the rows written."""
    step = report.step("Trips", days)
    rows = 0
    for today, table in plan_trips(world.population, start_date, days, seed):
        writer = _writer(out_dir / "trips" / f"day={today.isoformat()}" / "part-00000.parquet", TRIP_SCHEMA)
        writer.write_table(table)
        writer.close()
        rows += table.num_rows
        step.advance()
    return rows


def _day_plan(world: _World, lo: int, hi: int) -> DayPlan:
    return DayPlan(
        person_key=np.arange(lo, hi, dtype=np.int64),
        role=world.population.role[lo:hi],
        age=world.population.age[lo:hi],
        work_venue=world.routines.work_venue[lo:hi],
        bus_line=world.routines.bus_line[lo:hi],
        home_community=world.home_community[lo:hi],
    )


def _write_pings(
    writer: pq.ParquetWriter,
    world: _World,
    plan: DayPlan,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    interval: int,
    day_us: int,
    rng: np.random.Generator,
) -> int:
    population, buildings = world.population, world.buildings
    building = population.household_building[population.person_household[plan.person_key]]
    who, ts, lat, lon = plan_pings(
        plan, rows, buildings.lat[building], buildings.lon[building], world.venues, interval, rng
    )
    pings = {
        "person_key": pa.array(plan.person_key[who]),
        "ts": pa.array(day_us + ts * 1_000_000, type=pa.timestamp("us")),
        "lat": pa.array(lat),
        "lon": pa.array(lon),
    }
    writer.write_table(pa.table(pings, schema=PING_SCHEMA))
    return len(who)


def _chunks(total: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + CHUNK_PEOPLE, total)) for lo in range(0, total, CHUNK_PEOPLE)]


def _write(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression=COMPRESSION)
    return int(table.num_rows)


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(path, schema, compression=COMPRESSION)


def _write_chunks(path: Path, tables: Iterable[pa.Table]) -> int:
    """Stream tables into one Parquet file (one row group per chunk)."""
    writer: pq.ParquetWriter | None = None
    rows = 0
    for table in tables:
        if writer is None:
            writer = _writer(path, table.schema)
        writer.write_table(table)
        rows += table.num_rows
    if writer is not None:
        writer.close()
    return rows


def _advancing(step: Step, table: pa.Table) -> pa.Table:
    step.advance()
    return table
