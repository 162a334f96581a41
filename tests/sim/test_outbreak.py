"""The outbreak's truth agrees with the scans and with itself, so tracing can be validated against it."""

from __future__ import annotations

import duckdb

from bihuan.sim import DistrictManifest


def test_the_small_outbreak_has_every_setting(district: DistrictManifest) -> None:
    assert district.cases_by_setting["index"] == 15
    assert district.cases_by_setting["venue"] > 10
    assert district.cases_by_setting["household"] > 0


def test_every_venue_transmission_has_overlapping_scans_at_that_venue(
    db: duckdb.DuckDBPyConnection, district: DistrictManifest
) -> None:
    minimum = district.details["min_venue_overlap_minutes"]
    unexplained = db.execute(
        f"""SELECT count(*) FROM infections i WHERE setting = 'venue' AND NOT EXISTS (
              SELECT 1 FROM scans a JOIN scans b ON a.venue_id = b.venue_id
              WHERE a.person_key = i.infector_key AND b.person_key = i.infectee_key AND a.venue_id = i.venue_id
                AND i.infected_at BETWEEN greatest(a.time_in, b.time_in) AND least(a.time_out, b.time_out)
                AND least(a.time_out, b.time_out) - greatest(a.time_in, b.time_in) >= INTERVAL {minimum} MINUTE)"""
    ).fetchone()
    assert unexplained == (0,)
    mislabelled = db.execute("SELECT count(*) FROM infections WHERE (setting = 'venue') <> (venue_id IS NOT NULL)")
    assert mislabelled.fetchone() == (0,)


def test_infections_come_after_the_infectors_own_infection(db: duckdb.DuckDBPyConnection) -> None:
    bad = db.execute(
        """SELECT count(*) FROM infections i LEFT JOIN infections src ON src.infectee_key = i.infector_key
           WHERE i.setting <> 'index' AND (src.infectee_key IS NULL OR i.infected_at <= src.infected_at
                 OR i.lineage <> src.lineage OR i.generation <> src.generation + 1)"""
    ).fetchone()
    assert bad == (0,)
    assert db.execute("SELECT count(DISTINCT infectee_key) = count(*) FROM infections").fetchone() == (True,)


def test_index_cases_are_seeded_on_days_one_and_two(db: duckdb.DuckDBPyConnection) -> None:
    days = db.execute(
        """SELECT DISTINCT infected_at::DATE FROM infections WHERE setting = 'index'
           OR infector_key IS NULL ORDER BY 1"""
    ).fetchall()
    assert [str(d) for (d,) in days] == ["2021-12-01", "2021-12-02"]


def test_household_transmission_stays_in_the_household(db: duckdb.DuckDBPyConnection) -> None:
    bad = db.execute(
        """SELECT count(*) FROM infections i JOIN persons a ON a.person_key = i.infector_key
           JOIN persons b ON b.person_key = i.infectee_key
           WHERE i.setting = 'household' AND a.household_code <> b.household_code"""
    ).fetchone()
    assert bad == (0,)


def test_onset_and_sampling_dates_follow_the_infection(db: duckdb.DuckDBPyConnection) -> None:
    bad = db.execute(
        """SELECT count(*) FROM infections WHERE (onset_date IS NULL) <> asymptomatic
           OR onset_date < infected_at::DATE + 2 OR first_positive_sampling_date <= infected_at::DATE
           OR NOT starts_with(lineage, 'Delta')"""
    ).fetchone()
    assert bad == (0,)
