"""Site checklists (表格化清单式管理): a day's sheet from the work manual, checks per shift, overdue alerts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories import context, count_statements, login, make_district, make_user
from tests.screening.campaign_factories import cheap_argon2  # noqa: F401
from tests.transfer.factories import PROFILE, SHANGYU, add_site

from bihuan.core.choices import EventKind, Role
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.core.errors import FieldError
from bihuan.core.events import Event
from bihuan.isolation import service
from bihuan.isolation.checklist_models import ChecklistAlert, ChecklistEntry, ChecklistTemplate
from bihuan.isolation.checklist_schemas import CheckIn, CheckStatus, TemplateIn
from bihuan.isolation.service.checklists import default_manual
from bihuan.protocol import TransferCategory

ZONE = ZoneInfo("Asia/Shanghai")
DAY = date(2021, 12, 10)  # the drill starts at 08:00 local on this day, as the day shift begins
MANUAL = default_manual()[0]
DAY_ITEMS = [item.code for item in MANUAL.items]  # every default item is due in the day shift
NIGHT_ITEMS = [item.code for item in MANUAL.items if not item.shifts or "night" in item.shifts]


def _site(database: Database, clock: SimulatedClock) -> int:
    return add_site(database, clock, "百官隔离酒店", SHANGYU, {TransferCategory.CLOSE_CONTACT: 50})


def _checks(shift: str, items: list[str], status: CheckStatus = CheckStatus.DONE, note: str = "") -> list[CheckIn]:
    return [CheckIn(template=MANUAL.code, item=item, day=DAY, shift=shift, status=status, note=note) for item in items]


def _count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_default_manual_installs_once(database: Database, clock: SimulatedClock) -> None:
    with context(database, clock) as ctx:
        first = service.install_default_manual(ctx)
    with context(database, clock) as ctx:
        again = service.install_default_manual(ctx)
    assert [t.id for t in first] == [t.id for t in again]
    assert _count(database, ChecklistTemplate) == len(default_manual())
    assert {item.code for item in MANUAL.items} >= {"disinfect_public_areas", "medical_waste", "staff_ppe"}
    assert all(item.text and item.text_en for item in MANUAL.items)


def test_a_sites_own_template_joins_the_default_manual_and_a_changed_one_is_a_new_version(
    database: Database, clock: SimulatedClock
) -> None:
    site = _site(database, clock)
    own = TemplateIn(code="kitchen", title="厨房", items=[{"code": "fridge", "text": "冰箱温度", "shifts": ["day"]}])
    changed = own.model_copy(update={"title": "厨房清单"})
    with context(database, clock) as ctx:
        first = service.add_template(ctx, PROFILE, site, own)
        same = service.add_template(ctx, PROFILE, site, own)
        second = service.add_template(ctx, PROFILE, site, changed)
        manual = service.site_manual(ctx, site)
    assert first.id == same.id and (first.version, second.version) == (1, 2)
    assert [t.code for t in manual] == [MANUAL.code, "kitchen"]
    assert manual[1].id == second.id


def test_a_template_naming_a_shift_the_profile_lacks_is_refused(database: Database, clock: SimulatedClock) -> None:
    site = _site(database, clock)
    bad = TemplateIn(code="odd", title="?", items=[{"code": "x", "text": "x", "shifts": ["day", "evening"]}])
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        service.add_template(ctx, PROFILE, site, bad)
    assert refused.value.field == "items[0].shifts[1]"


def test_a_day_sheet_lists_every_item_per_shift(database: Database, clock: SimulatedClock) -> None:
    site = _site(database, clock)
    with context(database, clock) as ctx:
        sheet = service.day_sheet(ctx, PROFILE, site, DAY, ZONE)
    assert sheet.count == len(DAY_ITEMS) + len(NIGHT_ITEMS)
    assert [line.item for line in sheet.lines if line.shift == "day"] == DAY_ITEMS
    assert [line.item for line in sheet.lines if line.shift == "night"] == NIGHT_ITEMS
    assert "staff_nucleic_acid_tests" not in NIGHT_ITEMS
    assert all(line.status is None and not line.overdue for line in sheet.lines)
    day_due = next(line.due_by for line in sheet.lines if line.shift == "day")
    assert day_due == datetime(2021, 12, 10, 21, 0, tzinfo=ZONE)  # 20:00 plus the profile's hour of grace


def test_a_shifts_checks_are_recorded_at_once_and_resending_them_is_harmless(
    database: Database, clock: SimulatedClock
) -> None:
    site = _site(database, clock)
    with context(database, clock) as ctx:
        first = service.record_checks(ctx, PROFILE, site, _checks("day", DAY_ITEMS), ZONE)
    with context(database, clock) as ctx:
        again = service.record_checks(ctx, PROFILE, site, _checks("day", DAY_ITEMS), ZONE)
        sheet = service.day_sheet(ctx, PROFILE, site, DAY, ZONE)
    assert (first.recorded, first.corrected, first.unchanged) == (len(DAY_ITEMS), 0, 0)
    assert (again.recorded, again.corrected, again.unchanged) == (0, 0, len(DAY_ITEMS))
    assert _count(database, ChecklistEntry) == len(DAY_ITEMS)
    assert sheet.settled == len(DAY_ITEMS)
    assert {line.done_by for line in sheet.lines if line.shift == "day"} == {"system"}
    with database.session() as session:
        kinds = session.scalars(select(Event.kind).where(Event.kind == EventKind.CHECKLIST_RECORDED.value)).all()
    assert len(kinds) == len(DAY_ITEMS)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"item": "polish_the_lobby"}, "entries[1].item"),
        ({"template": "no_such_list"}, "entries[1].template"),
        ({"shift": "evening"}, "entries[1].shift"),
        ({"shift": "night", "item": "staff_nucleic_acid_tests"}, "entries[1].shift"),
        ({"day": DAY + timedelta(days=1)}, "entries[1].day"),
    ],
)
def test_a_bad_check_is_refused_naming_its_field_and_nothing_is_stored(
    database: Database, clock: SimulatedClock, bad: dict[str, object], field: str
) -> None:
    site = _site(database, clock)
    entries = _checks("day", DAY_ITEMS[:3])
    entries[1] = entries[1].model_copy(update=bad)
    with context(database, clock) as ctx, pytest.raises(FieldError) as refused:
        service.record_checks(ctx, PROFILE, site, entries, ZONE)
    assert refused.value.field == field
    assert _count(database, ChecklistEntry) == 0


def test_items_left_undone_after_the_shift_raise_one_alert_each_and_raising_again_changes_nothing(
    database: Database, clock: SimulatedClock
) -> None:
    site = _site(database, clock)
    done = DAY_ITEMS[:5]
    with context(database, clock) as ctx:
        service.record_checks(ctx, PROFILE, site, _checks("day", done), ZONE)
        service.record_checks(ctx, PROFILE, site, _checks("day", DAY_ITEMS[5:6], CheckStatus.NOT_DONE), ZONE)
        assert service.overdue(ctx, PROFILE, site, clock.now(), ZONE) == []  # the shift has not ended
    clock.set(datetime(2021, 12, 10, 21, 30, tzinfo=ZONE))  # the day shift ended, the grace passed
    with context(database, clock) as ctx:
        late = service.overdue(ctx, PROFILE, site, clock.now(), ZONE)
        raised = service.raise_overdue_alerts(ctx, PROFILE, site, clock.now(), ZONE)
    with context(database, clock) as ctx:
        again = service.raise_overdue_alerts(ctx, PROFILE, site, clock.now(), ZONE)
    undone = DAY_ITEMS[5:]
    assert [(item.item, item.shift) for item in late] == [(item, "day") for item in undone]
    assert raised.raised == len(undone) and again.raised == 0
    assert [alert.item for alert in again.open] == undone
    assert _count(database, ChecklistAlert) == len(undone)
    with database.session() as session:
        overdue_events = session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == EventKind.CHECKLIST_OVERDUE.value)
        )
    assert overdue_events == len(undone)

    with context(database, clock) as ctx:  # done late: the alert is resolved, its history kept
        late_check = service.record_checks(ctx, PROFILE, site, _checks("day", undone[:1]), ZONE)
        still_open = service.open_alerts(ctx, site)
    assert late_check.alerts_resolved == 1 and late_check.corrected == 1
    assert [alert.item for alert in still_open] == undone[1:]


def test_a_correction_keeps_the_earlier_record(database: Database, clock: SimulatedClock) -> None:
    site = _site(database, clock)
    item = DAY_ITEMS[:1]
    with context(database, clock) as ctx:
        service.record_checks(ctx, PROFILE, site, _checks("day", item, CheckStatus.NOT_DONE, "no disinfectant"), ZONE)
    clock.advance(timedelta(hours=2))
    with context(database, clock) as ctx:
        corrected = service.record_checks(ctx, PROFILE, site, _checks("day", item, note="delivered, done"), ZONE)
        history = service.check_history(ctx, site, DAY)
        sheet = service.day_sheet(ctx, PROFILE, site, DAY, ZONE)
    assert corrected.corrected == 1
    assert [(h.status, h.note, h.current) for h in history] == [
        ("not_done", "no disinfectant", None),
        ("done", "delivered, done", True),
    ]
    assert history[0].superseded_at == clock.now()
    line = next(line for line in sheet.lines if line.item == item[0] and line.shift == "day")
    assert (line.status, line.note) == (CheckStatus.DONE, "delivered, done")


cheap_passwords = pytest.mark.usefixtures("cheap_argon2")
SITE = {
    "code": "HOTEL-2000",
    "name": "百官隔离酒店",
    "kind": "central_quarantine",
    "city": "上虞",
    "lat": 30.03,
    "lon": 120.87,
    "places": [{"category": "close_contact", "places": 0}],
}


def _entries(shift: str, items: list[str]) -> dict[str, object]:
    return {
        "entries": [{"template": MANUAL.code, "item": item, "day": DAY.isoformat(), "shift": shift} for item in items]
    }


@cheap_passwords
def test_a_day_of_a_2000_room_sites_checklists_through_the_api_takes_a_fixed_number_of_statements(
    client: TestClient, database: Database, clock: SimulatedClock
) -> None:
    district = make_district(database, clock)
    username = make_user(database, clock, Role.SITE_MANAGER, district.county_a)
    manager = login(client, username)
    site = client.post("/api/sites", json=SITE, headers=manager).json()["id"]
    for floor in range(1, 5):
        response = client.post(
            f"/api/sites/{site}/floors",
            json={"building": "A", "number": floor, "category": "close_contact", "room_count": 500},
            headers=manager,
        )
        assert response.status_code == 201, response.text
    assert client.get(f"/api/sites/{site}", headers=manager).json()["places"][0]["places"] == 2000
    manual = client.get(f"/api/sites/{site}/manual", headers=manager).json()
    assert [t["code"] for t in manual] == [MANUAL.code]

    counts: dict[str, int] = {}
    shift_login = dict(manager)

    def counted(name: str, method: str, path: str, **kwargs: object) -> dict[str, object]:
        with count_statements(database) as statements:
            response = client.request(method, f"/api/sites/{site}{path}", headers=shift_login, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        counts[name] = len(statements)
        result: dict[str, object] = response.json()
        return result

    counted("sheet", "GET", "/checklists", params={"day": DAY.isoformat()})
    few = counted("day_few", "POST", "/checklists", json=_entries("day", DAY_ITEMS[:2]))
    rest = counted("day_rest", "POST", "/checklists", json=_entries("day", DAY_ITEMS[2:]))
    resent = counted("day_again", "POST", "/checklists", json=_entries("day", DAY_ITEMS))
    clock.set(datetime(2021, 12, 10, 22, 0, tzinfo=ZONE))
    shift_login.update(login(client, username))  # the night shift logs in
    night = counted("night", "POST", "/checklists", json=_entries("night", NIGHT_ITEMS[:3]))
    clock.set(datetime(2021, 12, 11, 9, 30, tzinfo=ZONE))  # the night shift ended at 08:00, grace to 09:00
    shift_login.update(login(client, username))
    late = counted("overdue", "GET", "/checklists/overdue")
    raised = counted("raise", "POST", "/checklists/overdue")
    counted("raise_again", "POST", "/checklists/overdue")
    sheet = counted("sheet_after", "GET", "/checklists", params={"day": DAY.isoformat()})

    assert (few["recorded"], rest["recorded"], resent["unchanged"], night["recorded"]) == (
        2,
        len(DAY_ITEMS) - 2,
        len(DAY_ITEMS),
        3,
    )
    assert late["count"] == len(NIGHT_ITEMS) - 3 and raised["raised"] == len(NIGHT_ITEMS) - 3
    assert sheet["settled"] == len(DAY_ITEMS) + 3
    assert counts["day_few"] == counts["day_rest"] == counts["night"]  # fixed, whatever the number of checks
    assert counts["sheet"] == counts["sheet_after"]
    assert max(counts.values()) <= 12, counts
