"""Health monitoring at sites (体温监测): a floor's round entered at once, bad input refused, alerts raised."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.factories import context, count_statements, login, make_user
from tests.isolation.factories import CLOSE, StayRef, deliver, large_site, stays_at, world_with_floor
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import PROFILE, TransferWorld, make_household

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.isolation import service as sites
from bihuan.isolation._temperature import TemperatureRefused, read_symptoms, read_temperature
from bihuan.isolation.health_schemas import AlertKind, TemperatureIn
from bihuan.isolation.models import HealthAlert, TemperatureReading

ZONE = ZoneInfo("Asia/Shanghai")
RULES = PROFILE.sites
LOW, HIGH = RULES.body_temperature_celsius


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def refusal(value: str | float, unit: str | None = None) -> str:
    with pytest.raises(TemperatureRefused) as refused:
        read_temperature(value, unit, RULES)
    return refused.value.reason


# ---------------------------------------------------------------- reading a typed temperature


@pytest.mark.parametrize("typed", ["36.5", 36.5, "36,5", " 36.5 ", "36.5C", "36.5 °C", "３６．５℃", "36.5度"])
def test_a_celsius_reading_is_taken_as_typed(typed: str | float) -> None:
    assert read_temperature(typed, None, RULES) == (36.5, None)


@pytest.mark.parametrize(("typed", "unit"), [("98.6F", None), ("98.6 °F", None), (98.6, "F"), ("98.6", "F")])
def test_fahrenheit_is_converted_with_a_message(typed: str | float, unit: str | None) -> None:
    assert read_temperature(typed, unit, RULES) == (37.0, "98.6 °F converted to 37.0 °C")


def test_a_lost_decimal_point_is_refused_naming_the_value() -> None:
    assert refusal(365) == "365 looks like 36.5 without its decimal point: re-enter it"
    assert refusal("3650") == "3650 looks like 36.5 without its decimal point: re-enter it"


def test_a_misplaced_decimal_point_is_refused_naming_the_value() -> None:
    assert refusal(3.65) == "3.65 looks like 36.5 with the decimal point misplaced: re-enter it"
    assert refusal("365.0").startswith("365.0 looks like 36.5 with the decimal point misplaced")


def test_fahrenheit_without_its_unit_is_refused_not_converted() -> None:
    assert (
        refusal(98.6)
        == "98.6 looks like °F (37.0 °C), outside the human body range 34–43 °C in °C: send it with unit F"
    )
    assert "send it with unit F, not C" in refusal(98.6, "C")


def test_a_fahrenheit_reading_outside_the_range_once_converted_is_refused() -> None:
    assert refusal(50, "F") == "50 °F is 10.0 °C, outside the human body range 34–43 °C: re-enter it"
    assert refusal("36.5F").endswith("if it was 36.5 °C, send it with unit C")


def test_a_unit_typed_that_contradicts_the_unit_sent_is_refused() -> None:
    assert refusal("98.6F", "C") == "98.6 is marked °F but the unit sent is °C: send one unit"


def test_a_value_outside_the_body_range_is_refused() -> None:
    assert refusal(45) == "45 °C is outside the human body range 34–43 °C: re-enter it"
    assert refusal("33.9") == "33.9 °C is outside the human body range 34–43 °C: re-enter it"


@pytest.mark.parametrize("typed", ["", "abc", "36.5.1", "36-5", "1,000.5", True, math.nan, math.inf, "36.5 K"])
def test_what_is_not_a_number_is_refused(typed: str | float) -> None:
    assert "temperature" in refusal(typed)


def test_an_unknown_unit_is_refused() -> None:
    assert refusal(36.5, "K") == "unit K is not known: send C or F"


def test_the_body_range_is_the_profiles() -> None:
    narrow = RULES.model_copy(update={"body_temperature_celsius": (35.0, 42.0)})
    with pytest.raises(TemperatureRefused, match="outside the human body range 35–42 °C"):
        read_temperature(42.5, None, narrow)
    assert read_temperature(42.5, None, RULES) == (42.5, None)


@pytest.mark.parametrize("written", ["F", "f", "°F", " ℉ "])
def test_a_unit_is_read_however_it_is_written(written: str) -> None:
    assert TemperatureIn.model_validate({"stay_id": 1, "value": "98.6", "unit": written}).unit == "F"


def test_symptoms_are_trimmed_each_once_and_a_word_for_none_is_refused() -> None:
    assert read_symptoms([" 咳嗽", "咳嗽", "fatigue "]) == ["咳嗽", "fatigue"]
    with pytest.raises(TemperatureRefused) as refused:
        read_symptoms(["咳嗽", "无"])
    assert refused.value.index == 1 and "send an empty list" in refused.value.reason


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=LOW, max_value=HIGH))
def test_any_celsius_in_the_body_range_is_kept_as_it_is(celsius: float) -> None:
    assert read_temperature(celsius, None, RULES) == (celsius, None)
    assert read_temperature(repr(celsius), "C", RULES) == (celsius, None)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=LOW * 9 / 5 + 32, max_value=HIGH * 9 / 5 + 32))
def test_any_fahrenheit_in_the_body_range_converts_within_a_twentieth_of_a_degree(fahrenheit: float) -> None:
    celsius, message = read_temperature(fahrenheit, "F", RULES)
    assert abs(celsius - (fahrenheit - 32) * 5 / 9) <= 0.05 + 1e-9
    assert LOW <= celsius <= HIGH and message is not None and message.endswith(f"converted to {celsius:.1f} °C")


# ---------------------------------------------------------------- a round of checks at a site


@pytest.fixture
def floor(database: Database, clock: SimulatedClock) -> tuple[TransferWorld, int, list[StayRef]]:
    """Four close contacts delivered to a site's floor A-3 at 08:00 on the 10th, one per room; now 10:00."""
    world, floor_id = world_with_floor(database, clock)
    people = [p for _ in range(4) for p in make_household(database, clock, world.district.building_a, 1)]
    deliver(database, clock, people, CLOSE)
    clock.advance(timedelta(hours=2))
    return world, floor_id, stays_at(database, world.near_site)


def reading(stay: StayRef, value: str | float, **fields: object) -> TemperatureIn:
    return TemperatureIn.model_validate({"stay_id": stay.stay_id, "value": value, **fields})


def _count(database: Database, model: type[TemperatureReading] | type[HealthAlert]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count(model.id))) or 0


def _events(database: Database, kind: EventKind) -> list[Event]:
    with database.session() as session:
        return list(session.scalars(select(Event).where(Event.kind == kind.value).order_by(Event.id)))


def test_a_floors_readings_are_entered_in_one_request(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, floor_id, stays = floor
    values = ["36.5", "36,8", 36.4, "36.6"]
    with context(database, clock) as ctx:
        done = sites.record_temperatures(
            ctx, PROFILE, world.near_site, [reading(s, v) for s, v in zip(stays, values, strict=True)]
        )
        sheet = sites.floor_sheet(ctx, world.near_site, floor_id, date(2021, 12, 10), ZONE)

    assert (done.stored, done.unchanged, done.alerts_raised, done.conversions) == (4, 0, 0, [])
    assert [[r.celsius for r in p.readings] for room in sheet.rooms for p in room.people] == [
        [36.5],
        [36.8],
        [36.4],
        [36.6],
    ]
    recorded = _events(database, EventKind.HEALTH_CHECK_RECORDED)
    assert sorted(e.subject_id for e in recorded) == sorted(s.stay_id for s in stays)


def test_a_person_named_by_person_id_is_found_in_their_stay(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    with context(database, clock) as ctx:
        done = sites.record_temperatures(
            ctx, PROFILE, world.near_site, [TemperatureIn(person_id=stays[0].person_id, value="36.6")]
        )
    assert done.stored == 1
    with database.session() as session:
        assert session.scalar(select(TemperatureReading.stay_id)) == stays[0].stay_id


def test_98_6_fahrenheit_is_stored_as_37_celsius_with_a_message(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    with context(database, clock) as ctx:
        done = sites.record_temperatures(ctx, PROFILE, world.near_site, [reading(stays[0], "98.6 °F")])
    assert [(c.field, c.message) for c in done.conversions] == [("readings[0].value", "98.6 °F converted to 37.0 °C")]
    with database.session() as session:
        assert session.execute(select(TemperatureReading.celsius, TemperatureReading.entered)).one() == (
            37.0,
            "98.6 °F",
        )


def test_365_and_3_65_refuse_the_whole_request_naming_the_field_and_nothing_is_stored(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    round_ = [reading(stays[0], "36.5"), reading(stays[1], 365), reading(stays[2], "3.65")]
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.record_temperatures(ctx, PROFILE, world.near_site, round_)
    assert refused.value.field == "readings[1].value"
    assert refused.value.reason.startswith("365 looks like 36.5 without its decimal point: re-enter it")
    assert refused.value.reason.endswith("(1 other reading refused too)")

    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.record_temperatures(ctx, PROFILE, world.near_site, [reading(stays[2], "3.65")])
    assert refused.value.field == "readings[0].value" and "3.65 looks like 36.5 with the decimal point misplaced" in (
        refused.value.reason
    )
    assert _count(database, TemperatureReading) == 0 and _events(database, EventKind.HEALTH_CHECK_RECORDED) == []


def test_a_fever_raises_one_alert_and_sending_the_round_again_changes_nothing(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    at = local(date(2021, 12, 10), 9).isoformat()
    round_ = [reading(stays[0], "37.3", measured_at=at), reading(stays[1], "36.5", measured_at=at)]
    with context(database, clock) as ctx:
        first = sites.record_temperatures(ctx, PROFILE, world.near_site, round_)
    with context(database, clock) as ctx:
        again = sites.record_temperatures(ctx, PROFILE, world.near_site, round_)
        alerts = sites.list_alerts(ctx, world.near_site)

    assert (first.stored, first.alerts_raised) == (2, 1) and (again.stored, again.unchanged, again.alerts_raised) == (
        0,
        2,
        0,
    )
    [alert] = alerts
    assert (alert.stay_id, alert.kind, alert.detail) == (
        stays[0].stay_id,
        AlertKind.FEVER,
        "37.3 °C (fever from 37.3 °C)",
    )
    assert alert.room_id == stays[0].room_id and alert.room_number is not None
    assert _count(database, TemperatureReading) == 2 and len(_events(database, EventKind.HEALTH_ALERT_RAISED)) == 1


def test_a_different_reading_for_the_same_time_is_refused_not_taken_as_a_resend(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    at = local(date(2021, 12, 10), 9).isoformat()
    with context(database, clock) as ctx:
        sites.record_temperatures(ctx, PROFILE, world.near_site, [reading(stays[0], "36.5", measured_at=at)])
    with context(database, clock) as ctx, pytest.raises(FieldError, match=r"already has 36\.5 °C") as refused:
        sites.record_temperatures(ctx, PROFILE, world.near_site, [reading(stays[0], "36.9", measured_at=at)])
    assert refused.value.field == "readings[0].value" and _count(database, TemperatureReading) == 1


def test_symptoms_without_fever_raise_a_symptoms_alert_until_it_is_resolved(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    with context(database, clock) as ctx:
        done = sites.record_temperatures(
            ctx, PROFILE, world.near_site, [reading(stays[0], "36.6", symptoms=["咳嗽", "乏力"])]
        )
        [alert] = sites.list_alerts(ctx, world.near_site)
        resolved = sites.resolve_alert(ctx, alert.id, "seen by the site doctor: observe")
        still_open = sites.list_alerts(ctx, world.near_site)
        every = sites.list_alerts(ctx, world.near_site, open_only=False)
    assert done.alerts_raised == 1 and (alert.kind, alert.detail) == (AlertKind.SYMPTOMS, "咳嗽, 乏力")
    assert resolved.resolved_at == clock.now() and resolved.resolved_by == "system"
    assert still_open == [] and [a.id for a in every] == [alert.id]
    [event] = _events(database, EventKind.HEALTH_ALERT_RESOLVED)
    assert event.payload["note"] == "seen by the site doctor: observe"


def test_someone_not_in_a_stay_at_the_site_refuses_the_request_naming_the_reading(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    stranger = make_household(database, clock, world.district.building_a, 1)[0]
    round_ = [reading(stays[0], "36.5"), TemperatureIn(person_id=stranger, value="36.5")]
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.record_temperatures(ctx, PROFILE, world.near_site, round_)
    assert refused.value.field == "readings[1].person_id" and "is not in a stay at site" in refused.value.reason
    assert _count(database, TemperatureReading) == 0


def test_a_time_without_its_offset_is_local_when_a_zone_is_given_and_refused_otherwise(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    naive = [reading(stays[0], "36.5", measured_at="2021-12-10T09:00:00")]
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        sites.record_temperatures(ctx, PROFILE, world.near_site, naive)
    assert refused.value.field == "readings[0].measured_at"
    with context(database, clock) as ctx:
        sites.record_temperatures(ctx, PROFILE, world.near_site, naive, zone=ZONE)
    with database.session() as session:
        assert session.scalar(select(TemperatureReading.measured_at)) == datetime(2021, 12, 10, 1, tzinfo=UTC)


def test_a_person_with_one_reading_by_the_end_of_the_day_gets_one_missing_alert(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    day = date(2021, 12, 11)  # the first whole day at the site
    clock.advance(timedelta(hours=23))  # 09:00 on the 11th
    morning = [reading(s, "36.5") for s in stays]
    with context(database, clock) as ctx:
        sites.record_temperatures(ctx, PROFILE, world.near_site, morning)
    clock.advance(timedelta(hours=6))  # 15:00: the afternoon check is taken for all but the first
    with context(database, clock) as ctx:
        sites.record_temperatures(ctx, PROFILE, world.near_site, [reading(s, "36.6") for s in stays[1:]])
        assert sites.missing_measurements(ctx, PROFILE, world.near_site, day, clock.now(), ZONE) == []
    clock.advance(timedelta(hours=9))  # 00:00 on the 12th: the day is over
    with context(database, clock) as ctx:
        first = sites.raise_missing_alerts(ctx, PROFILE, world.near_site, day, ZONE)
    with context(database, clock) as ctx:
        again = sites.raise_missing_alerts(ctx, PROFILE, world.near_site, day, ZONE)

    assert (first.raised, again.raised) == (1, 0)
    assert [(a.stay_id, a.kind, a.detail) for a in again.data] == [
        (stays[0].stay_id, AlertKind.MISSING, "2021-12-11: 1 of 2 temperature checks taken")
    ]


def test_someone_arriving_in_the_morning_owes_only_the_afternoon_check_that_day(
    database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor  # arrived at 08:00 on the 10th
    clock.advance(timedelta(hours=4))  # 14:00
    with context(database, clock) as ctx:
        sites.record_temperatures(ctx, PROFILE, world.near_site, [reading(s, "36.5") for s in stays[1:]])
    end_of_day = local(date(2021, 12, 11), 0)
    with context(database, clock) as ctx:
        missing = sites.missing_measurements(ctx, PROFILE, world.near_site, date(2021, 12, 10), end_of_day, ZONE)
    assert [(m.stay_id, m.taken, m.due) for m in missing] == [(stays[0].stay_id, 0, 1)]


def test_a_2000_room_sites_round_costs_the_same_statements_as_a_floors(
    database: Database, clock: SimulatedClock
) -> None:
    site_id, stays = large_site(database, clock, rooms=2000)
    sizes = {}
    for name, hour, chosen in (("floor", 9, stays[:20]), ("site", 15, stays)):
        at = local(date(2021, 12, 10), hour).isoformat()
        round_ = [reading(s, "36.5", measured_at=at) for s in chosen]
        clock.advance(timedelta(hours=7))
        with count_statements(database) as statements, context(database, clock) as ctx:
            done = sites.record_temperatures(ctx, PROFILE, site_id, round_)
        assert done.stored == len(chosen)
        sizes[name] = len(statements)
    assert sizes["floor"] == sizes["site"]
    assert _count(database, TemperatureReading) == 2020


# ---------------------------------------------------------------- through the API


@pytest.mark.usefixtures("cheap_argon2")
def test_a_site_manager_enters_a_round_reads_the_sheet_and_resolves_the_fever_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, floor_id, stays = floor
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    api = f"/api/sites/{world.near_site}"
    round_ = {
        "readings": [
            {"stay_id": stays[0].stay_id, "value": "38.2", "symptoms": ["咳嗽"], "measured_at": "2021-12-10T09:00"},
            {"stay_id": stays[1].stay_id, "value": "98.6", "unit": "F", "measured_at": "2021-12-10T09:00"},
        ]
    }
    bad = {"readings": [round_["readings"][1], {"stay_id": stays[2].stay_id, "value": 365}]}

    refused = client.post(f"{api}/temperatures", json=bad, headers=manager)
    entered = client.post(f"{api}/temperatures", json=round_, headers=manager)
    sheet = client.get(f"{api}/floors/{floor_id}/sheet?day=2021-12-10", headers=manager).json()
    [alert] = client.get(f"{api}/alerts", headers=manager).json()["data"]
    resolved = client.post(f"{api}/alerts/{alert['id']}/resolve", json={"note": "to hospital"}, headers=manager)

    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "readings[1].value"]
    assert entered.status_code == 200, entered.text
    assert entered.json() | {"conversions": None} == {
        "stored": 2,
        "unchanged": 0,
        "alerts_raised": 1,
        "conversions": None,
    }
    assert entered.json()["conversions"][0]["message"] == "98.6 °F converted to 37.0 °C"
    people = {p["stay_id"]: p for room in sheet["rooms"] for p in room["people"]}
    assert people[stays[0].stay_id]["open_alerts"] == ["fever"]
    assert [r["celsius"] for r in people[stays[1].stay_id]["readings"]] == [37.0]
    assert alert["kind"] == "fever" and alert["detail"] == "38.2 °C (fever from 37.3 °C); 咳嗽"
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] != ""
    assert client.get(f"{api}/alerts", headers=manager).json()["count"] == 0


@pytest.mark.usefixtures("cheap_argon2")
def test_the_missing_checks_of_a_day_are_raised_once_through_the_api(
    client: TestClient, database: Database, clock: SimulatedClock, floor: tuple[TransferWorld, int, list[StayRef]]
) -> None:
    world, _, stays = floor
    clock.advance(timedelta(days=2))  # the 12th: the 11th is over, and nobody's checks were entered
    manager = login(client, make_user(database, clock, Role.SITE_MANAGER, world.district.county_a))
    first = client.post(f"/api/sites/{world.near_site}/missing-checks?day=2021-12-11", headers=manager)
    again = client.post(f"/api/sites/{world.near_site}/missing-checks?day=2021-12-11", headers=manager)
    assert first.status_code == 200, first.text
    assert (first.json()["raised"], again.json()["raised"], again.json()["count"]) == (len(stays), 0, len(stays))
