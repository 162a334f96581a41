"""Loop metrics from the real platform's events: the funnel by local day, where new cases were found,
cut by jurisdiction, and the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.factories import context, login, make_user
from tests.isolation.factories import StayRef, deliver, world_with_floor
from tests.isolation.release_factories import LAST_DAY, release_test_resulted
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.screening.lab_factories import lab_csv, make_people, make_tube, result_row
from tests.tracing.factories import confirm_case
from tests.transfer.factories import PROFILE, TransferWorld, identify_contacts, make_household

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.events import EventRecord
from bihuan.isolation.service import home, release
from bihuan.loop import metrics, service
from bihuan.loop.choices import FoundWhere, Stage
from bihuan.loop.engine import LoopRules, timeline
from bihuan.people.schemas import Page
from bihuan.protocol import TransferCategory
from bihuan.screening.models import Retest
from bihuan.screening.service import followup, results

CLOSE = TransferCategory.CLOSE_CONTACT
ZONE = ZoneInfo("Asia/Shanghai")
DEC_10, DEC_11 = date(2021, 12, 10), date(2021, 12, 11)  # the clock starts at 08:00 local on the 10th
pytestmark = pytest.mark.usefixtures("cheap_argon2")


@pytest.fixture
def two_days(database: Database, clock: SimulatedClock) -> TransferWorld:
    """Two contacts traced and delivered to a site on 10 December; a third traced (queued) on the 11th."""
    world, _ = world_with_floor(database, clock)
    people = [p for _ in range(2) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people, CLOSE)
    clock.advance(timedelta(days=1))
    identify_contacts(database, clock, make_household(database, clock, world.district.building_a, 1), CLOSE)
    return world


def test_the_funnel_counts_who_reached_each_stage_on_each_local_day(
    database: Database, clock: SimulatedClock, two_days: TransferWorld
) -> None:
    with context(database, clock) as ctx:
        f = metrics.funnel(ctx, PROFILE, DEC_10, DEC_11, ZONE)

    first, second = f.days
    moved = (Stage.IDENTIFIED, Stage.QUEUED, Stage.PLANNED, Stage.ARRIVED, Stage.ISOLATED, Stage.RELEASED)
    assert (first.day, [first.reached[s] for s in moved]) == (DEC_10, [2, 2, 2, 2, 2, 0])
    assert (second.day, [second.reached[s] for s in moved]) == (DEC_11, [1, 1, 0, 0, 0, 0])
    assert [second.reached_cumulative[s] for s in moved] == [3, 3, 2, 2, 2, 0]
    assert (first.entered, second.entered, second.entered_cumulative, second.open) == (2, 1, 3, 3)
    assert f.reached[Stage.ISOLATED] == 2 and f.reached[Stage.CONFIRMED] == 0
    with context(database, clock) as ctx:
        later = metrics.funnel(ctx, PROFILE, DEC_11, DEC_11, ZONE)
    [only] = later.days
    assert (only.reached[Stage.ISOLATED], only.reached_cumulative[Stage.ISOLATED]) == (0, 2)  # reached before


def test_funnel_totals_agree_with_the_open_loops_once_some_loops_have_closed(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> None:
    world, stays = at_site
    release_test_resulted(database, clock, stays[0].stay_id, [("negative", "A"), ("negative", "B")])
    clock.set(datetime(2021, 12, 22, 2, 0, tzinfo=UTC))
    with context(database, clock) as ctx:
        assert release.release(ctx, PROFILE, world.near_site, [stays[0].stay_id], LAST_DAY).released
    clock.set(datetime(2021, 12, 30, 1, 0, tzinfo=UTC))
    with context(database, clock) as ctx:
        assert home.end_finished_phases(ctx, date(2021, 12, 30)) == 1

    with context(database, clock) as ctx:
        f = metrics.funnel(ctx, PROFILE, DEC_10, date(2021, 12, 30), ZONE)
        loops = service.open_loops(ctx, PROFILE, clock.now(), page=Page(page=1, page_size=10))

    assert (f.entered, f.closed, f.open) == (loops.entered, loops.closed, loops.open) == (3, 1, 2)
    days = {d.day: d for d in f.days}
    assert days[LAST_DAY].reached[Stage.RELEASED] == 1
    last = days[date(2021, 12, 30)]
    assert (last.reached[Stage.HOME_ENDED], last.closed, last.closed_cumulative, last.open) == (1, 1, 1, 2)
    assert days[date(2021, 12, 29)].open == 3
    assert all(d.entered_cumulative == d.closed_cumulative + d.open for d in f.days)


def _released_then_positive(sampled_at: datetime) -> list[EventRecord]:
    """A contact held at a site from the 10th, a site test sampled at `sampled_at` and positive, released on
    the 20th, confirmed on the 21st."""
    day = timedelta(days=1)
    start = datetime(2021, 12, 10, tzinfo=UTC)

    def ev(kind: EventKind, at: datetime, **facts: Any) -> EventRecord:
        return EventRecord(kind, at, person_id=1, **facts)

    return sorted(
        [
            ev(
                EventKind.ISOLATION_STARTED,
                start,
                subject_type="stay",
                subject_id=9,
                payload={"category": "close_contact"},
            ),
            ev(EventKind.SITE_TEST_SAMPLED, sampled_at, refs={"tubes": [7]}),
            ev(
                EventKind.TEST_RESULTED,
                start + 11 * day,
                subject_type="tube",
                subject_id=7,
                payload={"result": "positive"},
            ),
            ev(EventKind.RELEASED, start + 10 * day, subject_type="stay", subject_id=9),
            ev(EventKind.CASE_CONFIRMED, start + 11 * day, subject_type="case", subject_id=3),
        ],
        key=lambda e: e.occurred_at,
    )


def test_a_case_counts_as_found_in_quarantine_only_if_its_positive_sample_was_taken_during_the_stay() -> None:
    rules = LoopRules.of(PROFILE)
    now = datetime(2021, 12, 25, tzinfo=UTC)
    in_stay = timeline(_released_then_positive(datetime(2021, 12, 19, tzinfo=UTC)), rules, now)
    after = timeline(_released_then_positive(datetime(2021, 12, 20, 6, tzinfo=UTC)), rules, now)

    assert metrics.found_where(in_stay) is FoundWhere.CENTRAL_SITE  # sampled on its last day, confirmed after
    assert metrics.found_where(after) is FoundWhere.COMMUNITY  # sampled once released
    not_confirmed = [e for e in _released_then_positive(now) if e.kind is not EventKind.CASE_CONFIRMED]
    assert metrics.found_where(timeline(not_confirmed, rules, now)) is None


def _community_case(database: Database, clock: SimulatedClock, jurisdiction_id: int) -> int:
    """A screening round's positive pool, its members controlled in place, one re-test positive, confirmed."""
    patient, *_ = members = make_people(database, clock, jurisdiction_id, 3)
    pool = make_tube(database, clock, members)
    clock.advance(timedelta(hours=6))
    with context(database, clock) as ctx:
        results.ingest_lab_file(ctx, "lab.csv", lab_csv([result_row(pool.barcode, "positive")]), timezone=ZONE.key)
        retest = ctx.session.scalars(select(Retest).where(Retest.person_id == patient)).one()
        followup.sample_retest(ctx, retest.id, "RT-9001")
    clock.advance(timedelta(hours=4))
    with context(database, clock) as ctx:
        rows = [result_row("RT-9001", "positive", run_id="RUN-9")]
        results.ingest_lab_file(ctx, "lab2.csv", lab_csv(rows), timezone=ZONE.key)
        (pending,), _ = followup.list_confirmations(ctx, Page(page=1, page_size=5))
        followup.decide_confirmation(ctx, pending.id, "confirmed", timezone=ZONE.key)
    return patient


@pytest.fixture
def two_cases(
    database: Database, clock: SimulatedClock, at_site: tuple[TransferWorld, list[StayRef]]
) -> tuple[TransferWorld, int, int]:
    """On 11 December: a contact held at the site (county A) confirmed, and a case found by a community
    screening round in county B."""
    world, stays = at_site
    clock.advance(timedelta(days=1))
    at_site_case = stays[0].person_id
    confirm_case(database, clock, at_site_case, world.district.building_a)
    return world, at_site_case, _community_case(database, clock, world.district.building_b)


def test_a_contact_confirmed_at_a_site_was_found_in_quarantine_and_a_screening_case_in_the_community(
    database: Database, clock: SimulatedClock, two_cases: tuple[TransferWorld, int, int]
) -> None:
    world, _, _ = two_cases
    with context(database, clock) as ctx:
        found = metrics.found_in_quarantine(ctx, PROFILE, DEC_10, DEC_11, ZONE)
        county_a = metrics.found_in_quarantine(
            ctx, PROFILE, DEC_10, DEC_11, ZONE, jurisdiction_id=world.district.county_a
        )
        county_b = metrics.funnel(ctx, PROFILE, DEC_11, DEC_11, ZONE, jurisdiction_id=world.district.county_b)

    assert (found.confirmed, found.in_quarantine, found.share_in_quarantine) == (2, 1, 0.5)
    assert found.found == {FoundWhere.CENTRAL_SITE: 1, FoundWhere.CONTROLLED_IN_PLACE: 0, FoundWhere.COMMUNITY: 1}
    first, second = found.days
    assert (first.confirmed, second.confirmed, second.in_quarantine) == (0, 2, 1)
    assert (county_a.confirmed, county_a.found[FoundWhere.CENTRAL_SITE]) == (1, 1)
    # county B: the positive pool's three members entered the loop (controlled in place), one was confirmed
    assert (county_b.entered, county_b.reached[Stage.SAMPLED], county_b.reached[Stage.CONFIRMED]) == (3, 3, 1)
    assert county_b.reached[Stage.ISOLATED] == 0


def test_the_api_gives_the_funnel_and_the_found_split_to_its_jurisdiction_only(
    client: TestClient, database: Database, clock: SimulatedClock, two_cases: tuple[TransferWorld, int, int]
) -> None:
    district = two_cases[0].district
    analyst = login(client, make_user(database, clock, Role.ANALYST, district.city))
    county_b = login(client, make_user(database, clock, Role.COMMANDER, district.county_b))
    lab = login(client, make_user(database, clock, Role.LAB, district.county_a))
    window = {"since": "2021-12-10", "until": "2021-12-11"}

    funnel = client.get("/api/loop/funnel", params=window, headers=analyst).json()
    found = client.get("/api/loop/found-in-quarantine", params=window, headers=analyst).json()
    loops = client.get("/api/loop/open", headers=analyst).json()
    theirs = client.get("/api/loop/found-in-quarantine", params=window, headers=county_b).json()

    assert [d["day"] for d in funnel["days"]] == ["2021-12-10", "2021-12-11"]
    assert funnel["days"][0]["reached"]["isolated"] == 3
    assert (funnel["entered"], funnel["closed"], funnel["open"]) == (loops["entered"], loops["closed"], loops["open"])
    assert (found["confirmed"], found["found"]["central_site"], found["found"]["community"]) == (2, 1, 1)
    assert (theirs["confirmed"], theirs["found"]["community"]) == (1, 1)
    outside = {**window, "jurisdiction_id": str(district.county_a)}
    refused = client.get("/api/loop/funnel", params=outside, headers=county_b)
    assert refused.status_code == 422 and "jurisdiction_id" in str(refused.json())
    backwards = client.get("/api/loop/funnel", params={"since": "2021-12-11", "until": "2021-12-10"}, headers=analyst)
    assert backwards.status_code == 422 and "since" in str(backwards.json())
    assert client.get("/api/loop/funnel", headers=lab).status_code == 403
