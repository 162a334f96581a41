"""Resident ID numbers (GB 11643): the check digit, dates, X, and masking in lists."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bihuan.core.errors import FieldError
from bihuan.core.resident_id import (
    check_character,
    make_resident_id,
    mask_phone,
    mask_resident_id,
    parse_resident_id,
)

# Published examples of valid numbers (the GB 11643 worked example and common textbook ones).
KNOWN_VALID = {
    "11010519491231002X": (date(1949, 12, 31), "F"),
    "440524188001010014": (date(1880, 1, 1), "M"),
    "110101199003074477": (date(1990, 3, 7), "M"),
}
ALPHABET = "0123456789X"


@pytest.mark.parametrize("number", sorted(KNOWN_VALID))
def test_known_valid_numbers_parse_with_their_birth_date_and_sex(number: str) -> None:
    parsed = parse_resident_id(number)
    assert (parsed.birth_date, parsed.sex) == KNOWN_VALID[number]
    assert parsed.region_code == number[:6]
    assert check_character(number[:17]) == number[17]


@pytest.mark.parametrize("number", sorted(KNOWN_VALID))
def test_every_single_character_change_of_a_valid_number_is_refused(number: str) -> None:
    accepted = []
    for position in range(18):
        for char in ALPHABET:
            if char == number[position]:
                continue
            changed = number[:position] + char + number[position + 1 :]
            try:
                parse_resident_id(changed)
            except FieldError as error:
                assert error.field == "resident_id"
            else:
                accepted.append(changed)
    assert accepted == []


def test_a_wrong_check_digit_names_the_expected_one() -> None:
    with pytest.raises(FieldError) as refused:
        parse_resident_id("110105194912310021")
    assert refused.value.field == "resident_id"
    assert "expected X" in refused.value.reason


def test_february_30th_is_not_a_birth_date() -> None:
    first17 = "33060419850230123"
    with pytest.raises(FieldError, match="not a real date"):
        parse_resident_id(first17 + check_character(first17))


def test_a_birth_date_after_today_is_impossible() -> None:
    number = make_resident_id("330604", date(2022, 1, 5), 7, "M")
    assert parse_resident_id(number, today=date(2022, 1, 5)).birth_date == date(2022, 1, 5)
    with pytest.raises(FieldError, match="impossible"):
        parse_resident_id(number, today=date(2022, 1, 4))


def test_a_birth_year_before_1880_is_impossible() -> None:
    first17 = "33060418791231123"
    with pytest.raises(FieldError, match="impossible"):
        parse_resident_id(first17 + check_character(first17))


def test_a_lowercase_x_check_character_is_accepted_and_stored_upper_case() -> None:
    assert parse_resident_id(" 11010519491231002x ").number == "11010519491231002X"


def test_x_is_only_allowed_as_the_check_character() -> None:
    with pytest.raises(FieldError, match="17 digits"):
        parse_resident_id("1101051949123100X2")


@pytest.mark.parametrize("raw", ["", "1101051949123100", "11010519491231002XX", "11010519491231OO2X"])
def test_numbers_of_the_wrong_shape_are_refused(raw: str) -> None:
    with pytest.raises(FieldError, match="18 characters"):
        parse_resident_id(raw)


def test_the_field_name_is_the_callers() -> None:
    with pytest.raises(FieldError) as refused:
        parse_resident_id("123", field="guardian_resident_id")
    assert refused.value.field == "guardian_resident_id"


def test_lists_show_the_first_four_and_last_four_characters_only() -> None:
    assert mask_resident_id("330102198501011234") == "3301**********1234"
    assert parse_resident_id("11010519491231002X").masked == "1101**********002X"


def test_phones_show_the_first_three_and_last_four_digits_only() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("1234567") == "*******"


@given(
    region=st.from_regex(r"[1-8][0-9]{5}", fullmatch=True),
    birth=st.dates(min_value=date(1880, 1, 1), max_value=date(2021, 12, 10)),
    sequence=st.integers(min_value=0, max_value=499),
    sex=st.sampled_from(["M", "F"]),
)
def test_a_made_number_parses_back_to_its_birth_date_and_sex(region: str, birth: date, sequence: int, sex: str) -> None:
    number = make_resident_id(region, birth, sequence, sex)
    parsed = parse_resident_id(number, today=date(2021, 12, 10))
    assert (parsed.birth_date, parsed.sex, parsed.region_code) == (birth, sex, region)
