"""Venues with a venue code (场所码) and the fixed routines that tie people to them.

Venues are sorted by (kind, community), so the venues of one kind in one community (or one
street, whose communities are contiguous) form a slice: choosing a venue "near" someone is an
offset plus a uniform draw, vectorised over people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bihuan.sim._geography import Areas
from bihuan.sim._population import ROLE_STUDENT, ROLE_WORKER, Population
from bihuan.sim._random import choice_cdf, stream

KINDS = (
    "restaurant", "supermarket", "market", "office", "factory", "school", "hospital",
    "gym", "cinema", "hotel", "transport_hub", "bus", "other",
)  # fmt: skip
K = {kind: index for index, kind in enumerate(KINDS)}

COMMUNITY, STREET, DISTRICT = 0, 1, 2
# kind: (residents per venue, catchment, capacity low, capacity high, Chinese label, English label)
_SPEC: dict[str, tuple[int, int, int, int, str, str]] = {
    "restaurant": (150, COMMUNITY, 20, 200, "饭店", "Restaurant"),
    "supermarket": (1_500, COMMUNITY, 50, 400, "超市", "Supermarket"),
    "market": (8_000, STREET, 200, 1_500, "农贸市场", "Market"),
    "office": (100, STREET, 10, 300, "写字楼", "Office"),
    "factory": (700, STREET, 50, 1_500, "工厂", "Factory"),
    "school": (2_500, STREET, 300, 2_500, "学校", "School"),
    "hospital": (30_000, DISTRICT, 300, 3_000, "医院", "Hospital"),
    "gym": (4_000, STREET, 30, 300, "健身房", "Gym"),
    "cinema": (20_000, DISTRICT, 100, 800, "影城", "Cinema"),
    "hotel": (6_000, DISTRICT, 40, 500, "酒店", "Hotel"),
    "transport_hub": (100_000, DISTRICT, 500, 5_000, "客运站", "Transport hub"),
    "bus": (3_000, STREET, 40, 90, "路公交车", "Bus line"),
    "other": (400, COMMUNITY, 10, 100, "便利店", "Shop"),
}
CATCHMENT = np.array([_SPEC[k][1] for k in KINDS], dtype=np.int8)

# Where workers work (kind shares); students go to a school in their street.
WORK_KIND_WEIGHTS = np.array([0.05, 0.03, 0.02, 0.42, 0.36, 0.03, 0.02, 0.005, 0.003, 0.012, 0.005, 0.008, 0.04])
WORK_NEAR_HOME = 0.6  # share of workers employed in their own street
BUS_COMMUTERS = {ROLE_WORKER: 0.22, ROLE_STUDENT: 0.15}


@dataclass(frozen=True, slots=True)
class Venues:
    """Venues sorted by (kind, community): venue_id is the position."""

    kind: np.ndarray  # int8 index into KINDS
    community: np.ndarray  # int32
    lat: np.ndarray
    lon: np.ndarray
    capacity: np.ndarray  # int32
    ordinal: np.ndarray  # int32, 1-based within (kind, community), for names
    community_offsets: np.ndarray  # int64 [kinds, communities + 1]
    street_offsets: np.ndarray  # int64 [kinds, streets + 1]
    kind_offsets: np.ndarray  # int64 [kinds + 1]
    community_street: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.kind)

    def choose(
        self, kind: np.ndarray | int, community: np.ndarray, u: np.ndarray, wander: np.ndarray | None = None
    ) -> np.ndarray:
        """A venue of ``kind`` in the kind's catchment around ``community`` (district-wide if wandering)."""
        kinds = np.broadcast_to(np.asarray(kind, dtype=np.int64), np.shape(community))
        lo = self.community_offsets[kinds, community]
        hi = self.community_offsets[kinds, community + 1]
        street = self.community_street[community]
        level = CATCHMENT[kinds]
        if wander is not None:
            level = np.where(wander, DISTRICT, level)
        to_street = (level == STREET) | ((level == COMMUNITY) & (hi == lo))
        lo = np.where(to_street, self.street_offsets[kinds, street], lo)
        hi = np.where(to_street, self.street_offsets[kinds, street + 1], hi)
        to_district = (level == DISTRICT) | (hi == lo)
        lo = np.where(to_district, self.kind_offsets[kinds], lo)
        hi = np.where(to_district, self.kind_offsets[kinds + 1], hi)
        return np.asarray(lo + (u * (hi - lo)).astype(np.int64), dtype=np.int32)


def build_venues(people: int, areas: Areas, seed: int) -> Venues:
    """Venues per kind in proportion to the residents, spread over communities."""
    rng = stream(seed, "venues.places")
    kinds: list[np.ndarray] = []
    communities: list[np.ndarray] = []
    for index, name in enumerate(KINDS):  # loops over the 13 kinds
        count = max(1, round(people / _SPEC[name][0]))
        if name in ("transport_hub", "hospital", "cinema"):
            urban = np.arange(areas.street_first_community[1])  # the district seat's communities
            chosen = rng.choice(urban, size=count)
        else:
            chosen = rng.integers(0, areas.communities, count)
        kinds.append(np.full(count, index, dtype=np.int8))
        communities.append(np.sort(chosen).astype(np.int32))
    kind = np.concatenate(kinds)
    community = np.concatenate(communities)
    n = len(kind)
    key = kind.astype(np.int64) * areas.communities + community
    group_first = np.searchsorted(key, key, side="left")
    grid = np.arange(len(KINDS))[:, None] * areas.communities + np.arange(areas.communities + 1)[None, :]
    community_offsets = np.searchsorted(key, grid, side="left").astype(np.int64)
    street_offsets = community_offsets[:, areas.street_first_community]
    kind_offsets = np.searchsorted(kind, np.arange(len(KINDS) + 1), side="left").astype(np.int64)
    cap_lo = np.array([_SPEC[k][2] for k in KINDS])[kind]
    cap_hi = np.array([_SPEC[k][3] for k in KINDS])[kind]
    return Venues(
        kind=kind,
        community=community,
        lat=areas.community_lat[community] + rng.normal(0, 0.004, n),
        lon=areas.community_lon[community] + rng.normal(0, 0.005, n),
        capacity=rng.integers(cap_lo, cap_hi + 1).astype(np.int32),
        ordinal=(np.arange(n) - group_first + 1).astype(np.int32),
        community_offsets=community_offsets,
        street_offsets=street_offsets,
        kind_offsets=kind_offsets,
        community_street=areas.community_street,
    )


@dataclass(frozen=True, slots=True)
class Routines:
    """Fixed places of each person: workplace or school, and the bus line they commute on."""

    work_venue: np.ndarray  # int32, -1 when none
    bus_line: np.ndarray  # int32, -1 when they do not commute by bus


def assign_routines(population: Population, home_community: np.ndarray, venues: Venues, seed: int) -> Routines:
    """Workers get a workplace (60 % in their own street), students a school, some a bus line."""
    rng = stream(seed, "venues.routines")
    n = population.size
    role = population.role
    work_kind = choice_cdf(rng, WORK_KIND_WEIGHTS, n)
    work_kind[role == ROLE_STUDENT] = K["school"]
    wander = (role == ROLE_WORKER) & (rng.random(n) >= WORK_NEAR_HOME)
    work_venue = venues.choose(work_kind, home_community, rng.random(n), wander)
    has_place = (role == ROLE_WORKER) | (role == ROLE_STUDENT)
    work_venue[~has_place] = -1
    commute_share = np.zeros(n)
    for r, share in BUS_COMMUTERS.items():
        commute_share[role == r] = share
    bus = venues.choose(K["bus"], home_community, rng.random(n))
    bus[rng.random(n) >= commute_share] = -1
    return Routines(work_venue=work_venue, bus_line=bus)


def venue_table(venues: Venues, areas: Areas, routines: Routines) -> pa.Table:
    """The venues.parquet table: id, code (场所码), name, kind, community, location, capacity.

    A workplace or school holds at least its staff and pupils, with a fifth to spare.
    """
    ids = np.arange(len(venues), dtype=np.int32)
    assigned = routines.work_venue[routines.work_venue >= 0]
    regulars = np.bincount(assigned, minlength=len(venues))
    capacity = np.maximum(venues.capacity, np.ceil(regulars * 1.2)).astype(np.int32)
    label = pa.array([_SPEC[k][4] for k in KINDS]).take(pa.array(venues.kind))
    place = pa.array([name[:2] for name in areas.community_name]).take(pa.array(venues.community))
    ordinal = _text(venues.ordinal)
    is_bus = venues.kind == K["bus"]
    name = pc.if_else(
        pa.array(is_bus),
        pc.binary_join_element_wise(_text(ids - venues.kind_offsets[venues.kind] + 1), label, ""),
        pc.binary_join_element_wise(place, label, pc.if_else(pa.array(venues.ordinal > 1), ordinal, ""), ""),
    )
    return pa.table(
        {
            "venue_id": pa.array(ids),
            "venue_code": pc.binary_join_element_wise(
                "V", pc.utf8_lpad(pc.cast(pa.array(ids.astype(np.int64)), pa.string()), 8, "0"), ""
            ),
            "name": name,
            "kind": pa.array(list(KINDS)).take(pa.array(venues.kind)),
            "community_code": pc.cast(pa.array(areas.community_code[venues.community]), pa.string()),
            "lat": pa.array(venues.lat),
            "lon": pa.array(venues.lon),
            "capacity": pa.array(capacity),
        }
    )


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
