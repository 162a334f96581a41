"""Isolation sites: standards, places by category, expected releases, a full site; what a transfer plan may
count on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import context, login, make_district, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import PROFILE, SHANGYU, add_site

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import Conflict, FieldError
from bihuan.core.events import Event
from bihuan.isolation import service as sites
from bihuan.isolation.schemas import ExpectedReleaseIn, PlacesIn, SiteCreate, SiteStandardsUpdate
from bihuan.protocol import DestinationKind, TransferCategory, load_profile

pytestmark = pytest.mark.usefixtures("cheap_argon2")
CLOSE = TransferCategory.CLOSE_CONTACT


def _site_data(**changes: object) -> SiteCreate:
    values: dict[str, object] = {
        "code": "HOTEL-1",
        "name": "百官隔离酒店",
        "kind": DestinationKind.CENTRAL_QUARANTINE,
        "city": "上虞",
        "lat": SHANGYU[0],
        "lon": SHANGYU[1],
        "places": [{"category": CLOSE, "places": 100, "occupied": 40}],
    }
    values.update(changes)
    return SiteCreate.model_validate(values)


def test_a_site_shows_its_free_places_by_category(database: Database, clock: SimulatedClock) -> None:
    with context(database, clock) as ctx:
        sites.create_site(ctx, PROFILE, _site_data())
    with context(database, clock) as ctx:
        [site] = sites.list_sites(ctx)
    [places] = site.places
    assert (places.category, places.places, places.occupied, places.free) == (CLOSE, 100, 40, 60)


def test_expected_releases_within_the_horizon_count_as_free_for_a_plan(
    database: Database, clock: SimulatedClock
) -> None:
    today = clock.now().date()
    with context(database, clock) as ctx:
        site = sites.create_site(ctx, PROFILE, _site_data())
        sites.expect_release(
            ctx, site.id, ExpectedReleaseIn(category=CLOSE, on_date=today + timedelta(days=1), places=10)
        )
        sites.expect_release(
            ctx, site.id, ExpectedReleaseIn(category=CLOSE, on_date=today + timedelta(days=5), places=20)
        )
    with context(database, clock) as ctx:
        [tomorrow] = sites.capacity_for_planning(ctx, PROFILE, today + timedelta(days=1))
        [next_week] = sites.capacity_for_planning(ctx, PROFILE, today + timedelta(days=7))
    assert tomorrow.free == {"close_contact": 70}
    assert next_week.free == {"close_contact": 90}


def test_a_release_the_site_reports_by_its_occupancy_is_not_counted_again(
    database: Database, clock: SimulatedClock
) -> None:
    today = clock.now().date()
    with context(database, clock) as ctx:
        site = sites.create_site(ctx, PROFILE, _site_data(places=[{"category": CLOSE, "places": 10, "occupied": 10}]))
        sites.expect_release(ctx, site.id, ExpectedReleaseIn(category=CLOSE, on_date=today, places=5))
    with context(database, clock) as ctx:
        [before] = sites.capacity_for_planning(ctx, PROFILE, today + timedelta(days=1))
    with context(database, clock) as ctx:
        sites.set_places(ctx, PROFILE, site.id, PlacesIn(category=CLOSE, places=10, occupied=5))  # five went home
    with context(database, clock) as ctx:
        [after] = sites.capacity_for_planning(ctx, PROFILE, today + timedelta(days=1))
    assert before.free == {"close_contact": 0}  # today's release is not free until the site reports it
    assert after.free == {"close_contact": 5}


def test_places_freed_ahead_of_their_release_day_are_taken_off_the_earliest_releases(
    database: Database, clock: SimulatedClock
) -> None:
    today = clock.now().date()
    with context(database, clock) as ctx:
        site = sites.create_site(ctx, PROFILE, _site_data(places=[{"category": CLOSE, "places": 10, "occupied": 10}]))
        for days, places in ((1, 5), (2, 3)):
            release = ExpectedReleaseIn(category=CLOSE, on_date=today + timedelta(days=days), places=places)
            sites.expect_release(ctx, site.id, release)
    with context(database, clock) as ctx:
        sites.set_places(ctx, PROFILE, site.id, PlacesIn(category=CLOSE, places=10, occupied=4))  # six left early
    with context(database, clock) as ctx:
        [plannable] = sites.capacity_for_planning(ctx, PROFILE, today + timedelta(days=2))
        [listed] = sites.list_sites(ctx)
    assert plannable.free == {"close_contact": 8}  # 6 free now and 2 of the day-after's 3 still to come
    assert (listed.places[0].free, listed.places[0].releasing) == (6, 2)


def test_the_same_release_day_sent_again_replaces_its_number(database: Database, clock: SimulatedClock) -> None:
    day = clock.now().date() + timedelta(days=1)
    with context(database, clock) as ctx:
        site = sites.create_site(ctx, PROFILE, _site_data())
        for places in (10, 15, 15):
            sites.expect_release(ctx, site.id, ExpectedReleaseIn(category=CLOSE, on_date=day, places=places))
    with context(database, clock) as ctx:
        [plannable] = sites.capacity_for_planning(ctx, PROFILE, day)
    assert plannable.free == {"close_contact": 75}


def test_a_site_reported_full_takes_nobody_in_a_plan(database: Database, clock: SimulatedClock) -> None:
    full = add_site(database, clock, "已满酒店", SHANGYU, {CLOSE: 10})
    add_site(database, clock, "空酒店", SHANGYU, {CLOSE: 10})
    with context(database, clock) as ctx:
        sites.report_full(ctx, full, "water supply cut")
        sites.report_full(ctx, full, "again")
    with context(database, clock) as ctx:
        plannable = sites.capacity_for_planning(ctx, PROFILE, clock.now().date())
        [listed] = [s for s in sites.list_sites(ctx) if s.id == full]
    assert [s.name for s in plannable] == ["空酒店"]
    assert (listed.status, listed.status_reason) == ("full", "water supply cut")


def test_confirmed_cases_cannot_be_given_places_at_a_quarantine_hotel(
    database: Database, clock: SimulatedClock
) -> None:
    data = _site_data(places=[{"category": TransferCategory.CONFIRMED, "places": 5}])
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.create_site(ctx, PROFILE, data)
    assert refused.value.field == "places[0].category"
    assert "designated hospital" in refused.value.reason


def test_a_category_the_profile_leaves_at_home_cannot_be_given_places(
    database: Database, clock: SimulatedClock
) -> None:
    ninth = load_profile("cn-9th-2022")  # secondary contacts isolate at home under the 9th edition
    secondary = {"category": TransferCategory.SECONDARY_CONTACT, "places": 5}
    data = _site_data(places=[{"category": CLOSE, "places": 5}, secondary])
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.create_site(ctx, ninth, data)
    assert refused.value.field == "places[1].category"
    assert refused.value.reason == "the profile does not move secondary_contact people"
    with context(database, clock) as ctx:
        site = sites.create_site(ctx, PROFILE, data)  # the 8th edition moves them
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused_later:
        sites.set_places(ctx, ninth, site.id, PlacesIn(category=TransferCategory.SECONDARY_CONTACT, places=9))
    assert refused_later.value.field == "category"


def test_more_rooms_occupied_than_places_is_refused_and_nothing_changes(
    database: Database, clock: SimulatedClock
) -> None:
    with context(database, clock) as ctx:
        site = sites.create_site(ctx, PROFILE, _site_data())
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.set_places(ctx, PROFILE, site.id, PlacesIn(category=CLOSE, places=10, occupied=11))
    assert refused.value.field == "occupied"
    with context(database, clock) as ctx:
        [listed] = sites.list_sites(ctx)
    assert listed.places[0].places == 100


def test_a_site_code_twice_is_refused(database: Database, clock: SimulatedClock) -> None:
    with context(database, clock) as ctx:
        sites.create_site(ctx, PROFILE, _site_data())
    with context(database, clock) as ctx, pytest.raises(Conflict):
        sites.create_site(ctx, PROFILE, _site_data(name="another"))


def test_a_category_listed_twice_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        _site_data(places=[{"category": CLOSE, "places": 1}, {"category": CLOSE, "places": 2}])


def test_an_arrival_takes_places(database: Database, clock: SimulatedClock) -> None:
    site = add_site(database, clock, "酒店", SHANGYU, {CLOSE: 10})
    with context(database, clock) as ctx:
        sites.admit(ctx, site, "close_contact", 3)
    with context(database, clock) as ctx:
        [plannable] = sites.capacity_for_planning(ctx, PROFILE, clock.now().date())
    assert plannable.free == {"close_contact": 7}


@pytest.mark.parametrize(
    ("standards", "field", "rule"),
    [
        ({"three_zones_two_channels": False}, "three_zones_two_channels", "三区两通道"),
        ({"central_air_conditioning": True}, "central_air_conditioning", "集中空调"),
    ],
)
def test_a_quarantine_site_that_breaks_the_profiles_standards_is_refused_naming_the_field(
    database: Database, clock: SimulatedClock, standards: dict[str, bool], field: str, rule: str
) -> None:
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.create_site(ctx, PROFILE, _site_data(**standards))
    assert refused.value.field == field and rule in refused.value.reason
    with context(database, clock) as ctx:
        assert sites.list_sites(ctx) == []


def test_a_profile_that_allows_central_air_conditioning_takes_such_a_site(
    database: Database, clock: SimulatedClock
) -> None:
    allowing = PROFILE.model_copy(
        update={"sites": PROFILE.sites.model_copy(update={"central_air_conditioning_allowed": True})}
    )
    with context(database, clock) as ctx:
        sites.create_site(ctx, allowing, _site_data(central_air_conditioning=True))
    with context(database, clock) as ctx:
        [site] = sites.list_sites(ctx)
    assert (site.central_air_conditioning, site.three_zones_two_channels, site.status) == (True, True, "open")


def test_a_site_found_to_break_the_standards_is_closed_to_new_arrivals_until_it_meets_them(
    database: Database, clock: SimulatedClock
) -> None:
    with context(database, clock) as ctx:
        site = sites.create_site(ctx, PROFILE, _site_data())
    found = SiteStandardsUpdate(central_air_conditioning=True)
    with context(database, clock) as ctx:
        sites.update_standards(ctx, PROFILE, site.id, found)
        sites.update_standards(ctx, PROFILE, site.id, found)  # the same inspection sent again
    with context(database, clock) as ctx:
        [listed] = sites.list_sites(ctx)
        plannable = sites.capacity_for_planning(ctx, PROFILE, clock.now().date())
        with pytest.raises(Conflict, match="集中空调"):
            sites.reopen(ctx, site.id, profile=PROFILE)
        updates = ctx.session.scalars(select(Event).where(Event.kind == EventKind.SITE_UPDATED)).all()
    assert (listed.status, listed.central_air_conditioning) == ("closed", True)
    assert listed.status_reason.startswith("central_air_conditioning:") and "集中空调" in listed.status_reason
    assert plannable == []
    assert [e.payload["status"] for e in updates] == ["closed"]
    with context(database, clock) as ctx:
        sites.update_standards(ctx, PROFILE, site.id, SiteStandardsUpdate(central_air_conditioning=False))
    with context(database, clock) as ctx:
        assert sites.get_site(ctx, site.id).status == "closed"  # mended: it still waits to be reopened
        sites.reopen(ctx, site.id, profile=PROFILE)
    with context(database, clock) as ctx:
        assert [s.site_id for s in sites.capacity_for_planning(ctx, PROFILE, clock.now().date())] == [site.id]


def test_an_inspection_sent_through_the_api_closes_the_site_and_shows_its_standards(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, district.county_a))
    site = client.post("/api/sites", json=_site_data().model_dump(mode="json"), headers=manager).json()

    inspected = client.put(
        f"/api/sites/{site['id']}/standards", json={"three_zones_two_channels": False}, headers=manager
    )
    reopened = client.post(f"/api/sites/{site['id']}/reopen", headers=manager)

    assert (site["three_zones_two_channels"], site["central_air_conditioning"]) == (True, False)
    assert inspected.status_code == 200, inspected.text
    shown = inspected.json()
    assert (shown["status"], shown["three_zones_two_channels"], shown["central_air_conditioning"]) == (
        "closed",
        False,
        False,
    )
    assert "三区两通道" in shown["status_reason"]
    assert reopened.status_code == 409 and "三区两通道" in reopened.text
