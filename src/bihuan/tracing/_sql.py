"""The contact engine's SQL (快流调): one text for DuckDB and Spark SQL alike.

Only what both dialects accept: CAST, CASE, COALESCE, LEAST/GREATEST, FLOOR, standard joins,
GROUP BY, ``TIMESTAMP '...'`` literals, ``INTERVAL 'n' MINUTE`` arithmetic on timestamps and
``unix_micros`` (a Spark built-in; the DuckDB backend defines it as a macro). Every result is
ordered, so two backends return equal tables. Views read: ``persons``, ``venues``, ``scans``,
``pings``, ``case_visits``, ``venue_minutes`` (or ``secondary_venue_minutes``) and a windows view
(origin_key, case_key, window_start, window_end).

Venue co-presence runs in two steps so that the big scan table is probed once, with a small build
side: :func:`exposed_scans` picks the windowed people's own scans (tiny), :func:`venue_pairs` joins
the scans at those venues and times to them; both are materialised and then only aggregated.
"""

from __future__ import annotations

from datetime import datetime

PERSONS = "persons"
VENUES = "venues"
SCANS = "scans"
PINGS = "pings"
CASE_VISITS = "case_visits"
VENUE_MINUTES = "venue_minutes"
SECONDARY_VENUE_MINUTES = "secondary_venue_minutes"

KNOWN_PERSONS = f"(SELECT DISTINCT person_key FROM {PERSONS})"
"""Each registered person once: a left join to it tells a scan of an unknown person."""


def timestamp_literal(moment: datetime) -> str:
    """A naive timestamp as an SQL literal both dialects read."""
    return f"TIMESTAMP '{moment.strftime('%Y-%m-%d %H:%M:%S')}'"


def _outside(alias: str, period: tuple[datetime, datetime] | None) -> str:
    """Condition: the scan entered outside the data window (never, without one)."""
    if period is None:
        return "1 = 0"
    start, end = (timestamp_literal(moment) for moment in period)
    return f"{alias}.time_in < {start} OR {alias}.time_in >= {end}"


def _problem(period: tuple[datetime, datetime] | None) -> str:
    """CASE naming the first fault of scan row ``s`` (NULL: a good row), in a fixed order.

    Needs ``p`` (a left join to :data:`KNOWN_PERSONS`) and ``v`` (a left join to venues).
    """
    return f"""CASE
      WHEN s.person_key IS NULL OR s.venue_id IS NULL OR s.time_in IS NULL OR s.time_out IS NULL THEN 'missing_value'
      WHEN p.person_key IS NULL THEN 'unknown_person'
      WHEN v.venue_id IS NULL THEN 'unknown_venue'
      WHEN s.time_out < s.time_in THEN 'exit_before_entry'
      WHEN {_outside("s", period)} THEN 'outside_window'
    END"""


def bad_scan_rows(period: tuple[datetime, datetime] | None) -> str:
    """Every bad row of the whole scan table counted by kind (problem, rows_found); duplicates are the
    extra copies of good rows. A full audit: it reads and groups every row, so it is the slow part."""
    return f"""WITH checked_scans AS (
    SELECT s.person_key, s.venue_id, s.time_in, s.time_out, {_problem(period)} AS problem
    FROM {SCANS} s
    LEFT JOIN {KNOWN_PERSONS} p ON p.person_key = s.person_key
    LEFT JOIN {VENUES} v ON v.venue_id = s.venue_id
  ),
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


def exposed_scans(windows: str, period: tuple[datetime, datetime] | None, kinds_view: str | None) -> str:
    """The windowed people's own scan rows touching their window, plus their ``case_visits``, each once.

    One row per (window, distinct row, problem) with an ``exposed_id`` and ``copies``, the scan rows it
    stands for (0 for a visit found in no scan). Visits at unregistered venues or ending before they begin are left out.
    With ``kinds_view``, only venues of the kinds it lists.
    """
    kinds = "" if kinds_view is None else f"JOIN {kinds_view} k ON k.kind = v.kind"
    touches = "s.time_out > w.window_start AND s.time_in < w.window_end"
    return f"""WITH own_rows AS (
    SELECT w.origin_key, w.case_key, w.window_start, w.window_end, s.venue_id, v.kind, s.time_in, s.time_out,
           {_problem(period)} AS problem, 1 AS is_scan
    FROM {windows} w
    JOIN {SCANS} s ON s.person_key = w.case_key
    LEFT JOIN {KNOWN_PERSONS} p ON p.person_key = s.person_key
    LEFT JOIN {VENUES} v ON v.venue_id = s.venue_id
    {kinds}
    WHERE {touches}
    UNION ALL
    SELECT w.origin_key, w.case_key, w.window_start, w.window_end, s.venue_id, v.kind, s.time_in, s.time_out,
           CAST(NULL AS STRING) AS problem, 0 AS is_scan
    FROM {windows} w
    JOIN {CASE_VISITS} s ON s.person_key = w.case_key
    JOIN {VENUES} v ON v.venue_id = s.venue_id
    {kinds}
    WHERE {touches} AND s.time_out >= s.time_in
  )
SELECT CAST(ROW_NUMBER() OVER (ORDER BY origin_key, case_key, window_start, venue_id, time_in, time_out, problem)
            AS BIGINT) AS exposed_id, *
FROM (
  SELECT origin_key, case_key, window_start, window_end, venue_id, kind, time_in, time_out, problem,
         CAST(SUM(is_scan) AS BIGINT) AS copies
  FROM own_rows
  GROUP BY origin_key, case_key, window_start, window_end, venue_id, kind, time_in, time_out, problem
) g"""


def venue_pairs(exposed: str, period: tuple[datetime, datetime] | None) -> str:
    """Every other person's scan overlapping a good exposed scan at its venue (场所共处), each row once.

    The one probe of the big scan table, joined by venue and time to the small ``exposed`` build side,
    which carries only what the join needs; one slim row per (exposed scan ``exposed_id``, distinct
    other row, problem) with ``copies``.
    """
    return f"""SELECT e.exposed_id, s.person_key AS contact_key, s.time_in, s.time_out,
       CASE
         WHEN p.person_key IS NULL THEN 'unknown_person'
         WHEN s.time_out < s.time_in THEN 'exit_before_entry'
         WHEN {_outside("s", period)} THEN 'outside_window'
       END AS problem,
       CAST(COUNT(*) AS BIGINT) AS copies
FROM (SELECT exposed_id, case_key, venue_id, time_in, time_out FROM {exposed} WHERE problem IS NULL) e
JOIN {SCANS} s
  ON s.venue_id = e.venue_id AND s.time_in < e.time_out AND s.time_out > e.time_in AND s.person_key <> e.case_key
LEFT JOIN {KNOWN_PERSONS} p ON p.person_key = s.person_key
GROUP BY e.exposed_id, s.person_key, s.time_in, s.time_out, p.person_key"""


def venue_exposures(exposed: str, pairs: str, minutes_view: str, default_minutes: int | None, *, general: bool) -> str:
    """Good pairs summed per (origin, case, contact, venue, is_close): first, last and exposure micros.

    A pair whose overlap lasts the kind's minutes (``minutes_view``; kinds not listed take
    ``default_minutes``, or are skipped if None) is close; a shorter one is general when ``general``.
    Only overlaps touching the window count.
    """
    join = "JOIN" if default_minutes is None else "LEFT JOIN"
    minutes = "m.minutes" if default_minutes is None else f"COALESCE(m.minutes, {int(default_minutes)})"
    is_close = f"x.overlap_end >= x.overlap_start + INTERVAL '1' MINUTE * {minutes}"
    keep = "" if general else f"AND {is_close}"
    return f"""WITH spans AS (
    SELECT e.origin_key, e.case_key, o.contact_key, e.venue_id, e.kind, e.window_start, e.window_end,
           GREATEST(e.time_in, o.time_in) AS overlap_start, LEAST(e.time_out, o.time_out) AS overlap_end
    FROM {pairs} o JOIN {exposed} e ON e.exposed_id = o.exposed_id
    WHERE o.problem IS NULL
  ),
  graded AS (
    SELECT x.origin_key, x.case_key, x.contact_key, x.venue_id, x.overlap_start, x.overlap_end,
           CASE WHEN {is_close} THEN 1 ELSE 0 END AS is_close
    FROM spans x
    {join} {minutes_view} m ON m.kind = x.kind
    WHERE x.overlap_end > x.window_start AND x.overlap_start < x.window_end {keep}
  )
SELECT origin_key, case_key, contact_key, venue_id, is_close,
       MIN(overlap_start) AS exposure_start, MAX(overlap_end) AS exposure_end,
       CAST(SUM(unix_micros(overlap_end) - unix_micros(overlap_start)) AS BIGINT) AS exposure_us
FROM graded
GROUP BY origin_key, case_key, contact_key, venue_id, is_close
ORDER BY origin_key, case_key, contact_key, venue_id, is_close"""


def traced_bad_rows(exposed: str, pairs: str) -> str:
    """The bad or duplicated scan rows among those a pass read: (person_key, venue_id, time_in, time_out,
    problem, copies), each row once; the engine counts them across passes."""
    return f"""SELECT DISTINCT case_key AS person_key, venue_id, time_in, time_out, problem, copies FROM {exposed}
WHERE copies > 0 AND (problem IS NOT NULL OR copies > 1)
UNION
SELECT DISTINCT o.contact_key AS person_key, e.venue_id, o.time_in, o.time_out, o.problem, o.copies
FROM {pairs} o JOIN {exposed} e ON e.exposed_id = o.exposed_id
WHERE o.problem IS NOT NULL OR o.copies > 1
ORDER BY person_key, venue_id, time_in, time_out, problem"""


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
