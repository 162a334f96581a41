"""The district's jurisdictions: streets (街道/镇), communities (社区/村) and buildings (幢).

Codes follow the administrative scheme: province "33", city "3306", county "330604", street
9 digits, community 12 digits, building = community code + 3 digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bihuan.sim import _names
from bihuan.sim._random import stream

PEOPLE_PER_COMMUNITY = 3_000
COMMUNITIES_PER_STREET = 4
MAX_CODE_SUFFIX = 999
JURISDICTION_SCHEMA = pa.schema(
    [
        ("code", pa.string()),
        ("name", pa.string()),
        ("name_en", pa.string()),
        ("level", pa.string()),
        ("parent_code", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
    ]
)


@dataclass(frozen=True, slots=True)
class Areas:
    """Streets and communities, one NumPy array per attribute; communities are grouped by street."""

    street_code: np.ndarray  # int64, 9 digits
    street_name: list[str]
    street_name_en: list[str]
    street_is_town: np.ndarray  # bool: 镇/乡 (villages, low-rise) rather than 街道
    street_lat: np.ndarray
    street_lon: np.ndarray
    street_first_community: np.ndarray  # int64 offsets, length streets + 1
    community_code: np.ndarray  # int64, 12 digits
    community_street: np.ndarray  # int32
    community_name: list[str]
    community_name_en: list[str]
    community_lat: np.ndarray
    community_lon: np.ndarray

    @property
    def streets(self) -> int:
        return len(self.street_code)

    @property
    def communities(self) -> int:
        return len(self.community_code)


@dataclass(frozen=True, slots=True)
class Buildings:
    """Residential buildings; each belongs to one community and holds dwellings in units (单元)."""

    code: np.ndarray  # int64, 15 digits
    community: np.ndarray  # int32
    number: np.ndarray  # int32, 1-based within the community
    units: np.ndarray  # int8, entrances (单元)
    lat: np.ndarray
    lon: np.ndarray

    def __len__(self) -> int:
        return len(self.code)


def build_areas(people: int, seed: int) -> Areas:
    """Streets and communities sized for ``people`` residents (about 3,000 per community)."""
    rng = stream(seed, "geography.areas")
    per_community = max(PEOPLE_PER_COMMUNITY, math.ceil(people / (len(_names.STREETS) * 900)))
    n_comm = max(1, round(people / per_community))
    n_streets = min(len(_names.STREETS), max(1, math.ceil(n_comm / COMMUNITIES_PER_STREET)))
    county_lat, county_lon = _names.COUNTY[3], _names.COUNTY[4]
    angle = rng.uniform(0, 2 * np.pi, n_streets)
    radius = rng.uniform(0.04, 0.16, n_streets)
    radius[0] = 0.0  # 百官街道 is the district seat
    street_lat = county_lat + radius * np.sin(angle) * 0.8
    street_lon = county_lon + radius * np.cos(angle)
    community_street = (np.arange(n_comm, dtype=np.int64) * n_streets // n_comm).astype(np.int32)
    first = np.searchsorted(community_street, np.arange(n_streets + 1), side="left").astype(np.int64)
    rank = np.arange(n_comm) - first[community_street]
    street_code = np.array([int(_names.COUNTY[0] + s[0]) for s in _names.STREETS[:n_streets]], np.int64)
    is_town = np.array([not s[1].endswith("街道") for s in _names.STREETS[:n_streets]])
    names, names_en = _community_names(rng, community_street, is_town)
    return Areas(
        street_code=street_code,
        street_name=[s[1] for s in _names.STREETS[:n_streets]],
        street_name_en=[s[2] for s in _names.STREETS[:n_streets]],
        street_is_town=is_town,
        street_lat=street_lat,
        street_lon=street_lon,
        street_first_community=first,
        community_code=street_code[community_street] * 1000 + rank + 1,
        community_street=community_street,
        community_name=names,
        community_name_en=names_en,
        community_lat=street_lat[community_street] + rng.normal(0, 0.010, n_comm),
        community_lon=street_lon[community_street] + rng.normal(0, 0.012, n_comm),
    )


def _community_names(
    rng: np.random.Generator, community_street: np.ndarray, is_town: np.ndarray
) -> tuple[list[str], list[str]]:
    """Two-syllable names, unique within each street; 村 in towns, 社区 in streets."""
    n_second = len(_names.PLACE_SECOND)
    combos = len(_names.PLACE_FIRST) * n_second
    names: list[str] = []
    names_en: list[str] = []
    for street in range(len(is_town)):  # loops over streets (at most 20), not people
        count = int(np.count_nonzero(community_street == street))
        picks = rng.permutation(combos)[:count]
        suffix, suffix_en = ("村", "Village") if is_town[street] else ("社区", "Community")
        for pick in picks:
            first, second = _names.PLACE_FIRST[pick // n_second], _names.PLACE_SECOND[pick % n_second]
            names.append(first[0] + second[0] + suffix)
            names_en.append(f"{first[1]}{second[1]} {suffix_en}")
    return names, names_en


def build_buildings(
    areas: Areas, household_community: np.ndarray, seed: int
) -> tuple[Buildings, np.ndarray, np.ndarray]:
    """Place households (sorted by community) into buildings.

    Returns the buildings, each household's building index and its dwelling index (0-based)
    within that building.
    """
    rng = stream(seed, "geography.buildings")
    n_comm = areas.communities
    per_comm = np.bincount(household_community, minlength=n_comm)
    town = areas.street_is_town[areas.community_street]
    mean_dwellings = np.where(town, 8.0, 30.0)
    count = np.clip(np.rint(per_comm / mean_dwellings), 1, MAX_CODE_SUFFIX).astype(np.int64)
    b_comm = np.repeat(np.arange(n_comm, dtype=np.int32), count)
    b_first = np.concatenate([[0], np.cumsum(count)[:-1]])
    number = np.arange(len(b_comm)) - b_first[b_comm] + 1
    # Uneven building sizes: each building takes a random share of its community's households.
    weight = rng.uniform(0.5, 1.5, len(b_comm))
    cum = np.cumsum(weight)
    before = np.where(b_first > 0, cum[b_first - 1], 0.0)
    total = cum[b_first + count - 1] - before
    frac_end = (cum - before[b_comm]) / total[b_comm]
    frac_end[b_first + count - 1] = 1.0
    h_first = np.concatenate([[0], np.cumsum(per_comm)[:-1]])
    h_rank = np.arange(len(household_community)) - h_first[household_community]
    h_frac = (h_rank + 0.5) / per_comm[household_community]
    building = np.searchsorted(b_comm + frac_end, household_community + h_frac, side="left")
    building = building.astype(np.int32)
    first_household = np.searchsorted(building, np.arange(len(b_comm)), side="left")
    dwelling = (np.arange(len(building)) - first_household[building]).astype(np.int32)
    units = np.where(town[b_comm], 1, rng.integers(1, 5, len(b_comm))).astype(np.int8)
    buildings = Buildings(
        code=areas.community_code[b_comm] * 1000 + number,
        community=b_comm,
        number=number.astype(np.int32),
        units=units,
        lat=areas.community_lat[b_comm] + rng.normal(0, 0.0025, len(b_comm)),
        lon=areas.community_lon[b_comm] + rng.normal(0, 0.003, len(b_comm)),
    )
    return buildings, building, dwelling


def jurisdiction_table(areas: Areas, buildings: Buildings) -> pa.Table:
    """Every jurisdiction from the province down to the building, with its parent and centroid."""
    heads = [_names.PROVINCE, _names.CITY, _names.COUNTY]
    top = pa.table(
        {
            "code": [h[0] for h in heads],
            "name": [h[1] for h in heads],
            "name_en": [h[2] for h in heads],
            "level": ["province", "city", "county"],
            "parent_code": [None, heads[0][0], heads[1][0]],
            "lat": [h[3] for h in heads],
            "lon": [h[4] for h in heads],
        },
        schema=JURISDICTION_SCHEMA,
    )
    streets = pa.table(
        {
            "code": _codes(areas.street_code),
            "name": areas.street_name,
            "name_en": areas.street_name_en,
            "level": ["street"] * areas.streets,
            "parent_code": [_names.COUNTY[0]] * areas.streets,
            "lat": areas.street_lat,
            "lon": areas.street_lon,
        },
        schema=JURISDICTION_SCHEMA,
    )
    communities = pa.table(
        {
            "code": _codes(areas.community_code),
            "name": areas.community_name,
            "name_en": areas.community_name_en,
            "level": ["community"] * areas.communities,
            "parent_code": _codes(areas.street_code[areas.community_street]),
            "lat": areas.community_lat,
            "lon": areas.community_lon,
        },
        schema=JURISDICTION_SCHEMA,
    )
    number = _codes(buildings.number)
    building_table = pa.table(
        {
            "code": _codes(buildings.code),
            "name": pc.binary_join_element_wise(number, "幢", ""),
            "name_en": pc.binary_join_element_wise("Building ", number, ""),
            "level": pa.array(["building"] * len(buildings)),
            "parent_code": _codes(areas.community_code[buildings.community]),
            "lat": buildings.lat,
            "lon": buildings.lon,
        },
        schema=JURISDICTION_SCHEMA,
    )
    return pa.concat_tables([top, streets, communities, building_table])


def _codes(values: np.ndarray) -> pa.Array:
    """Decimal strings of integer codes (none of them starts with a zero)."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
