"""A small testing round for the campaign and sampling tests: two counties, a few residents, sites.

Built through the services, as a headquarters would: the round over county A's building
(controlled, 10-in-1) and county B's building (precaution, 20-in-1), a site in each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from tests.factories import District, context, make_district, make_person, new_resident_id

from bihuan.core import auth
from bihuan.core.clock import Clock
from bihuan.core.db import Database
from bihuan.protocol import ProtocolProfile, load_profile
from bihuan.screening.choices import AreaKind
from bihuan.screening.schemas.campaigns import CampaignCreate, CampaignUnitCreate, SiteCreate
from bihuan.screening.service import campaigns


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at the smallest cost: logins in these tests take milliseconds."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def cn8() -> ProtocolProfile:
    return load_profile("cn-8th-2021")


@dataclass(frozen=True)
class Round:
    """Ids of a round over county A's building (controlled) and county B's building (precaution)."""

    district: District
    campaign: int
    site_a: int
    site_b: int
    residents_a: tuple[str, ...]  # resident IDs registered in county A's building
    residents_b: tuple[str, ...]


def register(database: Database, clock: Clock, jurisdiction_id: int, count: int, region: str) -> tuple[str, ...]:
    numbers = []
    for _ in range(count):
        number = new_resident_id(region)
        make_person(database, clock, jurisdiction_id, resident_id=number)
        numbers.append(number)
    return tuple(numbers)


def create_round(
    database: Database,
    clock: Clock,
    units: Sequence[tuple[int, AreaKind]],
    *,
    code: str = "R1",
    profile: ProtocolProfile | None = None,
) -> int:
    with context(database, clock) as ctx:
        data = CampaignCreate(
            code=code,
            name=f"第{code}轮全员核酸",
            units=[CampaignUnitCreate(jurisdiction_id=j, area_kind=k) for j, k in units],
        )
        return campaigns.create_campaign(ctx, data, profile or cn8()).id


def add_site(database: Database, clock: Clock, campaign_id: int, jurisdiction_id: int, code: str) -> int:
    now = clock.now()
    with context(database, clock) as ctx:
        site = campaigns.create_site(
            ctx,
            campaign_id,
            SiteCreate(
                code=code,
                name=f"{code} 采样点",
                jurisdiction_id=jurisdiction_id,
                opens_at=now,
                closes_at=now + timedelta(hours=10),
                capacity_per_hour=60,
            ),
        )
        return site.id


def make_round(database: Database, clock: Clock, *, people_a: int = 12, people_b: int = 3) -> Round:
    district = make_district(database, clock)
    residents_a = register(database, clock, district.building_a, people_a, "330604")
    residents_b = register(database, clock, district.building_b, people_b, "330602")
    campaign = create_round(
        database, clock, [(district.building_a, AreaKind.CONTROLLED), (district.building_b, AreaKind.PRECAUTION)]
    )
    site_a = add_site(database, clock, campaign, district.building_a, "SA")
    site_b = add_site(database, clock, campaign, district.building_b, "SB")
    return Round(district, campaign, site_a, site_b, residents_a, residents_b)
