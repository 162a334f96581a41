"""Register tables built chunk by chunk: addresses, households and persons."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bihuan.sim import _names
from bihuan.sim._geography import Areas, Buildings
from bihuan.sim._identity import PhoneBook, chinese_names, foreign_identities, resident_ids
from bihuan.sim._population import ROLE_NAMES, Population
from bihuan.sim._random import stream
from bihuan.sim._venues import Routines

ADDRESS_PREFIX = _names.PROVINCE[1] + _names.CITY[1] + _names.COUNTY[1]

ADDRESS_SCHEMA = pa.schema(
    [
        ("address_code", pa.string()),
        ("building_code", pa.string()),
        ("text", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("unit", pa.int16()),
        ("room", pa.int16()),
    ]
)
HOUSEHOLD_SCHEMA = pa.schema([("household_code", pa.string()), ("address_code", pa.string()), ("size", pa.int16())])
PERSON_SCHEMA = pa.schema(
    [
        ("person_key", pa.int64()),
        ("resident_id", pa.string()),
        ("name", pa.string()),
        ("sex", pa.string()),
        ("birth_date", pa.date32()),
        ("phone", pa.string()),
        ("household_code", pa.string()),
        ("address_code", pa.string()),
        ("building_code", pa.string()),
        ("passport_no", pa.string()),
        ("nationality", pa.string()),
        ("community_code", pa.string()),
        ("role", pa.string()),
        ("work_venue_id", pa.int32()),
    ]
)


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def household_codes(household: np.ndarray) -> pa.Array:
    """H + 10 digits: the household's number in the district (1-based)."""
    return pc.binary_join_element_wise("H", pc.utf8_lpad(_text(household + 1), 10, "0"), "")


def address_codes(population: Population, buildings: Buildings, household: np.ndarray) -> np.ndarray:
    """19-digit dwelling codes: building code + 4-digit dwelling number (int64)."""
    building = population.household_building[household]
    return np.asarray(buildings.code[building] * 10_000 + population.household_dwelling[household] + 1)


def address_chunk(population: Population, buildings: Buildings, areas: Areas, lo: int, hi: int) -> pa.Table:
    """One address per dwelling (building + unit + room), for households lo..hi-1."""
    household = np.arange(lo, hi)
    building = population.household_building[household]
    dwelling = population.household_dwelling[household].astype(np.int64)
    units = buildings.units[building].astype(np.int64)
    unit = dwelling % units + 1
    step = dwelling // units
    room = (step // 2 + 1) * 100 + step % 2 + 1
    community = buildings.community[building]
    street = pa.array(areas.street_name).take(pa.array(areas.community_street[community]))
    text = pc.binary_join_element_wise(
        ADDRESS_PREFIX,
        street,
        pa.array(areas.community_name).take(pa.array(community)),
        _text(buildings.number[building]),
        "幢",
        _text(unit),
        "单元",
        _text(room),
        "室",
        "",
    )
    return pa.table(
        {
            "address_code": _text(address_codes(population, buildings, household)),
            "building_code": _text(buildings.code[building]),
            "text": text,
            "lat": pa.array(buildings.lat[building]),
            "lon": pa.array(buildings.lon[building]),
            "unit": pa.array(unit.astype(np.int16)),
            "room": pa.array(room.astype(np.int16)),
        },
        schema=ADDRESS_SCHEMA,
    )


def household_chunk(population: Population, buildings: Buildings, lo: int, hi: int) -> pa.Table:
    """Households lo..hi-1: code, dwelling and size."""
    household = np.arange(lo, hi)
    return pa.table(
        {
            "household_code": household_codes(household),
            "address_code": _text(address_codes(population, buildings, household)),
            "size": pa.array(population.household_size[lo:hi].astype(np.int16)),
        },
        schema=HOUSEHOLD_SCHEMA,
    )


def person_chunk(
    population: Population,
    buildings: Buildings,
    areas: Areas,
    routines: Routines,
    phones: PhoneBook,
    lo: int,
    hi: int,
    seed: int,
    chunk: int,
) -> pa.Table:
    """Persons lo..hi-1 with identity, contact and residence columns."""
    rng = stream(seed, f"persons.chunk{chunk}")
    key = np.arange(lo, hi, dtype=np.int64)
    foreign = population.foreign[lo:hi]
    sex_male = population.sex_male[lo:hi]
    birth = population.birth_days[lo:hi]
    household = population.person_household[lo:hi]
    building = population.household_building[household]
    mask = pa.array(foreign)
    resident_id = resident_ids(_names.COUNTY[0], birth, sex_male, population.id_sequence[lo:hi])
    name = chinese_names(rng, sex_male)
    foreign_name, passport, nationality = foreign_identities(rng, key[foreign], sex_male[foreign])
    no_text = pa.nulls(hi - lo, pa.string())
    work = routines.work_venue[lo:hi]
    return pa.table(
        {
            "person_key": pa.array(key),
            "resident_id": pc.if_else(mask, pa.scalar(None, pa.string()), resident_id),
            "name": pc.replace_with_mask(name, mask, foreign_name),
            "sex": pc.if_else(pa.array(sex_male), "M", "F"),
            "birth_date": pa.array(birth).cast(pa.date32()),
            "phone": phones.numbers(key),
            "household_code": household_codes(household),
            "address_code": _text(address_codes(population, buildings, household)),
            "building_code": _text(buildings.code[building]),
            "passport_no": pc.replace_with_mask(no_text, mask, passport),
            "nationality": pc.replace_with_mask(no_text, mask, nationality),
            "community_code": _text(areas.community_code[buildings.community[building]]),
            "role": pa.array(list(ROLE_NAMES)).take(pa.array(population.role[lo:hi])),
            "work_venue_id": pa.array(work, mask=work < 0),
        },
        schema=PERSON_SCHEMA,
    )
