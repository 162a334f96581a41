"""Testing rounds (一轮全员核酸检测): units, pool sizes and deadline from the profile, targets, progress, scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.factories import context, count_statements, make_district, make_person
from tests.screening.campaign_factories import add_site, cn8, create_round, make_round, register

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, FieldError, Forbidden, NotFound
from bihuan.core.events import Event
from bihuan.people import service as people
from bihuan.people.choices import JurisdictionLevel
from bihuan.people.schemas import JurisdictionCreate, Page
from bihuan.protocol import load_profile
from bihuan.screening.choices import AreaKind, CampaignStatus
from bihuan.screening.models import Campaign, Tube
from bihuan.screening.schemas.campaigns import CampaignCreate, CampaignUnitCreate, SiteCreate, TubeOpen
from bihuan.screening.service import campaigns, sampling

COUNTY_A = "33/3306/330604/"


def county_actor(role: Role = Role.COMMANDER, path: str = COUNTY_A) -> Actor:
    return Actor(user_id=None, username=f"{role.value}-a", role=role, jurisdiction_id=None, jurisdiction_path=path)


def extra_building(database: Database, clock: SimulatedClock, community: int, code: str) -> int:
    with context(database, clock) as ctx:
        node = people.create_jurisdiction(
            ctx, JurisdictionCreate(code=code, name="2幢", level=JurisdictionLevel.BUILDING, parent_id=community)
        )
        return node.id


def test_pool_size_comes_from_the_profile_by_area_kind(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    quarantine = extra_building(database, clock, district.community_a, "330604001001002")
    units = [
        (district.building_a, AreaKind.CONTROLLED),
        (district.building_b, AreaKind.PRECAUTION),
        (quarantine, AreaKind.QUARANTINE_SITE),
    ]
    with context(database, clock) as ctx:
        round_ = campaigns.get_campaign_view(ctx, create_round(database, clock, units))
    assert {u.jurisdiction_id: u.pool_size for u in round_.units} == {
        district.building_a: 10,
        district.building_b: 20,
        quarantine: 1,
    }
    screening = cn8().screening
    five_in_one = cn8().model_copy(
        update={
            "screening": screening.model_copy(update={"pool_size": {**screening.pool_size, AreaKind.CONTROLLED: 5}})
        }
    )
    with context(database, clock) as ctx:
        other = campaigns.get_campaign_view(
            ctx, create_round(database, clock, units[:1], code="R2", profile=five_in_one)
        )
    assert [u.pool_size for u in other.units] == [5]


def test_target_is_the_registered_population_of_each_units_subtree(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    register(database, clock, district.building_a, 3, "330604")
    register(database, clock, district.community_a, 2, "330604")  # under county A, not in its building
    register(database, clock, district.building_b, 4, "330602")
    with context(database, clock) as ctx, count_statements(database) as statements:
        counts = campaigns.registered_population(ctx, [district.county_a, district.building_a, district.building_b])
    assert counts == {district.county_a: 5, district.building_a: 3, district.building_b: 4}
    assert len(statements) == 1, "one grouped query, not one per unit"
    campaign_id = create_round(
        database, clock, [(district.county_a, AreaKind.PRECAUTION), (district.building_b, AreaKind.CONTROLLED)]
    )
    with context(database, clock) as ctx:
        view = campaigns.get_campaign_view(ctx, campaign_id)
    assert {u.jurisdiction_id: u.target for u in view.units} == {district.county_a: 5, district.building_b: 4}
    assert view.target == 9


def test_the_deadline_comes_from_the_profile_by_population(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    register(database, clock, district.building_a, 3, "330604")
    units = [(district.building_a, AreaKind.CONTROLLED)]
    with context(database, clock) as ctx:
        small = campaigns.get_campaign_view(ctx, create_round(database, clock, units, code="SMALL"))
    assert small.deadline_at - small.starts_at == timedelta(hours=48)  # 2 days under 5 million (2021)
    profile = cn8()
    rounds = profile.screening.rounds.model_copy(update={"large_city_population": 3})
    large_city = profile.model_copy(update={"screening": profile.screening.model_copy(update={"rounds": rounds})})
    with context(database, clock) as ctx:
        large = campaigns.get_campaign_view(ctx, create_round(database, clock, units, code="LARGE", profile=large_city))
    assert large.deadline_at - large.starts_at == timedelta(hours=72)  # 3 days at or above the threshold
    later = clock.now() + timedelta(hours=6)
    with context(database, clock) as ctx:
        area = campaigns.create_campaign(
            ctx,
            CampaignCreate(
                code="AREA",
                name="划定区域",
                starts_at=later,
                delineated_area=True,
                units=[CampaignUnitCreate(jurisdiction_id=district.building_a, area_kind=AreaKind.SEALED)],
            ),
            load_profile("cn-9th-2022"),
        )
    assert area.status is CampaignStatus.PLANNED
    assert area.deadline_at == later + timedelta(hours=24)  # a delineated area within 24 h (2022)


def test_creating_a_round_records_campaign_created(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=1)
    with context(database, clock) as ctx:
        events = list(ctx.session.scalars(select(Event).where(Event.kind == EventKind.CAMPAIGN_CREATED.value)))
    assert len(events) == 1
    event = events[0]
    assert (event.subject_type, event.subject_id) == ("campaign", round_.campaign)
    assert event.jurisdiction_id == round_.district.city  # the units' common ancestor
    assert event.payload["target"] == 3
    assert event.payload["deadline_hours"] == 48


def test_units_of_a_round_must_not_overlap_or_repeat(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    for units, field in (
        ([(district.county_a, AreaKind.PRECAUTION), (district.building_a, AreaKind.SEALED)], "units.1.jurisdiction_id"),
        ([(district.building_a, AreaKind.SEALED), (district.building_a, AreaKind.SEALED)], "units.1.jurisdiction_id"),
        ([(999_999, AreaKind.SEALED)], "units.0.jurisdiction_id"),
    ):
        with pytest.raises(FieldError) as refused:
            create_round(database, clock, units)
        assert refused.value.field == field


def test_a_round_is_planned_only_by_planners_over_units_they_see(database: Database, clock: SimulatedClock) -> None:
    district = make_district(database, clock)
    data = CampaignCreate(
        code="B1", name="越城区", units=[CampaignUnitCreate(jurisdiction_id=district.building_b, area_kind="other")]
    )
    with context(database, clock, county_actor()) as ctx, pytest.raises(FieldError) as refused:
        campaigns.create_campaign(ctx, data, cn8())
    assert refused.value.field == "units.0.jurisdiction_id"
    with context(database, clock, county_actor(Role.COMMUNITY_WORKER)) as ctx, pytest.raises(Forbidden):
        campaigns.create_campaign(ctx, data, cn8())


def test_a_site_stands_inside_a_unit_and_closes_after_it_opens(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    now = clock.now()
    site = {
        "code": "S9",
        "name": "广场",
        "jurisdiction_id": round_.district.community_a,  # county A, but outside the round's building
        "opens_at": now,
        "closes_at": now + timedelta(hours=8),
        "capacity_per_hour": 100,
    }
    for changes, field in (
        ({}, "jurisdiction_id"),
        ({"jurisdiction_id": round_.district.building_a, "closes_at": now}, "closes_at"),
        ({"jurisdiction_id": round_.district.building_a, "code": "SA"}, "code"),
    ):
        with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
            campaigns.create_site(ctx, round_.campaign, SiteCreate.model_validate({**site, **changes}))
        assert refused.value.field == field


def scan(database: Database, clock: SimulatedClock, tube_id: int, resident_id: str) -> sampling.ScanOutcome:
    with context(database, clock) as ctx:
        return sampling.scan_person(ctx, tube_id, resident_id)


def open_tube(database: Database, clock: SimulatedClock, campaign: int, site: int, barcode: str) -> int:
    with context(database, clock) as ctx:
        tube, _ = sampling.open_tube(ctx, campaign, TubeOpen(site_id=site, barcode=barcode))
        return tube.id


def test_progress_counts_distinct_persons_by_unit_and_by_site(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=5, people_b=2)
    tube_a = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    tube_b = open_tube(database, clock, round_.campaign, round_.site_b, "TB1")
    for number in round_.residents_a[:3]:
        scan(database, clock, tube_a, number)
    scan(database, clock, tube_b, round_.residents_b[0])
    scan(database, clock, tube_b, round_.residents_a[0])  # sampled again, at the other site: a duplicate
    scan(database, clock, tube_a, round_.residents_a[1])  # the same scan resent: nothing new
    with context(database, clock) as ctx:
        progress = campaigns.campaign_progress(ctx, round_.campaign)
    units = {u.jurisdiction_id: (u.target, u.sampled, u.duplicates) for u in progress.units}
    assert units == {round_.district.building_a: (5, 3, 1), round_.district.building_b: (2, 1, 0)}
    sites = {s.code: (s.capacity, s.sampled, s.duplicates) for s in progress.sites}
    assert sites == {"SA": (600, 3, 0), "SB": (600, 1, 1)}
    assert (progress.target, progress.sampled, progress.duplicates) == (7, 4, 1)
    assert progress.share == pytest.approx(4 / 7)


def test_progress_costs_the_same_few_queries_however_large_the_round(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=3, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    scan(database, clock, tube, round_.residents_a[0])
    district = round_.district
    bigger = create_round(
        database,
        clock,
        [(district.county_a, AreaKind.PRECAUTION), (district.county_b, AreaKind.CONTROLLED)],
        code="R2",
    )
    for code in ("X1", "X2", "X3"):
        add_site(database, clock, bigger, district.building_a, code)
    counts = []
    for campaign_id in (round_.campaign, bigger):
        with context(database, clock) as ctx, count_statements(database) as statements:
            campaigns.campaign_progress(ctx, campaign_id)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 4


def test_time_left_runs_down_to_the_deadline(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=1, people_b=1)
    clock.advance(timedelta(hours=10))
    with context(database, clock) as ctx:
        progress = campaigns.campaign_progress(ctx, round_.campaign)
    assert (progress.hours_left, progress.overdue) == (38, False)
    clock.advance(timedelta(hours=40))
    with context(database, clock) as ctx:
        progress = campaigns.campaign_progress(ctx, round_.campaign)
    assert (progress.hours_left, progress.overdue) == (-2, True)


def test_a_county_user_sees_only_the_rounds_units_and_sites_of_their_county(
    database: Database, clock: SimulatedClock
) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=2)
    only_b = create_round(database, clock, [(round_.district.county_b, AreaKind.OTHER)], code="RB")
    with context(database, clock, county_actor(Role.ANALYST)) as ctx:
        rows, count = campaigns.list_campaigns(ctx, Page())
        assert ([r.id for r in rows], count) == ([round_.campaign], 1)
        assert [u.jurisdiction_id for u in rows[0].units] == [round_.district.building_a]
        progress = campaigns.campaign_progress(ctx, round_.campaign)
        assert [s.code for s in progress.sites] == ["SA"]
        assert progress.target == 2
        with pytest.raises(NotFound):
            campaigns.get_campaign(ctx, only_b)


def test_closing_a_round_closes_its_tubes_and_ends_sampling(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=1)
    tube = open_tube(database, clock, round_.campaign, round_.site_a, "TA1")
    scan(database, clock, tube, round_.residents_a[0])
    clock.advance(timedelta(hours=3))
    with context(database, clock) as ctx:
        closed = campaigns.close_campaign(ctx, round_.campaign)
        again = campaigns.close_campaign(ctx, round_.campaign)
    assert closed.status is again.status is CampaignStatus.CLOSED
    assert closed.closed_at == clock.now()
    with context(database, clock) as ctx:
        assert ctx.session.get(Tube, tube).closed_at == clock.now()  # type: ignore[union-attr]
        assert ctx.session.get(Campaign, round_.campaign).status == "closed"  # type: ignore[union-attr]
        kinds = list(ctx.session.scalars(select(Event.payload).where(Event.kind == EventKind.CAMPAIGN_CLOSED.value)))
    assert kinds == [{"code": "R1", "target": 3, "sampled": 1, "overdue": False}]
    with pytest.raises(Conflict):
        open_tube(database, clock, round_.campaign, round_.site_a, "TA2")
    with context(database, clock) as ctx, pytest.raises(Conflict):
        campaigns.create_site(
            ctx,
            round_.campaign,
            SiteCreate(
                code="LATE",
                name="迟到",
                jurisdiction_id=round_.district.building_a,
                opens_at=clock.now(),
                closes_at=clock.now() + timedelta(hours=1),
                capacity_per_hour=1,
            ),
        )


def test_a_person_registered_later_does_not_change_a_rounds_target(database: Database, clock: SimulatedClock) -> None:
    round_ = make_round(database, clock, people_a=2, people_b=1)
    make_person(database, clock, round_.district.building_a)
    with context(database, clock) as ctx:
        assert campaigns.campaign_progress(ctx, round_.campaign).target == 3
