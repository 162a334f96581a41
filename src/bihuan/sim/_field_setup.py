"""The drill's resources, registered through the API before its first day: the transfer teams' fleet,
quarantine sites (home hotels run room by room, sites in nearby cities), the designated hospital, and the
fever clinics' standing sampling point — the demo's command centre's resources, scaled to the district
(the nearby cities' sites and the fleet are sized for a district of ``FULL_SIZE`` residents), so a small
district's drill meets the same shortages of places and vehicles as a large one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bihuan.protocol import DestinationKind, ProtocolProfile
from bihuan.sim._field_api import Field
from bihuan.sim.transfer_fleet import CASES_ONLY, CONTACTS, FLEET, HOME, OTHER_CITIES, ROOMS_PER_FLOOR

COMMANDER, SITES = "commander", "site-manager"
FEVER_CAMPAIGN = "FEVER"
FULL_SIZE = 50_000
MIN_ROOMS = 30


def _scaled(count: int, population: int, least: int) -> int:
    return max(least, count * population // FULL_SIZE)


def register_resources(field: Field, profile: ProtocolProfile, population: int) -> None:
    """Sites with their floors and the fleet, once (a database that has sites keeps them)."""
    if field.get(SITES, "/api/sites")["count"]:
        return
    home_rooms = max(profile.sites.rooms_per_10000_population * population // 10_000, MIN_ROOMS)
    for index in range(3):
        where = (HOME[0] + 0.02 * (index - 1), HOME[1] + 0.015 * (index - 1))
        code, name = f"SY-HOTEL-{index + 1:02d}", f"上虞隔离酒店{index + 1}号"
        site = _quarantine_site(field, profile, code, name, "上虞", where, home_rooms // 3)
        _add_floors(field, site)
    for code, name, city, lat, lon, rooms in OTHER_CITIES:
        _quarantine_site(field, profile, code, name, city, (lat, lon), _scaled(rooms, population, MIN_ROOMS))
    hospital = {
        "code": "SX-HOSP-01",
        "name": "绍兴市定点医院",
        "kind": DestinationKind.DESIGNATED_HOSPITAL.value,
        "city": "绍兴",
        "lat": 30.00,
        "lon": 120.58,
        "places": [{"category": CASES_ONLY[0].value, "places": _scaled(300, population, MIN_ROOMS)}],
    }
    field.post(SITES, "/api/sites", hospital)
    _register_fleet(field, population)


def _quarantine_site(
    field: Field, profile: ProtocolProfile, code: str, name: str, city: str, where: tuple[float, float], rooms: int
) -> dict[str, Any]:
    """2/3 of the rooms for close contacts and 1/3 for secondary contacts, or all for the only one moved."""
    moved = [c for c in CONTACTS if profile.transfer.destination_of(c) == DestinationKind.CENTRAL_QUARANTINE]
    shares = [rooms * 2 // 3, rooms // 3] if len(moved) == len(CONTACTS) else [rooms]
    body = {
        "code": code,
        "name": name,
        "kind": DestinationKind.CENTRAL_QUARANTINE.value,
        "city": city,
        "lat": where[0],
        "lon": where[1],
        "places": [{"category": c.value, "places": n} for c, n in zip(moved, shares, strict=True)],
    }
    site: dict[str, Any] = field.post(SITES, "/api/sites", body)
    return site


def _add_floors(field: Field, site: dict[str, Any]) -> None:
    """Floors of 12 rooms, one category per floor, for the places each category was given."""
    floor = 2
    for places in site["places"]:
        for start in range(0, places["places"], ROOMS_PER_FLOOR):
            count = min(ROOMS_PER_FLOOR, places["places"] - start)
            body = {"building": "A", "number": floor, "category": places["category"], "room_count": count}
            field.post(SITES, f"/api/sites/{site['id']}/floors", body)
            floor += 1


def _register_fleet(field: Field, population: int) -> None:
    number = 0
    for kind, seats, count, categories in FLEET:
        for _ in range(_scaled(count, population, 1)):
            number += 1
            depot = (HOME[0] + 0.03 * ((number % 5) - 2), HOME[1] + 0.03 * ((number % 3) - 1))
            body = {
                "code": f"SY-{kind.value[:2].upper()}-{number:03d}",
                "plate": f"浙D·{10000 + number}",
                "kind": kind.value,
                "seats": seats,
                "categories": None if categories is None else [c.value for c in categories],
                "depot_text": "上虞转运车队",
                "lat": depot[0],
                "lon": depot[1],
            }
            field.post(COMMANDER, "/api/vehicles", body)


def jurisdiction_ids(field: Field, level: str) -> dict[str, int]:
    """Codes to register ids of the jurisdictions of one level."""
    return {row["code"]: row["id"] for row in field.pages(COMMANDER, "/api/jurisdictions", level=level)}


def fever_clinic(field: Field, county_id: int, opens: datetime, days: int) -> tuple[int, int]:
    """The standing campaign of the fever clinics (发热门诊) and its sampling point: (campaign, site)."""
    campaign = field.post(
        COMMANDER,
        "/api/screening/campaigns",
        {
            "code": FEVER_CAMPAIGN,
            "name": "发热门诊单采",
            "starts_at": opens.isoformat(),
            "units": [{"jurisdiction_id": county_id, "area_kind": "other"}],
        },
    )
    site = field.post(
        COMMANDER,
        f"/api/screening/campaigns/{campaign['id']}/sites",
        {
            "code": "FEVER-1",
            "name": "区人民医院发热门诊",
            "jurisdiction_id": county_id,
            "opens_at": opens.isoformat(),
            "closes_at": (opens + timedelta(days=days)).isoformat(),
            "capacity_per_hour": 60,
        },
    )
    return campaign["id"], site["id"]
