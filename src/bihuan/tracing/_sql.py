"""The contact engine's SQL (快流调): one text for DuckDB and Spark SQL alike.

Only what both dialects accept: CAST, CASE, COALESCE, LEAST/GREATEST, FLOOR, standard joins,
GROUP BY, ``TIMESTAMP '...'`` literals and ``INTERVAL 'n' MINUTE`` arithmetic on timestamps. Every
result is ordered, so two backends return equal tables. Views read: ``persons``, ``venues``, ``scans``,
``pings``, ``venue_minutes`` (or ``secondary_venue_minutes``) and a windows view
(origin_key, case_key, window_start, window_end).
"""

from __future__ import annotations

from datetime import datetime

PERSONS = "persons"
VENUES = "venues"
SCANS = "scans"
PINGS = "pings"
VENUE_MINUTES = "venue_minutes"
SECONDARY_VENUE_MINUTES = "secondary_venue_minutes"


def timestamp_literal(moment: datetime) -> str:
    """A naive timestamp as an SQL literal both dialects read."""
    return f"TIMESTAMP '{moment.strftime('%Y-%m-%d %H:%M:%S')}'"


def _problem(period: tuple[datetime, datetime] | None) -> str:
    """CASE naming the first fault of a scan row (NULL: a good row), in a fixed order."""
    outside = "1 = 0"
    if period is not None:
        start, end = (timestamp_literal(moment) for moment in period)
        outside = f"s.time_in < {start} OR s.time_in >= {end}"
    return f"""CASE
      WHEN s.person_key IS NULL OR s.venue_id IS NULL OR s.time_in IS NULL OR s.time_out IS NULL THEN 'missing_value'
      WHEN p.person_key IS NULL THEN 'unknown_person'
      WHEN v.venue_id IS NULL THEN 'unknown_venue'
      WHEN s.time_out < s.time_in THEN 'exit_before_entry'
      WHEN {outside} THEN 'outside_window'
    END"""


def _checked_scans(period: tuple[datetime, datetime] | None) -> str:
    """CTE ``checked_scans``: every scan row with its venue kind and its fault, if any."""
    return f"""checked_scans AS (
    SELECT s.person_key, s.venue_id, s.time_in, s.time_out, v.kind, {_problem(period)} AS problem
    FROM {SCANS} s
    LEFT JOIN (SELECT DISTINCT person_key FROM {PERSONS}) p ON p.person_key = s.person_key
    LEFT JOIN {VENUES} v ON v.venue_id = s.venue_id
  )"""


def _clean_scans(period: tuple[datetime, datetime] | None) -> str:
    """CTEs ending in ``clean_scans``: good rows, each once."""
    return f"""{_checked_scans(period)},
  clean_scans AS (
    SELECT DISTINCT person_key, venue_id, time_in, time_out, kind FROM checked_scans WHERE problem IS NULL
  )"""


def bad_scan_rows(period: tuple[datetime, datetime] | None) -> str:
    """Bad scan rows counted by kind (problem, rows); duplicates are the extra copies of good rows."""
    return f"""WITH {_checked_scans(period)},
  copies AS (
    SELECT COUNT(*) AS n FROM checked_scans WHERE problem IS NULL
    GROUP BY person_key, venue_id, time_in, time_out
  )
SELECT problem, CAST(COUNT(*) AS BIGINT) AS rows_found FROM checked_scans WHERE problem IS NOT NULL GROUP BY problem
UNION ALL
SELECT 'duplicate' AS problem, CAST(COALESCE(SUM(n - 1), 0) AS BIGINT) AS rows_found FROM copies
ORDER BY problem"""


def data_end() -> str:
    """The latest exit in the scan logs: where open windows end when no data window is given."""
    return f"SELECT MAX(time_out) AS data_end FROM {SCANS} WHERE time_out >= time_in"


def household_members(windows: str) -> str:
    """Household members (同住人员) of each windowed person: (origin_key, case_key, contact_key, start, end)."""
    return f"""SELECT w.origin_key, w.case_key, m.person_key AS contact_key, w.window_start, w.window_end
FROM {windows} w
JOIN {PERSONS} pc ON pc.person_key = w.case_key
JOIN {PERSONS} m ON m.household_code = pc.household_code AND m.person_key <> w.case_key
ORDER BY w.origin_key, w.case_key, contact_key, w.window_start"""


def venue_co_presence(
    windows: str, period: tuple[datetime, datetime] | None, minutes_view: str, default_minutes: int | None
) -> str:
    """Scan overlaps (场所共处) with each windowed person at one venue, at least the kind's minutes long.

    One row per pair of overlapping scans whose overlap meets the threshold and touches the window:
    (origin_key, case_key, contact_key, venue_id, exposure_start, exposure_end). Minutes by kind come
    from ``minutes_view`` (kind, minutes); kinds not listed take ``default_minutes``, or are skipped if None.
    """
    join = "JOIN" if default_minutes is None else "LEFT JOIN"
    minutes = "m.minutes" if default_minutes is None else f"COALESCE(m.minutes, {int(default_minutes)})"
    overlap_start = "GREATEST(e.time_in, o.time_in)"
    overlap_end = "LEAST(e.time_out, o.time_out)"
    return f"""WITH {_clean_scans(period)},
  exposed_scans AS (
    SELECT w.origin_key, w.case_key, w.window_start, w.window_end, s.venue_id, s.kind, s.time_in, s.time_out
    FROM {windows} w JOIN clean_scans s ON s.person_key = w.case_key
    WHERE s.time_out > w.window_start AND s.time_in < w.window_end
  )
SELECT e.origin_key, e.case_key, o.person_key AS contact_key, e.venue_id,
       {overlap_start} AS exposure_start, {overlap_end} AS exposure_end
FROM exposed_scans e
JOIN clean_scans o
  ON o.venue_id = e.venue_id AND o.time_in < e.time_out AND o.time_out > e.time_in AND o.person_key <> e.case_key
{join} {minutes_view} m ON m.kind = e.kind
WHERE {overlap_end} >= {overlap_start} + INTERVAL '1' MINUTE * {minutes}
  AND {overlap_end} > e.window_start AND {overlap_start} < e.window_end
ORDER BY e.origin_key, e.case_key, contact_key, e.venue_id, exposure_start, exposure_end"""


def grid_companions(
    windows: str, *, cell_lat_degrees: float, cell_lon_degrees: float, tolerance_minutes: int, min_minutes: int
) -> str:
    """Spatiotemporal companions (时空伴随者): pings in the same grid cell as a windowed person's pings.

    Another phone pinging within ``tolerance_minutes`` of a case's ping in the same cell is co-present;
    co-presence spans the first to the last such case ping and must last longer than ``min_minutes``.
    """

    def cell(alias: str) -> str:
        return (
            f"CAST(FLOOR({alias}.lat / {cell_lat_degrees!r}) AS BIGINT) AS cell_y, "
            f"CAST(FLOOR({alias}.lon / {cell_lon_degrees!r}) AS BIGINT) AS cell_x"
        )

    tolerance = f"INTERVAL '{int(tolerance_minutes)}' MINUTE"
    return f"""WITH case_pings AS (
    SELECT w.origin_key, w.case_key, p.ts, {cell("p")}
    FROM {windows} w JOIN {PINGS} p ON p.person_key = w.case_key
    WHERE p.ts >= w.window_start AND p.ts < w.window_end AND p.lat IS NOT NULL AND p.lon IS NOT NULL
  ),
  other_pings AS (
    SELECT q.person_key, q.ts, {cell("q")} FROM {PINGS} q WHERE q.lat IS NOT NULL AND q.lon IS NOT NULL
  )
SELECT c.origin_key, c.case_key, o.person_key AS contact_key, c.cell_y, c.cell_x,
       MIN(c.ts) AS exposure_start, MAX(c.ts) AS exposure_end
FROM case_pings c
JOIN other_pings o
  ON o.cell_y = c.cell_y AND o.cell_x = c.cell_x AND o.person_key <> c.case_key
 AND o.ts >= c.ts - {tolerance} AND o.ts <= c.ts + {tolerance}
GROUP BY c.origin_key, c.case_key, o.person_key, c.cell_y, c.cell_x
HAVING MAX(c.ts) > MIN(c.ts) + INTERVAL '{int(min_minutes)}' MINUTE
ORDER BY c.origin_key, c.case_key, contact_key, c.cell_y, c.cell_x"""
