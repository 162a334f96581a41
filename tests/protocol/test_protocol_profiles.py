"""Protocol profiles load from the package or a user's file; a bad file is refused, naming field and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import bihuan.protocol as protocol
from bihuan.core.errors import ConfigurationError
from bihuan.protocol import (
    DEFAULT_PROFILE,
    ContactCategory,
    ProfileError,
    ProtocolProfile,
    QuarantinePhase,
    available_profiles,
    load_profile,
    quarantine_plan,
)

SHIPPED = Path(str(protocol.__file__)).parent / "profiles"


def _user_copy(tmp_path: Path, old: str, new: str, name: str = "my-city.toml") -> Path:
    """A user's own profile: a copy of the 8th edition with one change."""
    text = (SHIPPED / "cn-8th-2021.toml").read_text(encoding="utf-8")
    assert old in text, f"the shipped profile no longer holds {old!r}"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _problems(path: Path) -> dict[str, str]:
    with pytest.raises(ProfileError) as refused:
        load_profile(str(path))
    assert str(path) in str(refused.value)
    return dict(refused.value.problems)


def test_both_editions_ship_and_the_8th_is_the_default() -> None:
    assert available_profiles() == ["cn-8th-2021", "cn-9th-2022"]
    assert DEFAULT_PROFILE == "cn-8th-2021"
    assert load_profile().name == "cn-8th-2021"


@pytest.mark.parametrize("name", ["cn-8th-2021", "cn-9th-2022"])
def test_every_shipped_profile_loads_under_its_own_name(name: str) -> None:
    profile = load_profile(name)
    assert isinstance(profile, ProtocolProfile)
    assert profile.name == name


def test_a_profile_is_frozen() -> None:
    profile = load_profile(DEFAULT_PROFILE)
    with pytest.raises(ValueError, match="frozen"):
        profile.about.name = "changed"


def test_a_users_own_copy_with_a_change_loads_from_its_path(tmp_path: Path) -> None:
    path = _user_copy(
        tmp_path,
        "central_days = 14\nhome_monitoring_days = 7\ncentral_test_days = [1, 4, 7, 14]",
        "central_days = 21\nhome_monitoring_days = 7\ncentral_test_days = [1, 4, 7, 14, 21]",
    )
    profile = load_profile(str(path))
    plan = quarantine_plan(ContactCategory.CLOSE_CONTACT, date(2021, 12, 1), profile)
    central = plan.phase(QuarantinePhase.CENTRAL)
    assert central is not None and central.days == 21
    assert [test.day for test in plan.tests if test.release] == [21]
    assert load_profile(DEFAULT_PROFILE).quarantine[ContactCategory.CLOSE_CONTACT].central_days == 14


def test_a_path_object_is_accepted_too(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "min_cases = 5", "min_cases = 3")
    assert load_profile(path).tracing.cluster.min_cases == 3


def test_an_unknown_name_is_refused_listing_the_shipped_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"cn-8th-2021, cn-9th-2022"):
        load_profile("cn-10th-2023")


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigurationError, match="file not found") as refused:
        load_profile(str(missing))
    assert str(missing) in str(refused.value)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[about\nname = 1\n", encoding="utf-8")
    assert "is not valid TOML" in _problems(path)[""]


def test_negative_days_are_refused_naming_the_field(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "central_days = 7\n", "central_days = -7\n")
    problems = _problems(path)
    assert "greater than or equal to 0" in problems["quarantine.secondary_contact.central_days"]


def test_a_test_day_beyond_its_phase_is_refused_naming_its_position(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "central_test_days = [1, 4, 7, 14]", "central_test_days = [1, 4, 15]")
    assert _problems(path) == {
        "quarantine.close_contact.central_test_days[2]": "day 15 lies beyond the 14-day central phase"
    }


def test_repeated_or_unsorted_test_days_are_refused(tmp_path: Path) -> None:
    repeated = _user_copy(tmp_path, "central_test_days = [1, 4, 7, 14]", "central_test_days = [1, 4, 4, 14]")
    assert "repeats" in _problems(repeated)["quarantine.close_contact.central_test_days[2]"]
    unsorted = _user_copy(tmp_path, "central_test_days = [1, 4, 7, 14]", "central_test_days = [1, 7, 4, 14]")
    assert "comes before" in _problems(unsorted)["quarantine.close_contact.central_test_days[2]"]


def test_a_typo_in_a_key_is_refused_not_ignored(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "look_back_days = 2", "look_bak_days = 2")
    problems = _problems(path)
    assert "unknown key" in problems["tracing.close_contact.look_bak_days"]
    assert problems["tracing.close_contact.look_back_days"] == "missing: this key is required"


def test_an_unknown_category_is_refused_listing_the_known_ones(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "[quarantine.sealed_resident]", "[quarantine.sealed_residents]")
    reason = _problems(path)["quarantine.sealed_residents"]
    assert "unknown key 'sealed_residents'" in reason and "'sealed_resident'" in reason


def test_a_pool_size_of_seven_is_refused(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "controlled = 10", "controlled = 7")
    assert _problems(path) == {"screening.pool_size.controlled": "7 is not an allowed pool size (1, 5, 10, 20)"}


def test_a_release_test_in_a_phase_without_tests_is_refused(tmp_path: Path) -> None:
    path = _user_copy(
        tmp_path,
        'release_test = { phase = "central", samples = 2, reagents = 2 }',
        'release_test = { phase = "home_isolation", samples = 2, reagents = 2 }',
    )
    assert "no test days" in _problems(path)["quarantine.close_contact.release_test.phase"]


def test_a_missing_loop_target_is_refused(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "arrived_to_isolated = 1", "")
    assert "missing" in _problems(path)["loop_targets.arrived_to_isolated"]


def test_zone_steps_must_follow_the_step_order(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, 'from_level = "controlled"', 'from_level = "sealed"')
    assert _problems(path) == {"zones.steps[1].from_level": "expected controlled, following step_order"}


def test_a_state_cannot_be_both_red_and_yellow(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, 'yellow = ["self_reported_symptoms"', 'yellow = ["confirmed", "self_reported_symptoms"')
    assert _problems(path) == {"codes.yellow[0]": "confirmed is already red"}


def test_every_problem_of_a_bad_file_is_reported_at_once(tmp_path: Path) -> None:
    path = _user_copy(tmp_path, "controlled = 10", "controlled = 7")
    path.write_text(path.read_text(encoding="utf-8").replace("min_cases = 5", "min_cases = 1"), encoding="utf-8")
    assert set(_problems(path)) == {"screening.pool_size.controlled", "tracing.cluster.min_cases"}


def _isort_key(name: str) -> tuple[int, str]:
    """Ruff's order for __all__ (RUF022): CONSTANTS, then Classes, then functions, each alphabetical."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_public_names_are_sorted_and_each_resolves() -> None:
    assert protocol.__all__ == sorted(protocol.__all__, key=_isort_key)
    assert len(set(protocol.__all__)) == len(protocol.__all__)
    for name in protocol.__all__:
        assert getattr(protocol, name) is not None


def test_every_public_name_of_the_package_is_exported() -> None:
    public = {name for name in vars(protocol) if not name.startswith("_")}
    modules = {"choices"}
    assert public - modules - {"annotations"} == set(protocol.__all__)
