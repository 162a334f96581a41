"""One set of rules for a person's identity fields, used by the API and by bulk import alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import phonenumbers

from bihuan.core.errors import FieldError
from bihuan.core.resident_id import parse_resident_id
from bihuan.people.choices import Sex

_SEX_WORDS = {
    "M": Sex.MALE,
    "F": Sex.FEMALE,
    "男": Sex.MALE,
    "女": Sex.FEMALE,
    "MALE": Sex.MALE,
    "FEMALE": Sex.FEMALE,
}
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_NATIONALITY = re.compile(r"^[A-Z]{3}$")
MAX_NAME_LENGTH = 64


@dataclass(frozen=True, slots=True)
class PersonIdentity:
    """A person's identity fields, validated and normalised."""

    resident_id: str | None
    passport_no: str | None
    nationality: str
    name: str
    sex: str
    birth_date: date
    phone: str | None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_sex(raw: Any) -> Sex:
    word = str(raw).strip().upper()
    if word not in _SEX_WORDS:
        raise FieldError("sex", f"{raw!r} is not one of M, F, 男, 女")
    return _SEX_WORDS[word]


def parse_birth_date(raw: Any, *, today: date) -> date:
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        value = raw
    else:
        text = str(raw).strip().replace("/", "-").replace(".", "-")
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            raise FieldError("birth_date", f"{raw!r} is not a date (YYYY-MM-DD)") from None
    if value > today or value.year < 1880:
        raise FieldError("birth_date", f"{value.isoformat()} is impossible")
    return value


def normalise_phone(raw: Any) -> str:
    """Mainland mobiles as 11 digits; other numbers in E.164 (+44...)."""
    text = re.sub(r"[\s\-()]", "", str(raw))
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise FieldError("phone", f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise FieldError("phone", f"{raw!r} is not a valid phone number")
    if number.country_code == 86:
        return str(number.national_number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_identity(raw: dict[str, Any], *, today: date) -> PersonIdentity:
    """Validate and normalise identity fields; raises FieldError naming the first bad field."""
    name = "" if _blank(raw.get("name")) else str(raw["name"]).strip()
    if not name:
        raise FieldError("name", "is required")
    if len(name) > MAX_NAME_LENGTH:
        raise FieldError("name", f"is longer than {MAX_NAME_LENGTH} characters")
    nationality = "CHN" if _blank(raw.get("nationality")) else str(raw["nationality"]).strip().upper()
    if not _NATIONALITY.match(nationality):
        raise FieldError("nationality", f"{nationality!r} is not an ISO 3166 alpha-3 code")
    sex = None if _blank(raw.get("sex")) else parse_sex(raw["sex"])
    birth = None if _blank(raw.get("birth_date")) else parse_birth_date(raw["birth_date"], today=today)
    phone = None if _blank(raw.get("phone")) else normalise_phone(raw["phone"])
    if not _blank(raw.get("resident_id")):
        rid = parse_resident_id(str(raw["resident_id"]), today=today)
        if sex is not None and sex.value != rid.sex:
            raise FieldError("sex", f"{sex.value} contradicts the resident ID, which says {rid.sex}")
        if birth is not None and birth != rid.birth_date:
            raise FieldError(
                "birth_date",
                f"{birth.isoformat()} contradicts the resident ID ({rid.birth_date.isoformat()})",
            )
        return PersonIdentity(rid.number, None, nationality, name, rid.sex, rid.birth_date, phone)
    if _blank(raw.get("passport_no")):
        raise FieldError("resident_id", "is required unless a passport_no is given")
    passport = str(raw["passport_no"]).strip().upper()
    if not _PASSPORT.match(passport):
        raise FieldError("passport_no", f"{passport!r} is not 5-20 letters or digits")
    if nationality == "CHN":
        raise FieldError("nationality", "a passport holder without a resident ID needs a foreign nationality")
    if sex is None:
        raise FieldError("sex", "is required for a passport holder")
    if birth is None:
        raise FieldError("birth_date", "is required for a passport holder")
    return PersonIdentity(None, passport, nationality, name, sex.value, birth, phone)
