"""Site shifts (班次) in the profile: named once, in local hours, covering the day without overlap."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bihuan.protocol import ContactCategory, ProfileError, available_profiles, load_profile

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "bihuan" / "protocol" / "profiles" / "cn-8th-2021.toml"
ZONE = ZoneInfo("Asia/Shanghai")


def _with_shifts(tmp_path: Path, shifts: list[dict[str, Any]]) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert tomllib.loads(text)["sites"]["shifts"]
    lines = [line for line in text.splitlines() if not line.startswith("shifts = ")]
    rendered = ", ".join(
        "{ " + ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in s.items()) + " }" for s in shifts
    )
    index = lines.index("[sites]")
    lines.insert(index + 1, f"shifts = [{rendered}]")
    path = tmp_path / "profile.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", available_profiles())
def test_shipped_profiles_run_a_day_and_a_night_shift(name: str) -> None:
    sites = load_profile(name).sites
    assert [(s.name, s.starts, s.ends) for s in sites.shifts] == [("day", 8, 20), ("night", 20, 8)]
    assert sites.checklist_overdue_after_minutes == 60


def test_a_night_shift_ends_on_the_next_day() -> None:
    night = load_profile().sites.shift("night")
    assert night is not None and load_profile().sites.shift("evening") is None
    assert night.window(date(2021, 12, 10), ZONE) == (
        datetime(2021, 12, 10, 20, tzinfo=ZONE),
        datetime(2021, 12, 11, 8, tzinfo=ZONE),
    )
    assert night.hours == (20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7)


def test_three_eight_hour_shifts_or_one_whole_day_shift_are_accepted(tmp_path: Path) -> None:
    three = [
        {"name": "a", "starts": 0, "ends": 8},
        {"name": "b", "starts": 8, "ends": 16},
        {"name": "c", "starts": 16, "ends": 0},
    ]
    assert len(load_profile(_with_shifts(tmp_path, three)).sites.shifts) == 3
    whole = load_profile(_with_shifts(tmp_path, [{"name": "all", "starts": 6, "ends": 6}])).sites.shifts[0]
    assert len(whole.hours) == 24


@pytest.mark.parametrize(
    ("shifts", "field", "reason"),
    [
        (
            [{"name": "day", "starts": 8, "ends": 20}, {"name": "day", "starts": 20, "ends": 8}],
            "sites.shifts[1]",
            "listed twice",
        ),
        (
            [{"name": "day", "starts": 8, "ends": 21}, {"name": "night", "starts": 20, "ends": 8}],
            "sites.shifts[1]",
            "night overlaps day at 20:00",
        ),
        ([{"name": "day", "starts": 8, "ends": 20}], "sites.shifts", "no shift covers 00:00, 01:00"),
        ([{"name": "day", "starts": 8, "ends": 24}], "sites.shifts[0].ends", "less than or equal to 23"),
        ([{"name": "Day", "starts": 8, "ends": 8}], "sites.shifts[0].name", "pattern"),
        ([], "sites.shifts", "at least one shift"),
    ],
)
def test_bad_shifts_are_refused_naming_the_field(
    tmp_path: Path, shifts: list[dict[str, Any]], field: str, reason: str
) -> None:
    with pytest.raises(ProfileError) as refused:
        load_profile(_with_shifts(tmp_path, shifts))
    ((where, why),) = refused.value.problems
    assert where == field and reason in why


@pytest.mark.parametrize("name", available_profiles())
def test_shipped_profiles_restart_a_neighbours_clock_on_the_close_contact_plan(name: str) -> None:
    assert load_profile(name).sites.cross_infection.reset_plan_as == ContactCategory.CLOSE_CONTACT


def test_a_reset_plan_of_a_category_without_a_quarantine_rule_is_refused_naming_the_field(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    shipped = 'reset_plan_as = "close_contact"'
    assert text.count(shipped) == 1 and "[quarantine.general_contact]" not in text
    path = tmp_path / "profile.toml"
    path.write_text(text.replace(shipped, 'reset_plan_as = "general_contact"'), encoding="utf-8")

    with pytest.raises(ProfileError) as refused:
        load_profile(path)

    ((where, why),) = refused.value.problems
    assert where == "sites.cross_infection.reset_plan_as" and "general_contact has no plan" in why
