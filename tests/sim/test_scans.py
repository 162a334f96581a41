"""Venue scans: well-formed, within their day, never overlapping for one person, realistic in volume."""

from __future__ import annotations

import duckdb

from bihuan.sim import DistrictManifest


def test_every_scan_ends_after_it_starts_within_its_day(db: duckdb.DuckDBPyConnection) -> None:
    bad = db.execute(
        """SELECT count(*) FROM scans WHERE time_out <= time_in
           OR time_in < day::TIMESTAMP OR time_out >= day::TIMESTAMP + INTERVAL 1 DAY"""
    ).fetchone()
    assert bad == (0,)


def test_one_partition_per_day(db: duckdb.DuckDBPyConnection, district: DistrictManifest) -> None:
    assert db.execute("SELECT count(DISTINCT day), min(day) FROM scans").fetchone() == (
        district.days,
        district.start_date,
    )


def test_a_persons_scans_never_overlap(db: duckdb.DuckDBPyConnection) -> None:
    overlaps = db.execute(
        """SELECT count(*) FROM (SELECT time_in, lag(time_out) OVER (PARTITION BY person_key ORDER BY time_in) prev
           FROM scans) WHERE time_in < prev"""
    ).fetchone()
    assert overlaps == (0,)


def test_about_three_scans_per_person_per_day(db: duckdb.DuckDBPyConnection, district: DistrictManifest) -> None:
    per_day = district.counts["scans"] / (district.people * district.days)
    assert 2.4 <= per_day <= 3.4
    assert db.execute("SELECT count(*) FROM scans s ANTI JOIN venues v USING (venue_id)").fetchone() == (0,)
    assert db.execute("SELECT max(person_key) < ? FROM scans", [district.people]).fetchone() == (True,)


def test_dwell_times_fit_the_venue_kind(db: duckdb.DuckDBPyConnection) -> None:
    dwell = dict(
        db.execute(
            """SELECT v.kind, median(epoch(s.time_out - s.time_in)) / 60 FROM scans s
               JOIN venues v USING (venue_id) JOIN persons p USING (person_key)
               WHERE p.work_venue_id IS DISTINCT FROM s.venue_id GROUP BY v.kind"""
        ).fetchall()
    )
    assert 30 <= dwell["restaurant"] <= 90
    assert 10 <= dwell["supermarket"] <= 40
    workplace = db.execute(
        """SELECT median(epoch(s.time_out - s.time_in)) / 3600 FROM scans s JOIN persons p USING (person_key)
           JOIN venues v USING (venue_id)
           WHERE p.work_venue_id = s.venue_id AND v.kind IN ('office', 'factory', 'school')"""
    ).fetchone()
    assert workplace is not None and workplace[0] >= 4


def test_pings_stay_in_their_day_and_in_the_district(db: duckdb.DuckDBPyConnection, district: DistrictManifest) -> None:
    assert district.pings is not None
    bad = db.execute(
        """SELECT count(*) FROM pings WHERE ts < day::TIMESTAMP OR ts >= day::TIMESTAMP + INTERVAL 1 DAY
           OR lat NOT BETWEEN 29.5 AND 30.5 OR lon NOT BETWEEN 120.4 AND 121.4"""
    ).fetchone()
    assert bad == (0,)
    per_hour = district.counts["pings"] / (district.people * district.days * 16)
    assert 1 <= per_hour <= 4
