"""Contacts on shared vehicles (同乘交通工具) in the contact engine's dialect-neutral SQL.

Views read: a windows view (origin_key, case_key, window_start, window_end), ``trips`` (one row per
traveller per trip: trip_id, vehicle_kind, departs_at, arrives_at, person_key, row, car, compartment,
cabin, crew) and ``vehicle_rules`` (one row per vehicle kind, built from the profile by
:func:`vehicle_rules_table`). Same SQL subset as ``_sql.py``; every result is ordered.
"""

from __future__ import annotations

import pyarrow as pa

from bihuan.protocol import ProtocolProfile, VehicleKind, VehicleScope

TRIPS = "trips"
VEHICLE_RULES = "vehicle_rules"

VEHICLE_RULES_SCHEMA = pa.schema(
    [
        ("vehicle_kind", pa.string()),
        ("scope", pa.string()),
        ("rows_either_side", pa.int32()),
        ("include_crew", pa.bool_()),
        ("sleeper_scope", pa.string()),
    ]
)


def vehicle_rules_table(profile: ProtocolProfile) -> pa.Table:
    """The profile's vehicle rules (交通工具密接判定) as the small ``vehicle_rules`` table the SQL joins."""
    rules = [(str(kind), profile.tracing.vehicles[kind]) for kind in VehicleKind]
    return pa.table(
        {
            "vehicle_kind": [kind for kind, _ in rules],
            "scope": [str(rule.scope) for _, rule in rules],
            "rows_either_side": [rule.rows_either_side for _, rule in rules],
            "include_crew": [rule.include_crew for _, rule in rules],
            "sleeper_scope": [None if rule.sleeper_scope is None else str(rule.sleeper_scope) for _, rule in rules],
        },
        schema=VEHICLE_RULES_SCHEMA,
    )


def _scope(name: VehicleScope) -> str:
    return f"'{name.value}'"


def _is_close() -> str:
    """CASE mirroring ``vehicle_close_contact``: case seat ``c``, other traveller ``o``, rule ``r``."""
    crew = "COALESCE(o.crew, FALSE)"
    same_car = "c.car IS NOT NULL AND o.car IS NOT NULL AND c.car = o.car"
    same_compartment = "c.compartment IS NOT NULL AND o.compartment IS NOT NULL AND c.compartment = o.compartment"
    return f"""CASE
      WHEN r.scope = {_scope(VehicleScope.ALL)} THEN TRUE
      WHEN r.scope = {_scope(VehicleScope.ROWS)} AND {crew} THEN COALESCE(r.include_crew, FALSE)
      WHEN r.scope = {_scope(VehicleScope.ROWS)} THEN
        c.row IS NOT NULL AND o.row IS NOT NULL AND r.rows_either_side IS NOT NULL
        AND ABS(c.row - o.row) <= r.rows_either_side
      WHEN r.scope = {_scope(VehicleScope.CABIN)} THEN c.cabin IS NOT NULL AND o.cabin IS NOT NULL AND c.cabin = o.cabin
      WHEN NOT ({same_car}) THEN FALSE
      WHEN r.sleeper_scope = {_scope(VehicleScope.COMPARTMENT)} AND c.compartment IS NOT NULL THEN {same_compartment}
      WHEN r.scope = {_scope(VehicleScope.COMPARTMENT)} THEN {same_compartment}
      ELSE TRUE
    END"""


def _clean_trips() -> str:
    """CTE ``clean_trips``: trip rows with a traveller, a trip and a positive duration, each once."""
    return f"""clean_trips AS (
    SELECT DISTINCT trip_id, vehicle_kind, departs_at, arrives_at, person_key, row, car, compartment, cabin, crew
    FROM {TRIPS}
    WHERE trip_id IS NOT NULL AND person_key IS NOT NULL AND departs_at < arrives_at
  )"""


def trip_contacts(windows: str) -> str:
    """Co-travellers of each windowed person on every trip that overlaps their window (同乘人员).

    One row per (origin, case, co-traveller, trip): (origin_key, case_key, contact_key, trip_id,
    vehicle_kind, is_close, exposure_start, exposure_end). ``is_close`` applies the kind's rule from
    ``vehicle_rules``; the rest on board are general contacts (一般接触者). Exposure is the time both were
    on board, within the window; travellers who never shared the vehicle with the case are skipped.
    """
    shared_start = "GREATEST(c.departs_at, o.departs_at, c.window_start)"
    shared_end = "LEAST(c.arrives_at, o.arrives_at, c.window_end)"
    return f"""WITH {_clean_trips()},
  case_trips AS (
    SELECT w.origin_key, w.case_key, w.window_start, w.window_end, t.trip_id, t.vehicle_kind,
           t.departs_at, t.arrives_at, t.row, t.car, t.compartment, t.cabin
    FROM {windows} w JOIN clean_trips t ON t.person_key = w.case_key
    WHERE t.arrives_at > w.window_start AND t.departs_at < w.window_end
  )
SELECT c.origin_key, c.case_key, o.person_key AS contact_key, c.trip_id, c.vehicle_kind,
       {_is_close()} AS is_close,
       {shared_start} AS exposure_start, {shared_end} AS exposure_end
FROM case_trips c
JOIN clean_trips o ON o.trip_id = c.trip_id AND o.person_key <> c.case_key
JOIN {VEHICLE_RULES} r ON r.vehicle_kind = c.vehicle_kind
WHERE {shared_end} > {shared_start}
ORDER BY c.origin_key, c.case_key, contact_key, c.trip_id, exposure_start, exposure_end"""
