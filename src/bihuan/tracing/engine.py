"""The contact engine (快流调): close contacts, secondary contacts and companions of confirmed cases.

Heavy work runs as dialect-neutral SQL (``_sql.py``) through a :class:`QueryBackend` (DuckDB or
Spark); the small result rows are merged here, in Python, deterministically: one contact per
(case, person) carrying every reason it was found for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from bihuan.protocol import (
    CaseFacts,
    ContactCategory,
    ProtocolProfile,
    VenueKind,
    close_contact_window,
    companion_rule,
    venue_co_presence_minutes,
)
from bihuan.protocol.choices import VENUE_SETTINGS
from bihuan.tracing import _sql
from bihuan.tracing.backends import QueryBackend

METRES_PER_DEGREE_LAT = 111_320.0
"""Metres per degree of latitude (and of longitude at the equator), close enough for a grid cell."""

DEFAULT_COMPANION_TOLERANCE_MINUTES = 15
"""Two phones' pings this close in time, in one cell, count as co-present (pings come every 30 min)."""

STRENGTH = (
    ContactCategory.CLOSE_CONTACT,
    ContactCategory.SECONDARY_CONTACT,
    ContactCategory.COMPANION,
    ContactCategory.GENERAL_CONTACT,
)
"""Categories from the strongest: a person found several ways takes the first that applies."""

_WINDOWS = "exposure_windows"
_SECONDARY_WINDOWS = "secondary_windows"
_WINDOW_SCHEMA = pa.schema(
    [
        ("origin_key", pa.int64()),
        ("case_key", pa.int64()),
        ("window_start", pa.timestamp("us")),
        ("window_end", pa.timestamp("us")),
    ]
)


@dataclass(frozen=True, slots=True)
class ContactSources:
    """Where the engine reads: persons (person_key, household_code), venues (venue_id, kind), scans, pings.

    ``scans`` and ``pings`` are a file, a glob or a hive-partitioned directory (``day=YYYY-MM-DD/``).
    ``period`` is the data window [start, end): scans entering outside it are bad rows; open
    windows end at its end (default: the latest exit in the scans).
    """

    persons: Path | str
    venues: Path | str
    scans: Path | str
    pings: Path | str | None = None
    period: tuple[datetime, datetime] | None = None


@dataclass(frozen=True, slots=True)
class CaseExposure:
    """A case and the window in which contact with them counts: [start, end], end None while open."""

    person_key: int
    start: datetime
    end: datetime | None = None


def case_exposure(person_key: int, facts: CaseFacts, profile: ProtocolProfile) -> CaseExposure:
    """A case's exposure window from the profile's close-contact rule (密接判定), from midnight of its first day."""
    window = close_contact_window(facts, profile)
    return CaseExposure(person_key, datetime.combine(window.start, time()), window.end)


@dataclass(frozen=True, slots=True)
class Contact:
    """One person found around one case, with every reason (sorted) and the exposure span."""

    case_key: int
    contact_key: int
    category: ContactCategory
    reasons: tuple[str, ...]
    first_exposure: datetime
    last_exposure: datetime
    minutes: float  # co-presence minutes from scans and pings; 0 for household-only contacts


@dataclass(frozen=True, slots=True)
class ContactFindings:
    """The engine's answer: contacts ordered by (case, contact), and bad scan rows counted by kind."""

    contacts: tuple[Contact, ...]
    bad_rows: dict[str, int] = field(default_factory=dict)

    def of_case(self, case_key: int) -> dict[int, Contact]:
        """A case's contacts by person key."""
        return {c.contact_key: c for c in self.contacts if c.case_key == case_key}

    def to_arrow(self) -> pa.Table:
        """The contacts as one Arrow table (reasons comma-joined)."""
        return pa.table(
            {
                "case_key": pa.array([c.case_key for c in self.contacts], pa.int64()),
                "contact_key": pa.array([c.contact_key for c in self.contacts], pa.int64()),
                "category": pa.array([str(c.category) for c in self.contacts], pa.string()),
                "reasons": pa.array([",".join(c.reasons) for c in self.contacts], pa.string()),
                "first_exposure": pa.array([c.first_exposure for c in self.contacts], pa.timestamp("us")),
                "last_exposure": pa.array([c.last_exposure for c in self.contacts], pa.timestamp("us")),
                "minutes": pa.array([c.minutes for c in self.contacts], pa.float64()),
            }
        )


@dataclass(slots=True)
class _Found:
    """Evidence being merged into one contact."""

    category: ContactCategory
    reasons: set[str]
    first: datetime
    last: datetime
    minutes: float = 0.0

    def add(self, category: ContactCategory, reason: str, first: datetime, last: datetime, minutes: float) -> None:
        if STRENGTH.index(category) < STRENGTH.index(self.category):
            self.category = category
        self.reasons.add(reason)
        self.first, self.last = min(self.first, first), max(self.last, last)
        self.minutes += minutes


_Merged = dict[tuple[int, int], _Found]


def find_contacts(
    backend: QueryBackend,
    sources: ContactSources,
    cases: Sequence[CaseExposure],
    profile: ProtocolProfile,
    *,
    isolated_at: Mapping[int, datetime] | None = None,
    companion_tolerance_minutes: int = DEFAULT_COMPANION_TOLERANCE_MINUTES,
) -> ContactFindings:
    """Find every case's close contacts (household, venue co-presence), companions (pings) and
    secondary contacts (close contacts' household and venues until their isolation, ``isolated_at``)."""
    _register_sources(backend, sources, profile)
    bad_rows = _bad_rows(backend, sources.period)
    end = _data_end(backend, sources.period)
    windows = [(c.person_key, c.person_key, c.start, c.end or end) for c in cases]
    backend.register_arrow(_WINDOWS, _window_table(windows))
    merged: _Merged = {}
    _merge_close(merged, backend, _WINDOWS, sources.period, profile)
    if sources.pings is not None:
        _merge_companions(merged, backend, profile, companion_tolerance_minutes)
    _merge_secondary(merged, backend, sources.period, profile, isolated_at or {}, end)
    contacts = tuple(
        Contact(case, contact, f.category, tuple(sorted(f.reasons)), f.first, f.last, round(f.minutes, 3))
        for (case, contact), f in sorted(merged.items())
        if case != contact
    )
    return ContactFindings(contacts, bad_rows)


def _register_sources(backend: QueryBackend, sources: ContactSources, profile: ProtocolProfile) -> None:
    backend.register_parquet(_sql.PERSONS, str(sources.persons))
    backend.register_parquet(_sql.VENUES, str(sources.venues))
    for view, source in ((_sql.SCANS, sources.scans), (_sql.PINGS, sources.pings)):
        if source is not None:
            paths, hive = _parquet_paths(source)
            backend.register_parquet(view, paths, hive_partitioning=hive)
    backend.register_arrow(_sql.VENUE_MINUTES, _minutes_table(list(VenueKind), profile))
    settings = set(profile.tracing.secondary_contact.settings)
    secondary_kinds = [kind for kind in VenueKind if VENUE_SETTINGS.get(kind, frozenset()) & settings]
    backend.register_arrow(_sql.SECONDARY_VENUE_MINUTES, _minutes_table(secondary_kinds, profile))


def _minutes_table(kinds: list[VenueKind], profile: ProtocolProfile) -> pa.Table:
    """Minimum co-presence minutes by venue kind, as a small table the SQL joins."""
    return pa.table(
        {
            "kind": pa.array([str(kind) for kind in kinds], pa.string()),
            "minutes": pa.array([venue_co_presence_minutes(kind, profile) for kind in kinds], pa.int32()),
        }
    )


def _parquet_paths(source: Path | str) -> tuple[str, bool]:
    """A directory is read as hive partitions (``day=.../part-*.parquet``); anything else as given."""
    path = Path(source)
    if path.is_dir():
        return str(path / "*" / "*.parquet"), True
    return str(source), False


def _bad_rows(backend: QueryBackend, period: tuple[datetime, datetime] | None) -> dict[str, int]:
    rows = backend.query(_sql.bad_scan_rows(period)).to_pylist()
    return {str(r["problem"]): int(r["rows_found"]) for r in rows if r["rows_found"]}


def _data_end(backend: QueryBackend, period: tuple[datetime, datetime] | None) -> datetime:
    if period is not None:
        return period[1]
    found = backend.query(_sql.data_end()).to_pylist()[0]["data_end"]
    return found if isinstance(found, datetime) else datetime(9999, 1, 1)


def _window_table(rows: Iterable[tuple[int, int, datetime, datetime]]) -> pa.Table:
    columns: list[list[Any]] = [[], [], [], []]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return pa.table(columns, schema=_WINDOW_SCHEMA)


def _venue_exposures(backend: QueryBackend, sql: str) -> list[dict[str, Any]]:
    """Overlapping scan pairs summed per (origin, case, contact, venue), vectorised in Arrow."""
    pairs = backend.query(sql)
    start = pc.cast(pairs["exposure_start"], pa.timestamp("us"))
    end = pc.cast(pairs["exposure_end"], pa.timestamp("us"))
    minutes = pc.divide(pc.cast(pc.subtract(end, start), pa.int64()).cast(pa.float64()), 60_000_000.0)
    keys = ["origin_key", "case_key", "contact_key", "venue_id"]
    table = pa.table([*(pairs[k] for k in keys), start, end, minutes], names=[*keys, "first", "last", "minutes"])
    grouped = table.group_by(keys).aggregate([("first", "min"), ("last", "max"), ("minutes", "sum")])
    grouped = grouped.select([*keys, "first_min", "last_max", "minutes_sum"])
    return grouped.rename_columns([*keys, "first", "last", "minutes"]).to_pylist()


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def _merge_close(
    merged: _Merged, backend: QueryBackend, windows: str, period: tuple[datetime, datetime] | None, p: ProtocolProfile
) -> None:
    """Close contacts (密接): household members over the whole window, venue co-presence per venue."""
    close = ContactCategory.CLOSE_CONTACT
    for r in backend.query(_sql.household_members(windows)).to_pylist():
        _add(merged, r["case_key"], r["contact_key"], close, "household", r["window_start"], r["window_end"], 0.0)
    sql = _sql.venue_co_presence(windows, period, _sql.VENUE_MINUTES, p.tracing.venues.default_minutes)
    for r in _venue_exposures(backend, sql):
        reason = f"venue:{r['venue_id']}"
        _add(merged, r["case_key"], r["contact_key"], close, reason, r["first"], r["last"], r["minutes"])


def _merge_companions(merged: _Merged, backend: QueryBackend, profile: ProtocolProfile, tolerance: int) -> None:
    """Spatiotemporal companions (时空伴随者) from pings in the same grid cell as a case's."""
    rule = companion_rule(profile)
    bounds = backend.query(f"SELECT MIN(lat) AS lo, MAX(lat) AS hi FROM {_sql.PINGS}").to_pylist()[0]
    if bounds["lo"] is None:
        return
    mid_lat = (float(bounds["lo"]) + float(bounds["hi"])) / 2
    cell_lat = rule.grid_metres / METRES_PER_DEGREE_LAT
    cell_lon = rule.grid_metres / (METRES_PER_DEGREE_LAT * math.cos(math.radians(mid_lat)))
    sql = _sql.grid_companions(
        _WINDOWS,
        cell_lat_degrees=round(cell_lat, 9),
        cell_lon_degrees=round(cell_lon, 9),
        tolerance_minutes=tolerance,
        min_minutes=rule.min_minutes,
    )
    companion = ContactCategory.COMPANION
    for r in backend.query(sql).to_pylist():
        start, end = r["exposure_start"], r["exposure_end"]
        reason = f"grid:{r['cell_y']}_{r['cell_x']}"
        _add(merged, r["case_key"], r["contact_key"], companion, reason, start, end, _minutes(start, end))


def _merge_secondary(
    merged: _Merged,
    backend: QueryBackend,
    period: tuple[datetime, datetime] | None,
    profile: ProtocolProfile,
    isolated_at: Mapping[int, datetime],
    data_end: datetime,
) -> None:
    """Secondary contacts (次密接): each close contact's household and venues, from first exposure to isolation."""
    close = {key for key, f in merged.items() if f.category is ContactCategory.CLOSE_CONTACT}
    windows = [
        (case, contact, merged[case, contact].first, isolated_at.get(contact, data_end))
        for case, contact in sorted(close)
        if isolated_at.get(contact, data_end) > merged[case, contact].first
    ]
    backend.register_arrow(_SECONDARY_WINDOWS, _window_table(windows))
    secondary = ContactCategory.SECONDARY_CONTACT
    found: list[tuple[int, int, str, datetime, datetime, float]] = []
    for r in backend.query(_sql.household_members(_SECONDARY_WINDOWS)).to_pylist():
        reason = f"via:{r['case_key']}:household"
        found.append((r["origin_key"], r["contact_key"], reason, r["window_start"], r["window_end"], 0.0))
    sql = _sql.venue_co_presence(_SECONDARY_WINDOWS, period, _sql.SECONDARY_VENUE_MINUTES, None)
    for r in _venue_exposures(backend, sql):
        reason = f"via:{r['case_key']}:venue:{r['venue_id']}"
        found.append((r["origin_key"], r["contact_key"], reason, r["first"], r["last"], r["minutes"]))
    for case, contact, reason, start, end, minutes in found:
        if contact != case and (case, contact) not in close:
            _add(merged, case, contact, secondary, reason, start, end, minutes)


def _add(
    merged: _Merged,
    case: int,
    contact: int,
    category: ContactCategory,
    reason: str,
    first: datetime,
    last: datetime,
    minutes: float,
) -> None:
    found = merged.get((case, contact))
    if found is None:
        merged[case, contact] = _Found(category, {reason}, first, last, minutes)
    else:
        found.add(category, reason, first, last, minutes)
