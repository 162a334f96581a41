"""Reading a typed body temperature (体温): °C or °F, refused with a reason when it cannot be a person's.

Pure functions, no database: the health service reads every temperature of a request with
``read_temperature`` before storing any. A value is never stored silently: a Fahrenheit reading is
converted with a message saying so, and a value outside the profile's body range is refused with a
reason naming it (a lost or misplaced decimal point, the wrong unit) so the person entering it can
act on it. The range is the profile's ``sites.body_temperature_celsius``: policy is data.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from enum import StrEnum

from bihuan.protocol import SiteRules

MAX_TEXT = 24  # the longest text taken for a temperature ("37.25 °C" is 8; what is kept is cut to 16)
_EPSILON = 1e-9  # a conversion's floating-point error is not a value outside the range
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*°?\s*(c|f|度|摄氏度|华氏度)?$", re.IGNORECASE)
_NO_SYMPTOMS = frozenset({"无", "没有", "正常", "无症状", "none", "no", "n/a", "-"})


class TemperatureUnit(StrEnum):
    CELSIUS = "C"
    FAHRENHEIT = "F"


_UNITS = {
    "c": TemperatureUnit.CELSIUS,
    "度": TemperatureUnit.CELSIUS,
    "摄氏度": TemperatureUnit.CELSIUS,
    "f": TemperatureUnit.FAHRENHEIT,
    "华氏度": TemperatureUnit.FAHRENHEIT,
}


class TemperatureRefused(ValueError):
    """A typed value that is not a body temperature, with the reason a person can act on."""

    def __init__(self, reason: str, index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index  # which item of a list (a symptom), when the refusal is of one


def read_temperature(
    value: str | float, unit: TemperatureUnit | str | None, rules: SiteRules
) -> tuple[float, str | None]:
    """The temperature in °C and, when it was converted from °F, a message saying so.

    ``value`` is a number or text such as ``"36.5"``, ``"36,5"``, ``"98.6F"`` or ``"98.6 °F"``; ``unit``
    (``"C"``, ``"F"`` or None for °C unless the text says otherwise) must agree with a unit in the text.
    A Celsius value is kept as typed; a Fahrenheit one is rounded to 0.1 °C. Raises
    ``TemperatureRefused`` for anything that is not a number or not within the body range.
    """
    number, shown, has_point, typed_unit = _number(value)
    given = _unit(unit)
    if typed_unit is not None and given is not None and typed_unit != given:
        raise TemperatureRefused(f"{shown} is marked °{typed_unit} but the unit sent is °{given}: send one unit")
    chosen = typed_unit or given
    low, high = rules.body_temperature_celsius
    if chosen == TemperatureUnit.FAHRENHEIT:
        celsius = fahrenheit_to_celsius(number)
        if low - _EPSILON <= celsius <= high + _EPSILON:
            stored = min(max(round(celsius, 1), low), high)
            return stored, f"{shown} °F converted to {stored:.1f} °C"
        raise TemperatureRefused(_out_of_range(number, shown, has_point, TemperatureUnit.FAHRENHEIT, rules, given))
    if low <= number <= high:
        return number, None
    raise TemperatureRefused(_out_of_range(number, shown, has_point, TemperatureUnit.CELSIUS, rules, chosen))


def fahrenheit_to_celsius(value: float) -> float:
    return (value - 32) * 5 / 9


def celsius_to_fahrenheit(value: float) -> float:
    return value * 9 / 5 + 32


def _number(value: str | float) -> tuple[float, str, bool, TemperatureUnit | None]:
    """The number, how to show it in a message, whether it had a decimal point, and a unit typed with it."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TemperatureRefused(f"{value!r} is not a temperature: send a number such as 36.5")
    if not isinstance(value, str):
        if not math.isfinite(value):
            raise TemperatureRefused(f"{value} is not a temperature: send a number such as 36.5")
        return float(value), f"{value:g}", not float(value).is_integer(), None
    text = unicodedata.normalize("NFKC", value).strip().replace("。", ".")  # ３６．５℃ → 36.5°C
    if not text:
        raise TemperatureRefused("no temperature given: send a number such as 36.5")
    if len(text) > MAX_TEXT:
        raise TemperatureRefused(f"{text[:MAX_TEXT]}… is not a temperature: send a number such as 36.5")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma: 36,5
    match = _NUMBER.match(text)
    if match is None:
        raise TemperatureRefused(f"{text} is not a temperature: send a number such as 36.5 (°C) or 98.6F")
    digits, unit = match.groups()
    typed = _UNITS[unit.lower()] if unit else None
    return float(digits), digits, "." in digits, typed


def _unit(unit: TemperatureUnit | str | None) -> TemperatureUnit | None:
    if unit is None or unit == "":
        return None
    key = unicodedata.normalize("NFKC", str(unit)).strip().lstrip("°").strip().lower()
    if key not in _UNITS:
        raise TemperatureRefused(f"unit {unit} is not known: send C or F")
    return _UNITS[key]


def _range_in(unit: TemperatureUnit, rules: SiteRules) -> tuple[float, float]:
    low, high = rules.body_temperature_celsius
    if unit == TemperatureUnit.FAHRENHEIT:
        return celsius_to_fahrenheit(low), celsius_to_fahrenheit(high)
    return low, high


def _out_of_range(
    number: float,
    shown: str,
    has_point: bool,
    unit: TemperatureUnit,
    rules: SiteRules,
    given: TemperatureUnit | None,
) -> str:
    """Why a number is not a body temperature in `unit`: the most likely slip first."""
    low, high = _range_in(unit, rules)
    for factor in (10, 100):
        if number > high and low <= number / factor <= high:
            guess = f"{round(number / factor, 4):g}"
            if has_point:
                return f"{shown} looks like {guess} with the decimal point misplaced: re-enter it"
            return f"{shown} looks like {guess} without its decimal point: re-enter it"
        if 0 < number < low and low <= number * factor <= high:
            return f"{shown} looks like {round(number * factor, 4):g} with the decimal point misplaced: re-enter it"
    body_low, body_high = rules.body_temperature_celsius
    body = f"the human body range {body_low:g}–{body_high:g} °C"
    if unit == TemperatureUnit.FAHRENHEIT:
        celsius = fahrenheit_to_celsius(number)
        if body_low <= number <= body_high:
            return f"{shown} °F is {celsius:.1f} °C, outside {body}: if it was {shown} °C, send it with unit C"
        return f"{shown} °F is {celsius:.1f} °C, outside {body}: re-enter it"
    f_low, f_high = _range_in(TemperatureUnit.FAHRENHEIT, rules)
    if f_low <= number <= f_high:
        celsius = fahrenheit_to_celsius(number)
        hint = "send it with unit F" if given is None else "send it with unit F, not C"
        return f"{shown} looks like °F ({celsius:.1f} °C), outside {body} in °C: {hint}"
    return f"{shown} °C is outside {body}: re-enter it"


def read_symptoms(symptoms: Sequence[str]) -> list[str]:
    """Symptoms as typed, trimmed and each once; a word meaning "none" is refused (send an empty list)."""
    found: list[str] = []
    for index, symptom in enumerate(symptoms):
        text = unicodedata.normalize("NFKC", symptom).strip()
        if text.lower() in _NO_SYMPTOMS:
            raise TemperatureRefused(f"{text!r} means no symptoms: send an empty list instead", index)
        if text and text not in found:
            found.append(text)
    return found
