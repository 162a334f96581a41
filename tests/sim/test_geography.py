"""Jurisdictions: administrative codes nest from province to building; venues sit in communities."""

from __future__ import annotations

import duckdb

CODE_LENGTH = {"province": 2, "city": 4, "county": 6, "street": 9, "community": 12, "building": 15}


def test_codes_have_the_length_of_their_level(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("SELECT level, min(length(code)), max(length(code)), count(*) FROM jurisdictions GROUP BY level")
    seen = {level: (low, high, count) for level, low, high, count in rows.fetchall()}
    assert set(seen) == set(CODE_LENGTH)
    for level, (low, high, _) in seen.items():
        assert low == high == CODE_LENGTH[level]
    assert seen["province"][2] == seen["city"][2] == seen["county"][2] == 1


def test_every_code_starts_with_its_parent_code(db: duckdb.DuckDBPyConnection) -> None:
    orphans = db.execute(
        """SELECT count(*) FROM jurisdictions c LEFT JOIN jurisdictions p ON p.code = c.parent_code
           WHERE c.level <> 'province' AND (p.code IS NULL OR NOT starts_with(c.code, p.code))"""
    ).fetchone()
    assert orphans == (0,)
    assert db.execute("SELECT code FROM jurisdictions WHERE parent_code IS NULL").fetchall() == [("33",)]
    assert db.execute("SELECT count(DISTINCT code) = count(*) FROM jurisdictions").fetchone() == (True,)


def test_names_read_like_chinese_places(db: duckdb.DuckDBPyConnection) -> None:
    assert db.execute("SELECT name FROM jurisdictions WHERE level = 'county'").fetchone() == ("上虞区",)
    odd = db.execute(
        """SELECT count(*) FROM jurisdictions WHERE
             (level = 'street' AND NOT regexp_matches(name, '(街道|镇|乡)$'))
          OR (level = 'community' AND NOT regexp_matches(name, '(社区|村)$'))
          OR (level = 'building' AND NOT regexp_matches(name, '^[0-9]+幢$'))"""
    ).fetchone()
    assert odd == (0,)


def test_addresses_and_venues_point_into_the_tree(db: duckdb.DuckDBPyConnection) -> None:
    assert db.execute(
        """SELECT count(*) FROM addresses a
           LEFT JOIN jurisdictions j ON j.code = a.building_code AND j.level = 'building'
           WHERE j.code IS NULL OR NOT starts_with(a.address_code, a.building_code)
              OR NOT starts_with(a.text, '浙江省绍兴市上虞区')"""
    ).fetchone() == (0,)
    assert db.execute(
        """SELECT count(*) FROM venues v
           LEFT JOIN jurisdictions j ON j.code = v.community_code AND j.level = 'community'
           WHERE j.code IS NULL"""
    ).fetchone() == (0,)


def test_every_venue_kind_exists_and_codes_are_unique(db: duckdb.DuckDBPyConnection) -> None:
    kinds = {k for (k,) in db.execute("SELECT DISTINCT kind FROM venues").fetchall()}
    assert kinds == {
        "restaurant", "supermarket", "market", "office", "factory", "school", "hospital",
        "gym", "cinema", "hotel", "transport_hub", "bus", "other",
    }  # fmt: skip
    assert db.execute("SELECT count(DISTINCT venue_code) = count(*), min(venue_id) = 0 FROM venues").fetchone() == (
        True,
        True,
    )
