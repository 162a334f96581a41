"""Households and residents: sizes, ages, sexes, roles (China 2020 census shapes).

State is one NumPy array per attribute, indexed by person_key (0..N-1); the members of a
household have consecutive keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from bihuan.sim._geography import Areas, Buildings, build_buildings
from bihuan.sim._random import choice_cdf, stream

EPOCH = date(1970, 1, 1)
DAYS_PER_YEAR = 365.2425
MAX_SEQUENCE = 500  # resident-ID sequence numbers per sex, birth date and region code

# Household sizes 1..8 (2020 census: mean 2.62, one-person households 25.4 %).
HOUSEHOLD_SIZE_WEIGHTS = np.array([25.4, 29.7, 21.0, 13.2, 6.2, 3.0, 1.0, 0.5])

# Age pyramid (2020 census, % per 5-year group, 0-4 ... 90-99).
AGE_GROUP_WEIGHTS = np.array(
    [5.4, 6.3, 5.9, 5.2, 5.3, 6.5, 8.8, 7.0, 6.6, 8.2, 8.6, 7.2, 5.2, 5.0, 3.4, 2.2, 1.5, 0.8, 0.3]
)
ADULT_AGE = 18
FOREIGN_SHARE = 0.003  # of all residents

ROLE_INFANT, ROLE_HOME, ROLE_WORKER, ROLE_STUDENT = 0, 1, 2, 3
ROLE_NAMES = ("infant", "home", "worker", "student")


@dataclass(frozen=True, slots=True)
class Population:
    """The residents and their households."""

    household_start: np.ndarray  # int64, first person_key of each household; length H + 1
    household_building: np.ndarray  # int32
    household_dwelling: np.ndarray  # int32, 0-based within the building
    person_household: np.ndarray  # int32
    sex_male: np.ndarray  # bool
    birth_days: np.ndarray  # int32, days since 1970-01-01
    age: np.ndarray  # int16, whole years on the start date
    foreign: np.ndarray  # bool: no resident ID, a passport instead
    id_sequence: np.ndarray  # int16, 0..499, unique per (sex, birth date)
    role: np.ndarray  # int8, ROLE_*

    @property
    def size(self) -> int:
        return len(self.person_household)

    @property
    def households(self) -> int:
        return len(self.household_building)

    @property
    def household_size(self) -> np.ndarray:
        return np.diff(self.household_start)

    def person_building(self) -> np.ndarray:
        """Each person's building index (their minimum unit)."""
        return np.asarray(self.household_building[self.person_household])


def build_population(people: int, areas: Areas, start_date: date, seed: int) -> tuple[Population, Buildings]:
    """Draw households, place them in buildings, and draw each resident's attributes."""
    sizes = _household_sizes(people, seed)
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    household_community = (start[:-1] * areas.communities // people).astype(np.int32)
    buildings, household_building, dwelling = build_buildings(areas, household_community, seed)
    person_household = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    age = _ages(people, start[:-1], seed)
    rng = stream(seed, "population.persons")
    sex_male = rng.random(people) < np.where(age >= 80, 0.42, 0.513)
    start_days = (start_date - EPOCH).days
    age_days = np.floor((age + rng.random(people)) * DAYS_PER_YEAR).astype(np.int32)
    birth_days = (start_days - 1 - age_days).astype(np.int32)
    working_age = (age >= 20) & (age < 70)  # foreign residents: students, workers, spouses
    foreign = working_age & (rng.random(people) < FOREIGN_SHARE * people / max(1, int(working_age.sum())))
    birth_days, sequence = _unique_sequences(birth_days, sex_male, foreign)
    population = Population(
        household_start=start,
        household_building=household_building,
        household_dwelling=dwelling,
        person_household=person_household,
        sex_male=sex_male,
        birth_days=birth_days,
        age=age.astype(np.int16),
        foreign=foreign,
        id_sequence=sequence,
        role=_roles(age, sex_male, foreign, seed),
    )
    return population, buildings


def _household_sizes(people: int, seed: int) -> np.ndarray:
    """Household sizes summing to exactly ``people``."""
    rng = stream(seed, "population.households")
    mean = float(np.average(np.arange(1, 9), weights=HOUSEHOLD_SIZE_WEIGHTS))
    batch = int(people / mean * 1.05) + 16
    sizes = np.empty(0, dtype=np.int64)
    while sizes.sum() < people:
        sizes = np.concatenate([sizes, choice_cdf(rng, HOUSEHOLD_SIZE_WEIGHTS, batch) + 1])
    cut = int(np.searchsorted(np.cumsum(sizes), people, side="left"))
    sizes = sizes[: cut + 1]
    sizes[-1] -= int(sizes.sum()) - people
    return sizes


def _ages(people: int, heads: np.ndarray, seed: int) -> np.ndarray:
    """Ages from the pyramid, shuffled so that every household is headed by an adult."""
    rng = stream(seed, "population.ages")
    group = choice_cdf(rng, AGE_GROUP_WEIGHTS, people)
    drawn = group * 5 + rng.integers(0, 5, people)
    oldest = group == len(AGE_GROUP_WEIGHTS) - 1
    drawn[oldest] = 90 + rng.integers(0, 10, int(oldest.sum()))
    adults = rng.permutation(drawn[drawn >= ADULT_AGE])
    rest_slots = np.ones(people, dtype=bool)
    rest_slots[heads] = False
    age = np.empty(people, dtype=np.int64)
    n_heads = min(len(heads), len(adults))
    age[heads[:n_heads]] = adults[:n_heads]
    others = np.concatenate([adults[n_heads:], drawn[drawn < ADULT_AGE]])
    if n_heads < len(heads):  # more households than adults: only in toy populations
        rest_slots[heads[n_heads:]] = True
    age[rest_slots] = rng.permutation(others)
    return age


def _unique_sequences(
    birth_days: np.ndarray, sex_male: np.ndarray, foreign: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sequence numbers unique per (sex, birth date); birth dates move a day when 500 are taken."""
    birth_days = birth_days.copy()
    sequence = np.zeros(len(birth_days), dtype=np.int16)
    residents = np.flatnonzero(~foreign)
    while True:
        key = birth_days[residents].astype(np.int64) * 2 + sex_male[residents]
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        group_first = np.searchsorted(sorted_key, sorted_key, side="left")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order)) - group_first
        full = rank >= MAX_SEQUENCE
        if not full.any():
            sequence[residents] = rank
            return birth_days, sequence
        birth_days[residents[full]] -= 1  # one day older; repeat until every date has room


def _roles(age: np.ndarray, sex_male: np.ndarray, foreign: np.ndarray, seed: int) -> np.ndarray:
    """Infant, at home (retired, unemployed, carers), worker or student, by age and sex."""
    rng = stream(seed, "population.roles")
    u = rng.random(len(age))
    role = np.full(len(age), ROLE_HOME, dtype=np.int8)
    role[age < 3] = ROLE_INFANT
    role[(age >= 3) & (age < 18) & (u < 0.98)] = ROLE_STUDENT
    young = (age >= 18) & (age < 23)
    role[young & (u < 0.40)] = ROLE_STUDENT
    role[young & (u >= 0.40) & (u < 0.85)] = ROLE_WORKER
    employment = np.where(sex_male, 0.86, 0.74)
    role[(age >= 23) & (age < 60) & (u < employment)] = ROLE_WORKER
    role[(age >= 60) & (age < 70) & (u < 0.2)] = ROLE_WORKER
    role[foreign & (age >= 23) & (age < 60) & (u < 0.9)] = ROLE_WORKER
    return role
