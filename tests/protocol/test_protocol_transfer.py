"""The transfer section: who rides where, refused when it contradicts the quarantine plans."""

from __future__ import annotations

from pathlib import Path

import pytest

import bihuan.protocol as protocol
from bihuan.protocol import DestinationKind, ProfileError, TransferCategory, load_profile

SHIPPED = Path(str(protocol.__file__)).parent / "profiles"


def _problems_of_copy(tmp_path: Path, old: str, new: str) -> dict[str, str]:
    text = (SHIPPED / "cn-8th-2021.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "my-city.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        load_profile(str(path))
    return dict(refused.value.problems)


def test_the_8th_edition_sends_cases_to_hospital_and_both_contact_kinds_to_central_quarantine() -> None:
    rules = load_profile("cn-8th-2021").transfer
    assert rules.destination_of(TransferCategory.CONFIRMED) == DestinationKind.DESIGNATED_HOSPITAL
    assert rules.destination_of(TransferCategory.CLOSE_CONTACT) == DestinationKind.CENTRAL_QUARANTINE
    assert rules.destination_of(TransferCategory.SECONDARY_CONTACT) == DestinationKind.CENTRAL_QUARANTINE
    assert rules.destination_of(TransferCategory.GENERAL_CONTACT) is None


def test_the_9th_edition_leaves_secondary_contacts_at_home() -> None:
    rules = load_profile("cn-9th-2022").transfer
    assert rules.destination_of(TransferCategory.SECONDARY_CONTACT) is None
    assert rules.destination_of(TransferCategory.CLOSE_CONTACT) == DestinationKind.CENTRAL_QUARANTINE


def test_central_quarantine_for_a_category_without_central_days_is_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(
        tmp_path,
        'inbound = "central_quarantine"',
        'inbound = "central_quarantine"\nsealed_resident = "central_quarantine"',
    )
    assert "no central days" in problems["transfer.destinations.sealed_resident"]


def test_confirmed_cases_sent_to_a_quarantine_site_are_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(tmp_path, 'confirmed = "designated_hospital"', 'confirmed = "central_quarantine"')
    assert any("designated hospital" in reason for reason in problems.values())


def test_a_seat_fraction_above_one_is_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(tmp_path, "seat_fraction = 0.5", "seat_fraction = 1.5")
    assert "transfer.seat_fraction" in problems


def test_children_and_the_elderly_are_vulnerable_by_the_profile_ages() -> None:
    vulnerable = load_profile("cn-8th-2021").transfer.vulnerable
    assert vulnerable.is_vulnerable(vulnerable.minor_below_age - 1)
    assert not vulnerable.is_vulnerable(vulnerable.minor_below_age)
    assert vulnerable.is_vulnerable(vulnerable.elderly_from_age)


def test_a_case_outranks_a_close_contact_who_outranks_a_secondary_contact_in_both_editions() -> None:
    for name in ("cn-8th-2021", "cn-9th-2022"):
        rules = load_profile(name).transfer
        ranks = [rules.rank(c) for c in (TransferCategory.CONFIRMED, TransferCategory.CLOSE_CONTACT)]
        assert ranks == [0, 1]
        assert rules.rank(TransferCategory.CLOSE_CONTACT) < rules.rank(TransferCategory.SECONDARY_CONTACT)


def test_a_category_left_out_of_the_precedence_ranks_after_every_listed_one(tmp_path: Path) -> None:
    text = (SHIPPED / "cn-8th-2021.toml").read_text(encoding="utf-8")
    cut = '  "companion",\n  "sealed_resident",\n  "general_contact",\n]'
    assert cut in text
    path = tmp_path / "short.toml"
    path.write_text(text.replace(cut, "]", 1), encoding="utf-8")
    rules = load_profile(str(path)).transfer
    assert rules.rank(TransferCategory.GENERAL_CONTACT) == rules.rank(TransferCategory.COMPANION) == 4
    assert rules.rank(TransferCategory.SECONDARY_CONTACT) == 3


def test_a_moved_category_missing_from_the_precedence_is_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(tmp_path, '  "inbound",\n  "secondary_contact",', '  "secondary_contact",')
    assert "inbound is moved" in problems["transfer.precedence"]


def test_a_category_ranked_twice_is_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(tmp_path, '  "companion",\n  "sealed_resident",', '  "companion",\n  "confirmed",')
    assert "listed twice" in problems["transfer.precedence[5]"]


def test_ambulances_carry_confirmed_cases_and_other_vehicles_everyone_else() -> None:
    rules = load_profile("cn-8th-2021").transfer
    assert rules.vehicle_carries("ambulance") == (TransferCategory.CONFIRMED,)
    coach = rules.vehicle_carries("coach")
    assert TransferCategory.CONFIRMED not in coach
    assert set(coach) == set(TransferCategory) - {TransferCategory.CONFIRMED}


def test_a_vehicle_kind_carrying_nothing_is_refused(tmp_path: Path) -> None:
    problems = _problems_of_copy(tmp_path, 'ambulance = ["confirmed"]', 'ambulance = ["confirmed"]\nvan = []')
    assert "must carry some category" in problems["transfer.vehicle_categories.van"]
