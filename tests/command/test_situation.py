"""The situation (态势) of a day, read as a commander relies on it: the epi curve by onset and by report
day split into found in quarantine and in the community, the loop's own counts behind every figure, the
map, the incident's reporting cadence, one jurisdiction only, and the live stream that says "changed"."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.command.factories import activate, actor
from tests.factories import context, login, make_user
from tests.isolation.factories import StayRef
from tests.isolation.release_factories import at_site  # noqa: F401
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.tracing.factories import confirm_case
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.command.situation import situation
from bihuan.command.situation_schemas import SituationPublic
from bihuan.core.choices import Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.context import Actor
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.loop import metrics
from bihuan.loop.choices import FoundWhere
from bihuan.tracing.models import Investigation

ZONE = ZoneInfo("Asia/Shanghai")
DEC_9, DEC_10, DEC_11 = date(2021, 12, 9), date(2021, 12, 10), date(2021, 12, 11)
pytestmark = pytest.mark.usefixtures("cheap_argon2")


def _onset_found(database: Database, person_id: int, onset: date) -> None:
    """The investigator learns the case's onset day (the case was reported without one)."""
    with database.session() as session:
        investigation = session.scalars(select(Investigation).where(Investigation.person_id == person_id)).one()
        investigation.onset_date = onset


@pytest.fixture
def outbreak(
    database: Database,
    clock: SimulatedClock,
    at_site: tuple[TransferWorld, list[StayRef]],  # noqa: F811
) -> tuple[TransferWorld, int, int, int]:
    """On 11 December: a contact held at the site in county A confirmed (onset the 10th); in county B, a
    resident under no control confirmed without an onset, which the investigation then puts on the 9th,
    and an asymptomatic resident confirmed."""
    world, stays = at_site
    clock.advance(timedelta(days=1))
    confirm_case(database, clock, stays[0].person_id, world.district.building_a, onset=DEC_10)
    resident, asymptomatic = make_household(database, clock, world.district.building_b, 2)
    confirm_case(database, clock, resident, world.district.building_b, onset=None)
    _onset_found(database, resident, DEC_9)
    confirm_case(database, clock, asymptomatic, world.district.building_b, onset=None)
    return world, stays[0].person_id, resident, asymptomatic


def _read(
    database: Database,
    clock: SimulatedClock,
    who: Actor | None = None,
    *,
    day: date | None = None,
    jurisdiction_id: int | None = None,
    days: int | None = None,
) -> SituationPublic:
    with context(database, clock, *([who] if who else [])) as ctx:
        return situation(ctx, PROFILE, clock.now(), day=day, jurisdiction_id=jurisdiction_id, days=days, zone=ZONE)


def test_the_epi_curve_splits_a_case_found_at_a_site_from_ones_found_in_the_community_by_onset_and_report_day(
    database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    s = _read(database, clock, days=3)

    days = {d.day: d for d in s.epi_curve.days}
    assert list(days) == [DEC_9, DEC_10, DEC_11] and (s.since, s.until, s.day) == (DEC_9, DEC_11, DEC_11)
    assert [(d.by_report.quarantine, d.by_report.community) for d in days.values()] == [(0, 0), (0, 0), (1, 2)]
    assert (days[DEC_10].by_onset.quarantine, days[DEC_10].by_onset.community) == (1, 0)
    assert (days[DEC_9].by_onset.quarantine, days[DEC_9].by_onset.community) == (0, 1)  # the investigation's onset
    assert days[DEC_11].no_onset.community == 1 and s.epi_curve.no_onset.community == 1  # the asymptomatic case
    assert (s.headline.new_cases.quarantine, s.headline.new_cases.community, s.headline.cumulative_cases) == (1, 2, 3)

    one_day = _read(database, clock, days=1)
    assert (one_day.epi_curve.onset_before.quarantine, one_day.epi_curve.onset_before.community) == (1, 1)
    assert [d.day for d in one_day.epi_curve.days] == [DEC_11]


def test_every_figure_is_the_loops_own_count(
    database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    s = _read(database, clock, days=2)
    with context(database, clock) as ctx:
        found = metrics.found_in_quarantine(ctx, PROFILE, DEC_10, DEC_11, ZONE)
        funnel = metrics.funnel(ctx, PROFILE, DEC_11, DEC_11, ZONE)

    assert s.epi_curve.reported.quarantine == found.in_quarantine == 1
    assert s.epi_curve.reported.community == found.found[FoundWhere.COMMUNITY] == 2
    assert (s.loops.entered, s.loops.closed, s.loops.open) == (funnel.entered, funnel.closed, funnel.open)
    assert {row.stage: row.cumulative for row in s.funnel.stages} == funnel.days[0].reached_cumulative
    assert s.headline.isolated == 3 and s.headline.contacts_identified == 3  # the three contacts at the site
    assert s.loops.overdue is not None


def test_the_map_puts_cases_where_they_live_and_shows_sites_to_those_who_may_read_them(
    database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    world, at_site_case, resident, _ = outbreak
    investigator = actor(database, clock, make_user(database, clock, Role.INVESTIGATOR, world.district.city))

    s = _read(database, clock)
    theirs = _read(database, clock, investigator)

    found = {c.person_id: c.found for c in s.map.cases}
    assert found[at_site_case] is FoundWhere.CENTRAL_SITE and found[resident] is FoundWhere.COMMUNITY
    assert len(s.map.cases) + s.map.cases_without_location == 3
    [site] = [x for x in s.map.sites if x.site_id == world.near_site]
    assert (site.used, site.free + site.used) == (3, site.total)
    assert theirs.map.sites == [] and len(theirs.map.cases) == len(s.map.cases)  # no READ_TRANSFER: no sites


def test_a_user_sees_only_their_jurisdiction(
    database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    world, at_site_case, _, _ = outbreak
    county_b = actor(database, clock, make_user(database, clock, Role.COMMANDER, world.district.county_b))

    theirs = _read(database, clock, county_b)

    assert (theirs.headline.new_cases.quarantine, theirs.headline.new_cases.community) == (0, 2)
    assert at_site_case not in {c.person_id for c in theirs.map.cases}
    assert theirs.jurisdiction_name and theirs.headline.isolated == 0
    with pytest.raises(FieldError, match="jurisdiction_id"):
        _read(database, clock, county_b, jurisdiction_id=world.district.county_a)
    narrowed = _read(database, clock, jurisdiction_id=world.district.county_a)
    assert (narrowed.headline.new_cases.quarantine, narrowed.headline.new_cases.community) == (1, 0)


def test_a_past_day_is_read_as_it_stood_and_a_future_day_is_refused(
    database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    s = _read(database, clock, day=DEC_10)

    assert s.as_of == datetime(2021, 12, 11, tzinfo=ZONE) and s.headline.new_cases_total == 0
    assert s.headline.cumulative_cases == 0 and s.headline.isolated == 3
    assert s.loops.overdue is None  # the open loops' standing is of now only
    with pytest.raises(FieldError, match="day"):
        _read(database, clock, day=DEC_11 + timedelta(days=1))
    with pytest.raises(FieldError, match="days"):
        _read(database, clock, days=0)


def test_the_reporting_cadence_is_the_incidents_in_wartime_and_the_profiles_in_peacetime(
    database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    world = outbreak[0]
    peacetime = _read(database, clock)
    incident = activate(database, clock, world.district.county_a)

    wartime = _read(database, clock, jurisdiction_id=world.district.county_a)
    elsewhere = _read(database, clock, jurisdiction_id=world.district.county_b)

    assert peacetime.incident is None and peacetime.report_every_hours == PROFILE.command.peacetime_report_hours
    assert wartime.incident is not None and wartime.incident.id == incident.id
    assert wartime.report_every_hours == PROFILE.command.wartime_report_hours
    assert elsewhere.incident is None  # county B is not under county A's incident


def test_the_api_gives_the_same_document_to_its_jurisdiction_only(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    district = outbreak[0].district
    analyst_name = make_user(database, clock, Role.ANALYST, district.city)
    analyst = login(client, analyst_name)
    county_b = login(client, make_user(database, clock, Role.COMMANDER, district.county_b))
    lab = login(client, make_user(database, clock, Role.LAB, district.county_a))

    api = client.get("/api/situation", params={"days": "3"}, headers=analyst).json()
    theirs = client.get("/api/situation", headers=county_b).json()

    assert api == _read(database, clock, actor(database, clock, analyst_name), days=3).model_dump(mode="json")
    assert api["epi_curve"]["days"][-1]["by_report"] == {"quarantine": 1, "community": 2}
    assert theirs["headline"]["new_cases"] == {"quarantine": 0, "community": 2}
    outside = client.get("/api/situation", params={"jurisdiction_id": str(district.county_a)}, headers=county_b)
    assert outside.status_code == 422 and "jurisdiction_id" in outside.text
    assert client.get("/api/situation", params={"day": "2021-12-12"}, headers=analyst).status_code == 422
    assert client.get("/api/situation", headers=lab).status_code == 403


def _events(client: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, str]]:
    """The stream's messages until it ends (asked to end after one change)."""
    messages: list[dict[str, str]] = []
    current: dict[str, str] = {}
    with client.stream("GET", "/api/situation/stream", params={"max_events": "1", **params}, headers=headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if not line:
                if current:
                    messages.append(current)
                current = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                current[key] = value.strip()
    return messages


def test_the_stream_says_changed_after_a_new_event_in_the_users_jurisdiction(
    client: TestClient, database: Database, clock: SimulatedClock, outbreak: tuple[TransferWorld, int, int, int]
) -> None:
    district = outbreak[0].district
    commander = login(client, make_user(database, clock, Role.COMMANDER, district.county_b))
    before = client.get("/api/situation", headers=commander).json()["latest_event_id"]
    [elsewhere] = make_household(database, clock, district.building_a, 1)
    confirm_case(database, clock, elsewhere, district.building_a)
    assert client.get("/api/situation", headers=commander).json()["latest_event_id"] == before  # not theirs

    [resident] = make_household(database, clock, district.building_b, 1)
    confirm_case(database, clock, resident, district.building_b)
    *_, changed = _events(client, commander, after=str(before))

    assert changed["event"] == "changed"
    latest = json.loads(changed["data"])["latest_event_id"]
    assert int(changed["id"]) == latest > before
    assert client.get("/api/situation", headers=commander).json()["latest_event_id"] == latest
