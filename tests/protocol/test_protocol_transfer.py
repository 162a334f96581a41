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
