"""The contact engine (快流调): close, secondary and general contacts and companions of confirmed cases.

Heavy work runs as dialect-neutral SQL (``_sql.py``) through a :class:`QueryBackend` (DuckDB or
Spark): the big scan table is probed once per pass with the cases' own scans as the build side, and
minutes are summed per (case, contact, reason) in SQL. Each way of finding contacts gives an Arrow
evidence table (``_evidence.py``); they are merged, vectorised and deterministically, into one
contact per (case, person) carrying every reason it was found for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Literal

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
from bihuan.tracing import _sql, _transport_sql
from bihuan.tracing._evidence import (
    EVIDENCE_SCHEMA,
    MERGED_SCHEMA,
    STRENGTH,
    count_bad_rows,
    evidence,
    first_contact_of_close,
    merge_evidence,
    micros_between,
    prefixed,
    rank,
    secondary_windows,
)
from bihuan.tracing.backends import QueryBackend

METRES_PER_DEGREE_LAT = 111_320.0
"""Metres per degree of latitude (and of longitude at the equator), close enough for a grid cell."""

DEFAULT_COMPANION_TOLERANCE_MINUTES = 15
"""Two phones' pings this close in time, in one cell, count as co-present (pings come every 30 min)."""

BadRowScope = Literal["traced", "all"]
"""Which scan rows ``bad_rows`` counts: those the engine read for these cases, or the whole table."""

_WINDOWS = "exposure_windows"
_SECONDARY_WINDOWS = "secondary_windows"
_EXPOSED = "exposed_scans"
_PAIRS = "venue_pairs"
_VISIT_SCHEMA = pa.schema(
    [
        ("person_key", pa.int64()),
        ("venue_id", pa.int32()),
        ("time_in", pa.timestamp("us")),
        ("time_out", pa.timestamp("us")),
    ]
)
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
    windows end at its end (default: the latest exit in the scans). ``trips`` are transport records
    (one row per traveller per trip), read like the scans.
    """

    persons: Path | str
    venues: Path | str
    scans: Path | str
    pings: Path | str | None = None
    period: tuple[datetime, datetime] | None = None
    trips: Path | str | None = None


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


class ContactFindings:
    """The engine's answer: contacts ordered by (case, contact), and bad scan rows counted by kind.

    The engine hands over its Arrow table (:meth:`to_arrow`, one row per contact); the
    :class:`Contact` objects are built from it on first use of :attr:`contacts` or :meth:`of_case`.
    """

    __slots__ = ("_contacts", "_table", "bad_rows")

    def __init__(
        self,
        contacts: tuple[Contact, ...] | None = None,
        bad_rows: dict[str, int] | None = None,
        *,
        table: pa.Table | None = None,
    ) -> None:
        self._contacts = contacts
        self._table = table
        self.bad_rows: dict[str, int] = dict(bad_rows or {})

    @property
    def contacts(self) -> tuple[Contact, ...]:
        """Every contact, ordered by (case, contact)."""
        if self._contacts is None:
            self._contacts = contacts_from_arrow(
                self._table if self._table is not None else MERGED_SCHEMA.empty_table()
            )
        return self._contacts

    def __len__(self) -> int:
        return self._table.num_rows if self._table is not None and self._contacts is None else len(self.contacts)

    def __repr__(self) -> str:
        return f"ContactFindings({len(self)} contacts, bad_rows={self.bad_rows})"

    def of_case(self, case_key: int) -> dict[int, Contact]:
        """A case's contacts by person key."""
        if self._contacts is None and self._table is not None:
            rows = contacts_from_arrow(self._table.filter(pc.equal(self._table["case_key"], case_key)))
        else:
            rows = tuple(c for c in self.contacts if c.case_key == case_key)
        return {c.contact_key: c for c in rows}

    def to_arrow(self) -> pa.Table:
        """The contacts as one Arrow table (reasons comma-joined)."""
        table = self._table if self._table is not None else _merged_table(self.contacts)
        reasons = pc.binary_join(table["reasons"], ",")
        return table.set_column(table.schema.get_field_index("reasons"), "reasons", reasons)


def _merged_table(contacts: Sequence[Contact]) -> pa.Table:
    """Contacts given as objects, as a table of ``_evidence.MERGED_SCHEMA``."""
    return pa.table(
        {
            "case_key": [c.case_key for c in contacts],
            "contact_key": [c.contact_key for c in contacts],
            "category": [str(c.category) for c in contacts],
            "reasons": [list(c.reasons) for c in contacts],
            "first_exposure": [c.first_exposure for c in contacts],
            "last_exposure": [c.last_exposure for c in contacts],
            "minutes": [c.minutes for c in contacts],
        },
        schema=MERGED_SCHEMA,
    )


def contacts_from_arrow(table: pa.Table) -> tuple[Contact, ...]:
    """Contact objects from a merged table (``_evidence.MERGED_SCHEMA``), column by column."""
    categories = {str(category): category for category in STRENGTH}
    columns = [table[name].to_pylist() for name in MERGED_SCHEMA.names]
    return tuple(
        Contact(case, contact, categories[category], tuple(reasons), first, last, minutes)
        for case, contact, category, reasons, first, last, minutes in zip(*columns, strict=True)
    )


def find_contacts(
    backend: QueryBackend,
    sources: ContactSources,
    cases: Sequence[CaseExposure],
    profile: ProtocolProfile,
    *,
    isolated_at: Mapping[int, datetime] | None = None,
    companion_tolerance_minutes: int = DEFAULT_COMPANION_TOLERANCE_MINUTES,
    case_visits: pa.Table | None = None,
    bad_rows: BadRowScope = "traced",
    secondary: bool = True,
    until: datetime | None = None,
) -> ContactFindings:
    """Find every case's close contacts (household, venue co-presence), general contacts (shorter
    co-presence), companions (pings) and secondary contacts (close contacts' household and venues
    until their isolation, ``isolated_at``).

    ``case_visits`` (person_key, venue_id, time_in, time_out) are the cases' own extra visits, e.g.
    trajectory entries from an investigation (流调轨迹): they count as the windowed people's scans,
    never as anyone else's, and are never bad rows. ``bad_rows`` counts the bad scan rows among those
    the engine read for these cases ("traced", cheap) or in the whole table ("all", a full audit).
    With ``sources.trips``, co-travellers (同乘人员) are close or general contacts by the vehicle rules.
    ``until`` (naive UTC) is the run's moment: open windows end there rather than at the data's end,
    since nobody can have been exposed after the tracing run (a drill's logs run ahead of its clock).
    """
    _register_sources(backend, sources, profile, case_visits)
    end = _data_end(backend, sources.period)
    if until is not None:
        end = min(end, until)
    backend.register_arrow(_WINDOWS, _case_windows(cases, end))
    close = _close_evidence(backend, sources.period, profile)
    found = [close.evidence]
    if sources.pings is not None:
        found.append(_companion_evidence(backend, profile, companion_tolerance_minutes))
    if sources.trips is not None:
        found.append(_transport_evidence(backend))
    passes = [close]
    if secondary:
        passes.append(_secondary_evidence(backend, found, sources.period, isolated_at or {}, end))
        found.append(passes[-1].evidence)
    contacts = merge_evidence(found)
    if bad_rows == "all":
        return ContactFindings(bad_rows=_all_bad_rows(backend, sources.period), table=contacts)
    return ContactFindings(bad_rows=count_bad_rows([p.bad_rows for p in passes]), table=contacts)


@dataclass(frozen=True, slots=True)
class _Pass:
    """What one pass found: evidence rows, and the bad or duplicated scan rows it read."""

    evidence: pa.Table
    bad_rows: pa.Table


def _register_sources(
    backend: QueryBackend, sources: ContactSources, profile: ProtocolProfile, case_visits: pa.Table | None
) -> None:
    """Expose the sources, the cases' visits and the profile's minutes by venue kind as views."""
    backend.register_parquet(_sql.PERSONS, str(sources.persons))
    backend.register_parquet(_sql.VENUES, str(sources.venues))
    for view, source in (
        (_sql.SCANS, sources.scans),
        (_sql.PINGS, sources.pings),
        (_transport_sql.TRIPS, sources.trips),
    ):
        if source is not None:
            paths, hive = _parquet_paths(source)
            backend.register_parquet(view, paths, hive_partitioning=hive)
    if sources.trips is not None:
        backend.register_arrow(_transport_sql.VEHICLE_RULES, _transport_sql.vehicle_rules_table(profile))
    visits = _VISIT_SCHEMA.empty_table() if case_visits is None else case_visits.select(_VISIT_SCHEMA.names)
    backend.register_arrow(_sql.CASE_VISITS, visits.cast(_VISIT_SCHEMA))
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


def _data_end(backend: QueryBackend, period: tuple[datetime, datetime] | None) -> datetime:
    """Where open windows end: the data window's end, else the latest exit in the scans."""
    if period is not None:
        return period[1]
    found = backend.query(_sql.data_end()).to_pylist()[0]["data_end"]
    return found if isinstance(found, datetime) else datetime(9999, 1, 1)


def _case_windows(cases: Sequence[CaseExposure], data_end: datetime) -> pa.Table:
    """The cases' exposure windows as a table; open windows end at ``data_end``."""
    keys = pa.array([c.person_key for c in cases], pa.int64())
    starts = pa.array([c.start for c in cases], pa.timestamp("us"))
    ends = pa.array([c.end or data_end for c in cases], pa.timestamp("us"))
    return pa.table([keys, keys, starts, ends], schema=_WINDOW_SCHEMA)


def _venue_pass(
    backend: QueryBackend,
    windows: str,
    period: tuple[datetime, datetime] | None,
    minutes_view: str,
    default_minutes: int | None,
    *,
    general: bool,
) -> tuple[pa.Table, pa.Table]:
    """Venue co-presence for one windows view: the exposures per venue, and the bad rows read."""
    kinds = None if default_minutes is not None else minutes_view
    backend.materialize(_EXPOSED, _sql.exposed_scans(windows, period, kinds))
    backend.materialize(_PAIRS, _sql.venue_pairs(_EXPOSED, period))
    exposures = backend.query(_sql.venue_exposures(_EXPOSED, _PAIRS, minutes_view, default_minutes, general=general))
    return exposures, backend.query(_sql.traced_bad_rows(_EXPOSED, _PAIRS))


def _close_evidence(backend: QueryBackend, period: tuple[datetime, datetime] | None, p: ProtocolProfile) -> _Pass:
    """Close contacts (密接): household members over the whole window, venue co-presence of the kind's
    minutes; general contacts (一般接触者): shorter co-presence at a venue."""
    home = backend.query(_sql.household_members(_WINDOWS))
    household = evidence(
        home["case_key"],
        home["contact_key"],
        ContactCategory.CLOSE_CONTACT,
        pa.array(["household"] * home.num_rows, pa.string()),
        home["window_start"],
        home["window_end"],
    )
    venues, bad = _venue_pass(
        backend, _WINDOWS, period, _sql.VENUE_MINUTES, p.tracing.venues.default_minutes, general=True
    )
    close, general = rank(ContactCategory.CLOSE_CONTACT), rank(ContactCategory.GENERAL_CONTACT)
    ranks = pc.if_else(pc.equal(venues["is_close"], 1), close, general)
    at_venues = evidence(
        venues["case_key"],
        venues["contact_key"],
        ranks,
        prefixed("venue:", venues["venue_id"]),
        venues["exposure_start"],
        venues["exposure_end"],
        venues["exposure_us"],
    )
    return _Pass(pa.concat_tables([household, at_venues]), bad)


def _companion_evidence(backend: QueryBackend, profile: ProtocolProfile, tolerance: int) -> pa.Table:
    """Spatiotemporal companions (时空伴随者) from pings in the same grid cell as a case's."""
    rule = companion_rule(profile)
    bounds = backend.query(f"SELECT MIN(lat) AS lo, MAX(lat) AS hi FROM {_sql.PINGS}").to_pylist()[0]
    if bounds["lo"] is None:
        return EVIDENCE_SCHEMA.empty_table()
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
    rows = backend.query(sql)
    cells = pc.binary_join_element_wise(pc.cast(rows["cell_y"], pa.string()), pc.cast(rows["cell_x"], pa.string()), "_")
    start, end = rows["exposure_start"], rows["exposure_end"]
    reasons = prefixed("grid:", cells)
    companion = ContactCategory.COMPANION
    return evidence(rows["case_key"], rows["contact_key"], companion, reasons, start, end, micros_between(start, end))


def _transport_evidence(backend: QueryBackend) -> pa.Table:
    """Co-travellers (同乘人员): close contacts by the profile's vehicle rule, the rest on board general."""
    rows = backend.query(_transport_sql.trip_contacts(_WINDOWS))
    ranks = pc.if_else(rows["is_close"], rank(ContactCategory.CLOSE_CONTACT), rank(ContactCategory.GENERAL_CONTACT))
    start, end = rows["exposure_start"], rows["exposure_end"]
    reasons = prefixed("trip:", rows["trip_id"])
    return evidence(rows["case_key"], rows["contact_key"], ranks, reasons, start, end, micros_between(start, end))


def _secondary_evidence(
    backend: QueryBackend,
    found: Sequence[pa.Table],
    period: tuple[datetime, datetime] | None,
    isolated_at: Mapping[int, datetime],
    data_end: datetime,
) -> _Pass:
    """Secondary contacts (次密接): each close contact's household and venues of the profile's secondary
    settings, from their first exposure to the case until their isolation."""
    first = first_contact_of_close(found)
    backend.register_arrow(_SECONDARY_WINDOWS, secondary_windows(first, isolated_at, data_end, _WINDOW_SCHEMA))
    secondary = ContactCategory.SECONDARY_CONTACT
    home = backend.query(_sql.household_members(_SECONDARY_WINDOWS))
    household = evidence(
        home["origin_key"],
        home["contact_key"],
        secondary,
        prefixed("via:", home["case_key"], ":household"),
        home["window_start"],
        home["window_end"],
    )
    venues, bad = _venue_pass(backend, _SECONDARY_WINDOWS, period, _sql.SECONDARY_VENUE_MINUTES, None, general=False)
    via = pc.binary_join_element_wise(
        prefixed("via:", venues["case_key"], ":venue:"), pc.cast(venues["venue_id"], pa.string()), ""
    )
    at_venues = evidence(
        venues["origin_key"],
        venues["contact_key"],
        secondary,
        via,
        venues["exposure_start"],
        venues["exposure_end"],
        venues["exposure_us"],
    )
    return _Pass(pa.concat_tables([household, at_venues]), bad)


def _all_bad_rows(backend: QueryBackend, period: tuple[datetime, datetime] | None) -> dict[str, int]:
    """Bad rows of the whole scan table by kind (a full audit)."""
    rows = backend.query(_sql.bad_scan_rows(period)).to_pylist()
    return {str(r["problem"]): int(r["rows_found"]) for r in rows if r["rows_found"]}
