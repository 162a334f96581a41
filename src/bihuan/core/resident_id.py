"""Resident ID numbers (居民身份证号码, GB 11643-1999): validation, derived facts, masking.

An 18-character number: 6-digit administrative region code, 8-digit birth date
(YYYYMMDD), 3-digit sequence whose last digit is odd for men and even for women,
and an ISO 7064 MOD 11-2 check character (0-9 or X).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bihuan.core.errors import FieldError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A valid resident ID number and what it says about its holder."""

    number: str
    region_code: str
    birth_date: date
    sex: str  # "M" or "F", as in people.choices.Sex

    @property
    def masked(self) -> str:
        return mask_resident_id(self.number)


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_resident_id(raw: str, *, field: str = "resident_id", today: date | None = None) -> ResidentId:
    """Validate a resident ID number, or raise FieldError naming the field and the reason."""
    number = (raw or "").strip().upper()
    if not _SHAPE.match(number):
        raise FieldError(field, "must be 17 digits followed by a digit or X (18 characters)")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise FieldError(field, f"birth date {number[6:14]} is not a real date") from None
    if birth.year < 1880 or (today is not None and birth > today):
        raise FieldError(field, f"birth date {birth.isoformat()} is impossible")
    expected = check_character(number[:17])
    if number[17] != expected:
        raise FieldError(field, f"check digit is {number[17]}, expected {expected}")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def make_resident_id(region_code: str, birth_date: date, sequence: int, sex: str) -> str:
    """Build a valid number: the sequence (0-499) is spread to the sex's parity."""
    if not 0 <= sequence < 500:
        raise ValueError("sequence must be within 0..499")
    order = sequence * 2 + (1 if sex == "M" else 0)
    first17 = f"{region_code}{birth_date:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)


def mask_resident_id(number: str) -> str:
    """3301**********1234: the first four and the last four characters stay."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****5678: the first three and the last four digits stay."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
