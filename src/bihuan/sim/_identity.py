"""Identity columns built in bulk: resident ID numbers, names, mobile phones, passports.

Everything is vectorised (NumPy for digits, Arrow compute for strings); the per-row helpers
of ``bihuan.core.resident_id`` are used by the tests to check the results.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bihuan.sim import _names
from bihuan.sim._random import choice_cdf, stream

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK_CHARS = pa.array(list("10X98765432"))
_PASSPORT_LETTERS = "EGKMNPSTABCDHJLR"


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as YYYYMMDD integers."""
    day = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    return np.asarray(year * 10_000 + (month.astype(np.int64) % 12 + 1) * 100 + (day - month).astype(np.int64) + 1)


def resident_ids(region_code: str, birth_days: np.ndarray, sex_male: np.ndarray, sequence: np.ndarray) -> pa.Array:
    """GB 11643 numbers: region, birth date, sequence (odd for men) and the MOD 11-2 check character."""
    order = np.asarray(sequence, dtype=np.int64) * 2 + np.asarray(sex_male, dtype=np.int64)
    first17 = int(region_code) * 10**11 + yyyymmdd(birth_days) * 1000 + order
    total = np.zeros(len(first17), dtype=np.int64)
    for position, weight in enumerate(_ID_WEIGHTS):
        total += (first17 // 10 ** (16 - position)) % 10 * weight
    check = _CHECK_CHARS.take(pa.array(total % 11))
    return pc.binary_join_element_wise(pc.cast(pa.array(first17), pa.string()), check, "")


class PhoneBook:
    """Unique mainland mobile numbers: an affine permutation of person_key over all numbers."""

    def __init__(self, seed: int) -> None:
        rng = stream(seed, "identity.phones")
        self._segments = np.array(_names.MOBILE_SEGMENTS, dtype=np.int64)
        self._modulus = len(self._segments) * 10**8
        multiplier = int(rng.integers(self._modulus // 3, self._modulus))
        while math.gcd(multiplier, self._modulus) != 1:
            multiplier += 1
        self._multiplier = multiplier
        self._offset = int(rng.integers(0, self._modulus))

    def numbers(self, person_key: np.ndarray) -> pa.Array:
        """The 11-digit number of each person (distinct keys give distinct numbers)."""
        index = (np.asarray(person_key, dtype=np.int64) * self._multiplier + self._offset) % self._modulus
        number = self._segments[index // 10**8] * 10**8 + index % 10**8
        return pc.cast(pa.array(number), pa.string())


def chinese_names(rng: np.random.Generator, sex_male: np.ndarray) -> pa.Array:
    """Surname plus one or two given-name characters chosen by sex."""
    n = len(sex_male)
    surnames = pa.array([s for s, _ in _names.SURNAMES])
    weights = np.array([w for _, w in _names.SURNAMES])
    surname = surnames.take(pa.array(choice_cdf(rng, weights, n)))
    male, female, common = _names.GIVEN_MALE, _names.GIVEN_FEMALE, _names.GIVEN_COMMON
    pool = pa.array([*male, *female, *common, ""])
    empty = len(pool) - 1
    own_start = np.where(sex_male, 0, len(male))
    own_size = np.where(sex_male, len(male), len(female))
    last = own_start + (rng.random(n) * own_size).astype(np.int64)
    first_from_common = rng.random(n) < 0.4
    first = np.where(
        first_from_common,
        len(male) + len(female) + (rng.random(n) * len(common)).astype(np.int64),
        own_start + (rng.random(n) * own_size).astype(np.int64),
    )
    first[rng.random(n) < 0.18] = empty  # one-character given names
    return pc.binary_join_element_wise(surname, pool.take(pa.array(first)), pool.take(pa.array(last)), "")


def foreign_identities(
    rng: np.random.Generator, person_key: np.ndarray, sex_male: np.ndarray
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Names (FAMILY GIVEN), passport numbers and ISO alpha-3 nationalities of foreign residents."""
    n = len(person_key)
    nationality = choice_cdf(rng, np.array([f[1] for f in _names.FOREIGN]), n)
    family = _pick(rng, [f[2] for f in _names.FOREIGN], nationality)
    given_male = _pick(rng, [f[3] for f in _names.FOREIGN], nationality)
    given_female = _pick(rng, [f[4] for f in _names.FOREIGN], nationality)
    given = pc.if_else(pa.array(np.asarray(sex_male, dtype=bool)), given_male, given_female)
    name = pc.binary_join_element_wise(family, given, " ")
    digits = (np.asarray(person_key, dtype=np.int64) * 7_654_321 + 1_234_567) % 10**8  # unique below 1e8
    letters = pa.array(list(_PASSPORT_LETTERS)).take(pa.array(nationality % len(_PASSPORT_LETTERS)))
    passport = pc.binary_join_element_wise(letters, pc.utf8_lpad(pc.cast(pa.array(digits), pa.string()), 8, "0"), "")
    codes = pa.array([f[0] for f in _names.FOREIGN]).take(pa.array(nationality))
    return name, passport, codes


def _pick(rng: np.random.Generator, pools: list[tuple[str, ...]], group: np.ndarray) -> pa.Array:
    """One word from each row's pool (pools indexed by ``group``)."""
    words = pa.array([word for pool in pools for word in pool])
    count = np.array([len(pool) for pool in pools])
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    index = first[group] + (rng.random(len(group)) * count[group]).astype(np.int64)
    return words.take(pa.array(index))
