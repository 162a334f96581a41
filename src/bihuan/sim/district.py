"""generate_district: write a synthetic district and its outbreak as a directory of Parquet files.

Deterministic from the seed (one named random stream per component), bounded in memory
(people and scans are generated and written in chunks), and vectorised throughout.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bihuan.sim._geography import build_areas, jurisdiction_table
from bihuan.sim._identity import PhoneBook
from bihuan.sim._outbreak import SETTINGS, OutbreakParams, simulate_outbreak
from bihuan.sim._population import EPOCH, build_population
from bihuan.sim._progress import ProgressCallback, reporter
from bihuan.sim._random import stream
from bihuan.sim._scans import DAY_US, PING_SCHEMA, SCAN_SCHEMA, DayPlan, plan_day, plan_pings
from bihuan.sim._tables import address_chunk, household_chunk, person_chunk
from bihuan.sim._venues import assign_routines, build_venues, venue_table

GENERATOR_VERSION = "1.0"
"""Bump when a change alters the generated output (and update tests/sim/baseline.json)."""

CHUNK_PEOPLE = 250_000
"""People per chunk; fixed, because the random streams are named per chunk."""

COMPRESSION = "zstd"
DEFAULT_INDEX_CASES = 8


@dataclass(frozen=True, slots=True)
class DistrictManifest:
    """What was generated: the files, their row counts and the outbreak's size."""

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
        return self.out_dir / "scans"

    @property
    def pings(self) -> Path | None:
        return self.out_dir / "pings" if self.counts.get("pings") else None

    @property
    def infections(self) -> Path:
        return self.out_dir / "outbreak" / "infections.parquet"

    @property
    def manifest(self) -> Path:
        return self.out_dir / "manifest.json"

    def to_json(self) -> dict[str, Any]:
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
    ping_interval_minutes: int = 20,
    progress: bool | ProgressCallback = True,
) -> DistrictManifest:
    """Generate the district, its residents, venues, scan logs and outbreak truth under ``out_dir``."""
    if people < 10:
        raise ValueError("people must be at least 10")
    if days < 1:
        raise ValueError("days must be at least 1")
    if index_cases < 0 or attack < 0:
        raise ValueError("index_cases and attack must not be negative")
    began = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("scans", "pings", "outbreak"):
        shutil.rmtree(out_dir / stale, ignore_errors=True)
    counts: dict[str, int] = {}
    params = OutbreakParams(index_cases=index_cases, attack=attack)
    chunks = [(lo, min(lo + CHUNK_PEOPLE, people)) for lo in range(0, people, CHUNK_PEOPLE)]
    with reporter(progress) as report:
        setup = report.step("District and residents", 3 + len(chunks))
        areas = build_areas(people, seed)
        population, buildings = build_population(people, areas, start_date, seed)
        counts["jurisdictions"] = _write(jurisdiction_table(areas, buildings), out_dir / "jurisdictions.parquet")
        venues = build_venues(people, areas, seed)
        counts["venues"] = _write(venue_table(venues, areas), out_dir / "venues.parquet")
        home_community = buildings.community[population.person_building()]
        routines = assign_routines(population, home_community, venues, seed)
        setup.advance()
        house_chunks = [(lo, min(lo + CHUNK_PEOPLE, population.households)) for lo in range(0, population.households, CHUNK_PEOPLE)]
        counts["addresses"] = _write_chunks(
            out_dir / "addresses.parquet", (address_chunk(population, buildings, areas, lo, hi) for lo, hi in house_chunks)
        )
        setup.advance()
        counts["households"] = _write_chunks(
            out_dir / "households.parquet", (household_chunk(population, buildings, lo, hi) for lo, hi in house_chunks)
        )
        setup.advance()
        phones = PhoneBook(seed)
        counts["persons"] = _write_chunks(
            out_dir / "persons.parquet",
            (
                _advanced(setup, person_chunk(population, buildings, areas, routines, phones, lo, hi, seed, i))
                for i, (lo, hi) in enumerate(chunks)
            ),
        )
        plans = [
            DayPlan(
                person_key=np.arange(lo, hi, dtype=np.int64),
                role=population.role[lo:hi],
                age=population.age[lo:hi],
                work_venue=routines.work_venue[lo:hi],
                bus_line=routines.bus_line[lo:hi],
                home_community=home_community[lo:hi],
            )
            for lo, hi in chunks
        ]
        scan_step = report.step("Venue scans" + (" and pings" if pings else ""), days * len(chunks))
        day_files: list[Path] = []
        counts["scans"] = counts["pings"] = 0
        start_us = (start_date - EPOCH).days * DAY_US
        for day in range(days):
            today = start_date + timedelta(days=day)
            day_dir = f"day={today.isoformat()}"
            day_files.append(out_dir / "scans" / day_dir / "part-00000.parquet")
            scan_writer = _writer(day_files[-1], SCAN_SCHEMA)
            ping_writer = _writer(out_dir / "pings" / day_dir / "part-00000.parquet", PING_SCHEMA) if pings else None
            for index, plan in enumerate(plans):
                rng = stream(seed, f"scans.day{day}.chunk{index}")
                rows = plan_day(plan, venues, today.weekday(), rng)
                who, venue, t_in, t_out = rows
                day_us = start_us + day * DAY_US
                scan_writer.write_table(
                    pa.table(
                        {
                            "person_key": pa.array(plan.person_key[who]),
                            "venue_id": pa.array(venue),
                            "time_in": pa.array(day_us + t_in * 1_000_000, type=pa.timestamp("us")),
                            "time_out": pa.array(day_us + t_out * 1_000_000, type=pa.timestamp("us")),
                        },
                        schema=SCAN_SCHEMA,
                    )
                )
                counts["scans"] += len(who)
                if ping_writer is not None:
                    counts["pings"] += _write_pings(
                        ping_writer, plan, rows, population, buildings, venues, ping_interval_minutes, day_us, seed, day, index
                    )
                scan_step.advance()
            scan_writer.close()
            if ping_writer is not None:
                ping_writer.close()
        outbreak_step = report.step("Outbreak", days)
        infections = simulate_outbreak(
            population, venues.kind, day_files, start_date, seed, params, outbreak_step.advance
        )
    (out_dir / "outbreak").mkdir(exist_ok=True)
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
            "households": population.households,
            "foreigners": int(population.foreign.sum()),
            "scans_per_person_day": round(counts["scans"] / (people * days), 3),
        },
    )
    manifest.manifest.write_text(json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return manifest


def _write(table: pa.Table, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression=COMPRESSION)
    return table.num_rows


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(path, schema, compression=COMPRESSION)


def _write_chunks(path: Path, tables: Any) -> int:
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


def _advanced(step: Any, table: pa.Table) -> pa.Table:
    step.advance()
    return table


def _write_pings(
    writer: pq.ParquetWriter,
    plan: DayPlan,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    population: Any,
    buildings: Any,
    venues: Any,
    interval: int,
    day_us: int,
    seed: int,
    day: int,
    chunk: int,
) -> int:
    building = population.household_building[population.person_household[plan.person_key]]
    rng = stream(seed, f"pings.day{day}.chunk{chunk}")
    who, ts, lat, lon = plan_pings(plan, rows, buildings.lat[building], buildings.lon[building], venues, interval, rng)
    writer.write_table(
        pa.table(
            {
                "person_key": pa.array(plan.person_key[who]),
                "ts": pa.array(day_us + ts * 1_000_000, type=pa.timestamp("us")),
                "lat": pa.array(lat),
                "lon": pa.array(lon),
            },
            schema=PING_SCHEMA,
        )
    )
    return len(who)
