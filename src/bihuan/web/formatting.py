"""Dates, times and numbers shown the way each page language writes them (Babel / CLDR).

``filters_for(language)`` gives the Jinja filters of one language: ``datetime``, ``date``,
``time``, ``number`` and ``percent``. A missing value (None) shows as an em dash, so a
table cell is never blank by accident.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates, numbers

from bihuan.web.i18n import babel_locale

MISSING = "—"
_display_zone: dt.tzinfo = ZoneInfo("Asia/Shanghai")


def set_display_timezone(name: str) -> None:
    """The zone pages show times in (BIHUAN_TIMEZONE); the database keeps UTC."""
    global _display_zone
    _display_zone = ZoneInfo(name)


Number = int | float | Decimal


def format_datetime(
    value: dt.datetime | None, language: str, format: str = "medium", tzinfo: dt.tzinfo | None = None
) -> str:
    """A date and time, e.g. ``2024年5月1日 14:30:00`` (zh-CN) or ``May 1, 2024, 2:30:00 PM`` (en).

    ``format`` is ``short``, ``medium``, ``long`` or a CLDR pattern; an aware value is converted to
    ``tzinfo``, by default the display zone (a naive value is shown as it is).
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    zone = tzinfo or (_display_zone if value.tzinfo is not None else None)
    return dates.format_datetime(value, format=format, tzinfo=zone, locale=babel_locale(language))


def format_date(value: dt.date | None, language: str, format: str = "medium") -> str:
    """A calendar date, e.g. ``2024年5月1日`` (zh-CN) or ``May 1, 2024`` (en)."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    return dates.format_date(value, format=format, locale=babel_locale(language))


def format_time(value: dt.time | dt.datetime | None, language: str, format: str = "short") -> str:
    """A time of day, e.g. ``14:30`` (zh-CN) or ``2:30 PM`` (en)."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    return dates.format_time(value, format=format, locale=babel_locale(language))


def format_number(value: Number | None, language: str, digits: int | None = None) -> str:
    """A number with the language's grouping, e.g. ``12,345``; ``digits`` fixes the decimals shown."""
    if value is None:
        return MISSING
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return numbers.format_decimal(value, format=pattern, locale=babel_locale(language))


def format_percent(value: Number | None, language: str, digits: int = 0) -> str:
    """A ratio as a percentage: ``0.125`` → ``12.5%`` with ``digits=1``."""
    if value is None:
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
    return numbers.format_percent(value, format=pattern, locale=babel_locale(language))


def filters_for(language: str) -> dict[str, Callable[..., Any]]:
    """The formatting filters of one language, keyed by their name in templates."""
    return {
        "datetime": functools.partial(_with_language, format_datetime, language),
        "date": functools.partial(_with_language, format_date, language),
        "time": functools.partial(_with_language, format_time, language),
        "number": functools.partial(_with_language, format_number, language),
        "percent": functools.partial(_with_language, format_percent, language),
    }


def _with_language(formatter: Callable[..., str], language: str, value: Any, *args: Any, **kwargs: Any) -> str:
    return formatter(value, language, *args, **kwargs)
