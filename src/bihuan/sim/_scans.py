"""Daily venue-scan logs (场所码扫码记录) and optional phone location pings.

A day is built slot by slot (morning commute, work or school with an optional lunch out,
daytime errands, evening errands); slots never overlap, so a person's scans never overlap
either. Everything is vectorised over a chunk of people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from bihuan.sim._population import ROLE_INFANT, ROLE_STUDENT, ROLE_WORKER
from bihuan.sim._random import choice_cdf
from bihuan.sim._venues import KINDS, K, Venues

HOUR = 3600.0
MINUTE = 60.0
DAY_US = 86_400 * 1_000_000
MIN_SCAN_SECONDS = 180
LAST_EXIT = 23.5 * HOUR

SCAN_SCHEMA = pa.schema(
    [
        ("person_key", pa.int64()),
        ("venue_id", pa.int32()),
        ("time_in", pa.timestamp("us")),
        ("time_out", pa.timestamp("us")),
    ]
)
PING_SCHEMA = pa.schema(
    [("person_key", pa.int64()), ("ts", pa.timestamp("us")), ("lat", pa.float64()), ("lon", pa.float64())]
)


def _by_kind(values: dict[str, float], default: float = 0.0) -> np.ndarray:
    return np.array([values.get(kind, default) for kind in KINDS])


# Dwell time of a visit in minutes: median, log-sd, shortest, longest.
DWELL_MEDIAN = _by_kind(
    {"restaurant": 50, "supermarket": 22, "market": 25, "gym": 70, "cinema": 125, "hotel": 90,
     "hospital": 70, "other": 18, "transport_hub": 35, "bus": 20}, 30,
)  # fmt: skip
DWELL_SIGMA = _by_kind({"cinema": 0.1, "hotel": 0.6, "hospital": 0.5, "other": 0.6}, 0.35)
DWELL_MIN = _by_kind(
    {"restaurant": 30, "supermarket": 10, "market": 10, "gym": 40, "cinema": 95, "hotel": 30,
     "hospital": 20, "other": 5, "transport_hub": 15, "bus": 8}, 5,
)  # fmt: skip
DWELL_MAX = _by_kind(
    {"restaurant": 90, "supermarket": 40, "market": 50, "gym": 120, "cinema": 160, "hotel": 300,
     "hospital": 200, "other": 60, "transport_hub": 90, "bus": 45}, 120,
)  # fmt: skip

# Working hours by workplace kind: earliest and latest arrival, earliest and latest departure.
_WORK_HOURS = {
    "restaurant": (9.5, 10.5, 20.0, 21.5), "supermarket": (7.5, 9.0, 17.0, 21.0),
    "market": (5.5, 6.5, 12.5, 14.0), "office": (8.0, 9.25, 17.0, 19.5),
    "factory": (7.0, 7.75, 16.75, 19.0), "school": (7.25, 8.0, 15.75, 17.25),
    "hospital": (7.5, 8.25, 16.5, 18.5), "gym": (9.0, 10.0, 19.0, 21.5),
    "cinema": (10.0, 11.0, 21.0, 22.5), "hotel": (7.5, 9.0, 17.0, 19.0),
    "transport_hub": (6.0, 7.5, 16.0, 18.0), "bus": (5.75, 6.75, 15.0, 17.0),
    "other": (8.0, 9.5, 18.0, 21.0),
}  # fmt: skip
WORK_HOURS = np.array([_WORK_HOURS[kind] for kind in KINDS]) * HOUR
# Attendance of workers by day type (workday, Saturday, Sunday); students attend on workdays.
ATTENDANCE = np.array(
    [
        _by_kind({}, 0.95),
        _by_kind({"office": 0.15, "factory": 0.7, "school": 0.05, "hospital": 0.6}, 0.9),
        _by_kind({"office": 0.05, "factory": 0.35, "school": 0.0, "hospital": 0.5}, 0.9),
    ]
)
LUNCH_OUT = _by_kind({"office": 0.55, "hospital": 0.3, "factory": 0.1, "hotel": 0.2, "transport_hub": 0.2})
MORNING_KINDS = _by_kind(
    {"restaurant": 0.08, "supermarket": 0.25, "market": 0.3, "hospital": 0.05, "other": 0.22, "bus": 0.05,
     "gym": 0.05}
)  # fmt: skip
AFTERNOON_KINDS = _by_kind(
    {"restaurant": 0.12, "supermarket": 0.2, "market": 0.05, "hospital": 0.04, "gym": 0.1, "cinema": 0.05,
     "hotel": 0.03, "transport_hub": 0.03, "other": 0.33, "bus": 0.05}
)  # fmt: skip
EVENING_KINDS = _by_kind(
    {"restaurant": 0.38, "supermarket": 0.25, "market": 0.03, "gym": 0.1, "cinema": 0.06, "hotel": 0.02,
     "other": 0.16}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Habits:
    """How often people go out (probabilities per person-day)."""

    bus_today: float = 0.85
    midday_shop: float = 0.35
    morning: float = 0.9
    lunch: tuple[float, float] = (0.25, 0.45)  # weekday, weekend
    afternoon: float = 0.75
    evening: tuple[float, float] = (0.7, 0.8)  # weekday, weekend
    evening_after_work: float = 0.75
    second_evening: float = 0.5
    child_factor: float = 0.6  # under-12s scan less (guardians scan for them)
    wander: float = 0.1  # errands anywhere in the district
    errand_near_work: float = 0.3


@dataclass(frozen=True, slots=True)
class DayPlan:
    """The people of one chunk and the fixed facts their days are built from."""

    person_key: np.ndarray  # int64
    role: np.ndarray
    age: np.ndarray
    work_venue: np.ndarray
    bus_line: np.ndarray
    home_community: np.ndarray


class _Rows:
    """Scan rows accumulated slot by slot (local person index, venue, seconds of the day)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, who: np.ndarray, venue: np.ndarray, t_in: np.ndarray, t_out: np.ndarray) -> None:
        self.parts.append((who, venue.astype(np.int32), np.rint(t_in), np.rint(t_out)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        who, venue, t_in, t_out = (np.concatenate([p[i] for p in self.parts]) for i in range(4))
        keep = t_out - t_in >= MIN_SCAN_SECONDS
        who, venue, t_in, t_out = who[keep], venue[keep], t_in[keep].astype(np.int64), t_out[keep].astype(np.int64)
        order = np.argsort(who * 86_400 + t_in, kind="stable")  # slots are sorted runs: timsort is fast
        return who[order], venue[order], t_in[order], t_out[order]


def dwell_seconds(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """Visit length by venue kind (log-normal, clipped), in seconds."""
    minutes = DWELL_MEDIAN[kind] * np.exp(DWELL_SIGMA[kind] * rng.standard_normal(len(kind)))
    return np.asarray(np.clip(minutes, DWELL_MIN[kind], DWELL_MAX[kind]) * MINUTE)


def plan_day(
    plan: DayPlan, venues: Venues, weekday: int, rng: np.random.Generator, habits: Habits = Habits()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One day of scans for a chunk: (local person index, venue_id, seconds in, seconds out), sorted."""
    n = len(plan.role)
    day_type = 0 if weekday < 5 else weekday - 4
    weekend = day_type > 0
    rows = _Rows()
    has_place = plan.work_venue >= 0
    work_kind = np.where(has_place, venues.kind[np.maximum(plan.work_venue, 0)], 0).astype(np.int64)
    attend = np.where(plan.role == ROLE_STUDENT, 0.0 if weekend else 0.97, ATTENDANCE[day_type][work_kind])
    on_site = has_place & (rng.random(n) < attend)
    last_end = _work_and_commute(rows, plan, venues, work_kind, on_site, rng, habits)
    going_out = plan.role != ROLE_INFANT
    scale = np.where(plan.age < 12, habits.child_factor, 1.0)
    off = np.flatnonzero(going_out & ~on_site)
    restaurant = np.eye(len(KINDS))[K["restaurant"]]
    slots = (
        (MORNING_KINDS, (7.5, 10.5, 11.6), habits.morning),
        (restaurant, (11.7, 12.3, 13.4), habits.lunch[int(weekend)]),
        (AFTERNOON_KINDS, (13.6, 16.0, 17.5), habits.afternoon),
    )
    for kinds, (start_lo, start_hi, clip), p in slots:
        who = off[rng.random(len(off)) < p * scale[off]]
        start = rng.uniform(start_lo, start_hi, len(who)) * HOUR
        _visit(rows, plan, venues, who, kinds, start, None, clip * HOUR, rng, habits)
    p_evening = np.where(on_site, habits.evening_after_work, habits.evening[int(weekend)]) * scale
    start = np.where(on_site, last_end + rng.uniform(5, 60, n) * MINUTE, 17.75 * HOUR + rng.uniform(0, 90, n) * MINUTE)
    who = np.flatnonzero(going_out & (rng.random(n) < p_evening) & (start < 23.0 * HOUR))
    near_work = on_site[who] & (rng.random(len(who)) < habits.errand_near_work)
    end = _visit(rows, plan, venues, who, EVENING_KINDS, start[who], near_work, LAST_EXIT, rng, habits)
    start2 = end + rng.uniform(5, 30, len(who)) * MINUTE
    again = (rng.random(len(who)) < habits.second_evening) & (start2 < 23.0 * HOUR)
    _visit(rows, plan, venues, who[again], EVENING_KINDS, start2[again], near_work[again], LAST_EXIT, rng, habits)
    return rows.arrays()


def _visit(
    rows: _Rows,
    plan: DayPlan,
    venues: Venues,
    who: np.ndarray,
    kind_weights: np.ndarray,
    start: np.ndarray,
    near_work: np.ndarray | None,
    clip: float,
    rng: np.random.Generator,
    habits: Habits,
) -> np.ndarray:
    """One errand each for ``who``: a venue near home (or work), a dwell by kind; returns exit times."""
    kind = choice_cdf(rng, kind_weights, len(who))
    community = plan.home_community[who].copy()
    if near_work is not None:
        community[near_work] = venues.community[plan.work_venue[who[near_work]]]
    wander = rng.random(len(who)) < habits.wander
    venue = venues.choose(kind, community, rng.random(len(who)), wander)
    end = np.minimum(start + dwell_seconds(rng, kind), clip)
    rows.add(who, venue, start, end)
    return np.asarray(end)


def _work_and_commute(
    rows: _Rows,
    plan: DayPlan,
    venues: Venues,
    work_kind: np.ndarray,
    on_site: np.ndarray,
    rng: np.random.Generator,
    habits: Habits,
) -> np.ndarray:
    """Work or school stays (split around a lunch out), with bus rides; returns when the day ends."""
    n = len(on_site)
    hours = WORK_HOURS[work_kind]
    t_in = hours[:, 0] + rng.random(n) * (hours[:, 1] - hours[:, 0])
    t_out = hours[:, 2] + rng.random(n) * (hours[:, 3] - hours[:, 2])
    lunch = on_site & (plan.role == ROLE_WORKER) & (rng.random(n) < LUNCH_OUT[work_kind])
    lunch &= (t_in < 11.0 * HOUR) & (t_out > 14.0 * HOUR)
    whole = np.flatnonzero(on_site & ~lunch)
    rows.add(whole, plan.work_venue[whole], t_in[whole], t_out[whole])
    split = np.flatnonzero(lunch)
    m = len(split)
    l_in = (11.75 + 0.5 * rng.random(m)) * HOUR
    l_out = l_in + rng.uniform(25, 55, m) * MINUTE
    work_community = venues.community[plan.work_venue[split]]
    rows.add(split, plan.work_venue[split], t_in[split], l_in - rng.uniform(2, 8, m) * MINUTE)
    rows.add(split, venues.choose(K["restaurant"], work_community, rng.random(m)), l_in, l_out)
    shop = rng.random(m) < habits.midday_shop
    s_in = l_out[shop] + rng.uniform(2, 5, int(shop.sum())) * MINUTE
    s_out = s_in + rng.uniform(4, 15, len(s_in)) * MINUTE
    rows.add(split[shop], venues.choose(K["other"], work_community[shop], rng.random(len(s_in))), s_in, s_out)
    back = l_out.copy()
    back[shop] = s_out
    rows.add(split, plan.work_venue[split], back + rng.uniform(2, 8, m) * MINUTE, t_out[split])
    bus = np.flatnonzero(on_site & (plan.bus_line >= 0) & (rng.random(n) < habits.bus_today))
    b_out = t_in[bus] - rng.uniform(2, 8, len(bus)) * MINUTE
    rows.add(bus, plan.bus_line[bus], b_out - rng.uniform(10, 35, len(bus)) * MINUTE, b_out)
    home_bus = bus[rng.random(len(bus)) < habits.bus_today]
    b_in = t_out[home_bus] + rng.uniform(2, 10, len(home_bus)) * MINUTE
    b_end = b_in + rng.uniform(10, 35, len(home_bus)) * MINUTE
    rows.add(home_bus, plan.bus_line[home_bus], b_in, b_end)
    last_end = t_out.copy()
    last_end[home_bus] = b_end
    return np.asarray(last_end)


def plan_pings(
    plan: DayPlan,
    scans: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    home_lat: np.ndarray,
    home_lon: np.ndarray,
    venues: Venues,
    interval_minutes: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Phone pings every ``interval_minutes`` from 07:00 to 23:00 for everyone aged 6 or more.

    A ping is at the venue when it falls inside one of the person's scans, else at home, with
    about 20 m of GPS noise.
    Returns (local person index, seconds of the day, lat, lon).
    """
    who, venue, t_in, t_out = scans
    per_person = int(16 * 60 // interval_minutes)
    owners = np.flatnonzero(plan.age >= 6)
    person = np.repeat(owners, per_person)
    slot = np.tile(np.arange(per_person), len(owners))
    ts = np.rint(7 * HOUR + (slot + rng.random(len(slot))) * interval_minutes * MINUTE).astype(np.int64)
    day_seconds = 86_400
    row = np.searchsorted(who * day_seconds + t_in, person * day_seconds + ts, side="right") - 1
    row_safe = np.maximum(row, 0)
    inside = (row >= 0) & (who[row_safe] == person) & (ts < t_out[row_safe]) if len(who) else row < -1
    place = venue[row_safe] if len(who) else np.zeros(len(row), dtype=np.int32)
    lat = np.where(inside, venues.lat[place], home_lat[person]) + rng.normal(0, 0.0002, len(ts))
    lon = np.where(inside, venues.lon[place], home_lon[person]) + rng.normal(0, 0.00025, len(ts))
    return person, ts, np.round(lat, 5), np.round(lon, 5)  # about a metre: compresses 3x better
