"""The outbreak's ground truth: a daily stochastic process over households and venue scans.

Index cases are seeded on days 1-2. Each day, every infectious person may infect the members
of their household, and the people whose scans at the same venue overlap theirs by at least
``min_overlap_minutes``: venue transmission never happens without two overlapping scans, so
a contact-tracing engine can be checked against this truth. Only the infectious people's
scans are read from the Parquet files (DuckDB), so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from bihuan.sim._population import EPOCH, ROLE_WORKER, Population
from bihuan.sim._random import choice_cdf, stream
from bihuan.sim._scans import DAY_US, HOUR
from bihuan.sim._venues import KINDS

SETTINGS = ("index", "household", "venue")
INDEX, HOUSEHOLD, VENUE = 0, 1, 2
DEFAULT_INDEX_CASES = 10
INFECTION_SCHEMA = pa.schema(
    [
        ("infectee_key", pa.int64()),
        ("infector_key", pa.int64()),
        ("setting", pa.string()),
        ("venue_id", pa.int32()),
        ("infected_at", pa.timestamp("us")),
        ("onset_date", pa.date32()),
        ("asymptomatic", pa.bool_()),
        ("first_positive_sampling_date", pa.date32()),
        ("lineage", pa.string()),
        ("generation", pa.int16()),
    ]
)

_VENUE_RATE = {
    "restaurant": 0.5, "supermarket": 0.15, "market": 0.25, "office": 0.12, "factory": 0.1,
    "school": 0.12, "hospital": 0.1, "gym": 0.3, "cinema": 0.15, "hotel": 0.1,
    "transport_hub": 0.12, "bus": 0.5, "other": 0.15,
}  # fmt: skip


def default_lineages(start_date: date) -> tuple[str, ...]:
    """Delta sub-lineages for 2021 (the Zhejiang outbreak), Omicron for later dates."""
    return ("Delta AY.4",) if start_date < date(2022, 1, 1) else ("BA.2", "BA.2.2")


@dataclass(frozen=True, slots=True)
class OutbreakParams:
    """Natural history and transmission; every rate is multiplied by ``attack``."""

    index_cases: int = DEFAULT_INDEX_CASES
    attack: float = 1.0
    household_daily_risk: float = 0.15  # per infectious day and household member
    venue_hourly_rate: tuple[float, ...] = tuple(_VENUE_RATE[k] for k in KINDS)  # infections/h when crowded
    crowd_floor: int = 8  # venue risk is shared among at least this many co-present people
    min_overlap_minutes: int = 15
    latent_day_weights: tuple[float, ...] = (0.0, 0.0, 0.25, 0.35, 0.25, 0.15)  # days 0..5
    presymptomatic_day_weights: tuple[float, ...] = (0.3, 0.5, 0.2)
    infectious_days: tuple[int, int] = (5, 9)
    asymptomatic_share: float = 0.25
    asymptomatic_share_children: float = 0.45
    sampling_delay_weights: tuple[float, ...] = (0.3, 0.4, 0.2, 0.1)  # days after onset
    asymptomatic_found_days: tuple[int, int] = (3, 8)  # after infection (mass screening)
    isolate_when_found: bool = True  # transmission stops after the first positive sampling day
    lineages: tuple[str, ...] = field(default=())


@dataclass(slots=True)
class _Cases:
    """Infections so far, one array per attribute (grown day by day)."""

    key: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    infector: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    setting: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))
    venue: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    infected_us: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    infectious_from: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    infectious_until: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    onset_day: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    asymptomatic: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    sample_day: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    lineage: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))
    generation: np.ndarray = field(default_factory=lambda: np.empty(0, np.int16))

    def extend(self, other: dict[str, np.ndarray]) -> None:
        for name, values in other.items():
            setattr(self, name, np.concatenate([getattr(self, name), values.astype(getattr(self, name).dtype)]))


def simulate_outbreak(
    population: Population,
    venue_kind: np.ndarray,
    scan_day_files: list[Path],
    start_date: date,
    seed: int,
    params: OutbreakParams,
    advance: Callable[[], None] | None = None,
) -> pa.Table:
    """Run the daily process over the written scan files; returns the infections table."""
    n = population.size
    infected = np.zeros(n, dtype=bool)
    cases = _Cases()
    start_us = (start_date - EPOCH).days * DAY_US
    lineages = params.lineages or default_lineages(start_date)
    index_keys, index_day = _index_cases(population, params.index_cases, seed)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET memory_limit = '2GB'")
    try:
        for day, scan_file in enumerate(scan_day_files):
            rng = stream(seed, f"outbreak.day{day}")
            day_us = start_us + day * DAY_US
            seeded = index_keys[index_day == day]
            if len(seeded):
                events = {
                    "key": seeded,
                    "infector": np.full(len(seeded), -1),
                    "setting": np.full(len(seeded), INDEX),
                    "venue": np.full(len(seeded), -1),
                    "infected_us": day_us + rng.integers(8 * 3600, 20 * 3600, len(seeded)) * 1_000_000,
                    "lineage": np.arange(len(seeded)) % len(lineages),
                    "generation": np.zeros(len(seeded)),
                }
                _add_cases(cases, infected, events, day, population, params, rng)
            sources = np.flatnonzero((cases.infectious_from <= day) & (day < cases.infectious_until))
            if len(sources):
                events = _household_events(population, cases, sources, infected, day_us, params, rng)
                venue_events = _venue_events(con, scan_file, cases, sources, infected, venue_kind, params, rng)
                events = {name: np.concatenate([events[name], venue_events[name]]) for name in events}
                _add_cases(cases, infected, _first_per_infectee(events), day, population, params, rng)
            if advance is not None:
                advance()
    finally:
        con.close()
    return _table(cases, start_date, lineages)


def _index_cases(population: Population, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Working-age residents (workers, so they move about), half seeded on day 1 and half on day 2."""
    rng = stream(seed, "outbreak.index")
    candidates = np.flatnonzero((population.role == ROLE_WORKER) & ~population.foreign)
    if len(candidates) < count:
        candidates = np.arange(population.size)
    keys = np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False)).astype(np.int64)
    day = (rng.random(len(keys)) < 0.5).astype(np.int64)
    return keys, day


def _household_events(
    population: Population,
    cases: _Cases,
    sources: np.ndarray,
    infected: np.ndarray,
    day_us: int,
    params: OutbreakParams,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Each susceptible household member of an infectious person is infected with a daily risk."""
    infector = cases.key[sources]
    household = population.person_household[infector]
    first = population.household_start[household]
    size = population.household_start[household + 1] - first
    row = np.repeat(np.arange(len(infector)), size)
    member = np.repeat(first, size) + np.arange(len(row)) - np.repeat(np.cumsum(size) - size, size)
    keep = (member != infector[row]) & ~infected[member]
    row, member = row[keep], member[keep]
    hit = rng.random(len(row)) < min(1.0, params.household_daily_risk * params.attack)
    row, member = row[hit], member[hit]
    at_home = day_us + rng.integers(18 * 3600 + 1800, 24 * 3600 - 600, len(row)) * 1_000_000
    return _events(member, sources[row], cases, HOUSEHOLD, np.full(len(row), -1), at_home)


def _venue_events(
    con: duckdb.DuckDBPyConnection,
    scan_file: Path,
    cases: _Cases,
    sources: np.ndarray,
    infected: np.ndarray,
    venue_kind: np.ndarray,
    params: OutbreakParams,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Infections among people whose scans overlap an infectious person's scan at the same venue."""
    con.register("infectious", pa.table({"person_key": cases.key[sources]}))
    try:
        found = con.execute(_CO_PRESENCE_SQL, [str(scan_file)]).fetchnumpy()
    finally:
        con.unregister("infectious")
    infector = np.asarray(found["infector_key"], dtype=np.int64)
    infectee = np.asarray(found["infectee_key"], dtype=np.int64)
    venue = np.asarray(found["venue_id"], dtype=np.int32)
    ov_start = np.asarray(found["overlap_start"], dtype=np.int64)
    ov_end = np.asarray(found["overlap_end"], dtype=np.int64)
    crowd = np.asarray(found["crowd"], dtype=np.float64)
    keep = (ov_end - ov_start >= params.min_overlap_minutes * 60 * 1_000_000) & ~infected[infectee]
    infector, infectee, venue = infector[keep], infectee[keep], venue[keep]
    ov_start, ov_end, crowd = ov_start[keep], ov_end[keep], crowd[keep]
    rate = np.asarray(params.venue_hourly_rate)[venue_kind[venue]]
    hours = (ov_end - ov_start) / (HOUR * 1e6)
    hazard = params.attack * rate * hours / np.maximum(crowd, params.crowd_floor)
    hit = rng.random(len(hazard)) < -np.expm1(-hazard)
    when = ov_start + (rng.random(len(hazard)) * (ov_end - ov_start)).astype(np.int64) // 1_000_000 * 1_000_000
    source_keys = cases.key[sources]
    by_key = np.argsort(source_keys)
    rows = sources[by_key[np.searchsorted(source_keys[by_key], infector[hit])]]
    return _events(infectee[hit], rows, cases, VENUE, venue[hit], when[hit])


_CO_PRESENCE_SQL = """
WITH day AS (SELECT person_key, venue_id, time_in, time_out FROM read_parquet(?)),
src AS (SELECT * FROM day WHERE person_key IN (SELECT person_key FROM infectious))
SELECT s.person_key AS infector_key, d.person_key AS infectee_key, s.venue_id,
       epoch_us(greatest(s.time_in, d.time_in)) AS overlap_start,
       epoch_us(least(s.time_out, d.time_out)) AS overlap_end,
       count(*) OVER (PARTITION BY s.person_key, s.venue_id, s.time_in) AS crowd
FROM src AS s JOIN day AS d
  ON d.venue_id = s.venue_id AND d.time_in < s.time_out AND d.time_out > s.time_in
 AND d.person_key <> s.person_key
ORDER BY infector_key, infectee_key, venue_id, overlap_start, overlap_end
"""


def _events(
    infectee: np.ndarray, source_rows: np.ndarray, cases: _Cases, setting: int, venue: np.ndarray, when: np.ndarray
) -> dict[str, np.ndarray]:
    return {
        "key": infectee.astype(np.int64),
        "infector": cases.key[source_rows],
        "setting": np.full(len(infectee), setting, dtype=np.int8),
        "venue": venue.astype(np.int32),
        "infected_us": when.astype(np.int64),
        "lineage": cases.lineage[source_rows],
        "generation": cases.generation[source_rows] + 1,
    }


def _first_per_infectee(events: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """When several exposures infect the same person on a day, the earliest one counts."""
    order = np.lexsort((events["infector"], events["infected_us"], events["key"]))
    key = events["key"][order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return {name: values[order][first] for name, values in events.items()}


def _add_cases(
    cases: _Cases,
    infected: np.ndarray,
    events: dict[str, np.ndarray],
    day: int,
    population: Population,
    params: OutbreakParams,
    rng: np.random.Generator,
) -> None:
    """Draw the natural history of the newly infected and append them to the cases."""
    m = len(events["key"])
    if m == 0:
        return
    latent = choice_cdf(rng, np.asarray(params.latent_day_weights), m)
    infectious_from = day + latent
    onset = infectious_from + choice_cdf(rng, np.asarray(params.presymptomatic_day_weights), m)
    child = population.age[events["key"]] < 18
    share = np.where(child, params.asymptomatic_share_children, params.asymptomatic_share)
    asymptomatic = rng.random(m) < share
    low, high = params.asymptomatic_found_days
    sample = np.where(
        asymptomatic,
        day + rng.integers(low, high + 1, m),
        onset + choice_cdf(rng, np.asarray(params.sampling_delay_weights), m),
    )
    low, high = params.infectious_days
    until = infectious_from + rng.integers(low, high + 1, m)
    if params.isolate_when_found:
        until = np.minimum(until, sample + 1)
    infected[events["key"]] = True
    cases.extend(
        {
            **events,
            "infectious_from": infectious_from,
            "infectious_until": until,
            "onset_day": np.where(asymptomatic, -1, onset),
            "asymptomatic": asymptomatic,
            "sample_day": sample,
        }
    )


def _table(cases: _Cases, start_date: date, lineages: tuple[str, ...]) -> pa.Table:
    """The infections.parquet table, ordered by infection time."""
    order = np.lexsort((cases.key, cases.infected_us))
    start_days = (start_date - EPOCH).days
    onset = cases.onset_day[order]
    infector = cases.infector[order]
    venue = cases.venue[order]
    return pa.table(
        {
            "infectee_key": pa.array(cases.key[order]),
            "infector_key": pa.array(infector, mask=infector < 0),
            "setting": pa.array(list(SETTINGS)).take(pa.array(cases.setting[order])),
            "venue_id": pa.array(venue, mask=venue < 0),
            "infected_at": pa.array(cases.infected_us[order], type=pa.timestamp("us")),
            "onset_date": pa.array(start_days + onset, mask=onset < 0).cast(pa.int32()).cast(pa.date32()),
            "asymptomatic": pa.array(cases.asymptomatic[order]),
            "first_positive_sampling_date": pa.array(start_days + cases.sample_day[order])
            .cast(pa.int32())
            .cast(pa.date32()),
            "lineage": pa.array(list(lineages)).take(pa.array(cases.lineage[order])),
            "generation": pa.array(cases.generation[order]),
        },
        schema=INFECTION_SCHEMA,
    )
