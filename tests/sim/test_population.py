"""Residents: valid and unique identities, realistic households and ages."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import phonenumbers
import pyarrow.parquet as pq

from bihuan.core.resident_id import make_resident_id, parse_resident_id
from bihuan.sim import DistrictManifest
from bihuan.sim._identity import PhoneBook, resident_ids
from bihuan.sim._population import EPOCH

AGE = "floor(date_diff('day', birth_date, DATE '2021-12-01') / 365.2425)"


def test_every_resident_id_is_valid_unique_and_matches_sex_and_birth_date(district: DistrictManifest) -> None:
    persons = pq.read_table(district.persons).to_pylist()
    ids = [p["resident_id"] for p in persons if p["resident_id"] is not None]
    assert len(ids) == len(set(ids))
    for person in persons:
        if person["resident_id"] is None:
            continue
        parsed = parse_resident_id(person["resident_id"], today=district.start_date)
        assert parsed.region_code == "330604"
        assert parsed.sex == person["sex"]
        assert parsed.birth_date == person["birth_date"]


def test_bulk_resident_ids_agree_with_the_core_builder() -> None:
    births = np.array([date(1950, 1, 1), date(1987, 2, 28), date(2000, 2, 29), date(2021, 11, 30)])
    days = np.array([(b - EPOCH).days for b in births])
    male = np.array([True, False, True, False])
    sequence = np.array([0, 17, 250, 499])
    bulk = resident_ids("330604", days, male, sequence).to_pylist()
    single = [
        make_resident_id("330604", b, int(s), "M" if m else "F") for b, s, m in zip(births, sequence, male, strict=True)
    ]
    assert bulk == single


def test_phones_are_unique_valid_mainland_mobiles(district: DistrictManifest) -> None:
    phones = pq.read_table(district.persons, columns=["phone"]).column("phone").to_pylist()
    assert len(phones) == len(set(phones))
    assert all(len(p) == 11 and p.startswith("1") for p in phones)
    for phone in phones[::50]:
        number = phonenumbers.parse("+86" + phone)
        assert phonenumbers.is_valid_number(number)
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def test_phone_numbers_never_collide_at_ten_million() -> None:
    numbers = PhoneBook(seed=3).numbers(np.arange(0, 10_000_000, 997)).to_pylist()
    assert len(set(numbers)) == len(numbers)


def test_household_sizes_follow_the_2020_census(db: duckdb.DuckDBPyConnection) -> None:
    mean, single, large = db.execute(
        "SELECT avg(size), avg((size = 1)::INT), avg((size >= 5)::INT) FROM households"
    ).fetchone()  # type: ignore[misc]
    assert 2.45 <= mean <= 2.8
    assert 0.21 <= single <= 0.30
    assert 0.06 <= large <= 0.14


def test_household_members_live_at_the_household_address(db: duckdb.DuckDBPyConnection) -> None:
    mismatched = db.execute(
        """SELECT count(*) FROM households h
           JOIN (SELECT household_code, count(*) n, min(address_code) a, max(address_code) b
                 FROM persons GROUP BY household_code) p USING (household_code)
           WHERE p.n <> h.size OR p.a <> h.address_code OR p.b <> h.address_code"""
    ).fetchone()
    assert mismatched == (0,)
    orphans = db.execute(
        """SELECT count(*) FROM persons p LEFT JOIN addresses a USING (address_code)
           WHERE a.address_code IS NULL OR a.building_code <> p.building_code"""
    ).fetchone()
    assert orphans == (0,)


def test_every_household_has_an_adult(db: duckdb.DuckDBPyConnection) -> None:
    without = db.execute(
        f"""SELECT count(*) FROM (SELECT household_code, max({AGE}) oldest FROM persons GROUP BY household_code)
            WHERE oldest < 18"""
    ).fetchone()
    assert without == (0,)


def test_ages_follow_a_realistic_pyramid(db: duckdb.DuckDBPyConnection) -> None:
    children, elderly, median = db.execute(
        f"""WITH a AS (SELECT {AGE} age FROM persons)
           SELECT avg((age < 15)::INT), avg((age >= 65)::INT), median(age) FROM a"""
    ).fetchone()  # type: ignore[misc]
    assert 0.14 <= children <= 0.21  # 2020 census: 17.9 %
    assert 0.10 <= elderly <= 0.17  # 2020 census: 13.5 %
    assert 35 <= median <= 45


def test_foreigners_carry_a_passport_instead_of_a_resident_id(db: duckdb.DuckDBPyConnection) -> None:
    total, foreign, complete = db.execute(
        """SELECT count(*), count(*) FILTER (resident_id IS NULL),
                  count(*) FILTER (resident_id IS NULL AND passport_no IS NOT NULL AND length(nationality) = 3)
           FROM persons"""
    ).fetchone()  # type: ignore[misc]
    assert 0 < foreign == complete
    assert foreign / total < 0.01
    both = db.execute("SELECT count(*) FROM persons WHERE resident_id IS NOT NULL AND passport_no IS NOT NULL")
    assert both.fetchone() == (0,)


def test_names_are_chinese_for_residents(db: duckdb.DuckDBPyConnection) -> None:
    lengths = db.execute("SELECT min(length(name)), max(length(name)) FROM persons WHERE resident_id IS NOT NULL")
    assert lengths.fetchone() in {(2, 3), (2, 4)}
