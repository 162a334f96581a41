"""The capacity section ([command.capacity]): when the gauges turn strained and alert, refused when absurd."""

from __future__ import annotations

from pathlib import Path

import pytest

import bihuan.protocol as protocol
from bihuan.protocol import ProfileError, load_profile

SHIPPED = Path(str(protocol.__file__)).parent / "profiles"


def _problems_of_copy(tmp_path: Path, old: str, new: str) -> dict[str, str]:
    text = (SHIPPED / "cn-9th-2022.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "my-city.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        load_profile(str(path))
    return dict(refused.value.problems)


@pytest.mark.parametrize("name", ["cn-8th-2021", "cn-9th-2022"])
def test_both_editions_give_every_gauge_a_strained_threshold_below_its_alert(name: str) -> None:
    rules = load_profile(name).command.capacity
    for pair in (rules.rooms, rules.vehicles, rules.lab, rules.tracing):
        assert 0 < pair.strained_at < pair.alert_at <= 1
    assert rules.lab_window_hours > 0
    assert rules.investigations_per_investigator > 0


def test_a_strained_threshold_at_or_above_the_alert_one_is_refused_naming_the_field(tmp_path: Path) -> None:
    problems = _problems_of_copy(
        tmp_path, "rooms = { strained_at = 0.8, alert_at = 0.95 }", "rooms = { strained_at = 0.95, alert_at = 0.9 }"
    )
    assert "must be below alert_at" in problems["command.capacity.rooms.strained_at"]


def test_a_threshold_above_one_is_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(
        tmp_path, "lab = { strained_at = 0.5, alert_at = 1.0 }", "lab = { strained_at = 0.5, alert_at = 1.5 }"
    )
    assert "command.capacity.lab.alert_at" in problems


def test_a_lab_window_of_no_hours_is_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(tmp_path, "lab_window_hours = 24", "lab_window_hours = 0")
    assert "command.capacity.lab_window_hours" in problems
