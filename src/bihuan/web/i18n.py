"""Languages of the web pages (zh-CN, en): choosing one per request and loading its catalog.

Catalogs are gettext ``.po`` files under ``web/locale/<locale>/LC_MESSAGES/messages.po``,
source strings in English. They are compiled in memory with Babel the first time a
language is used, so no binary ``.mo`` file is kept in the repository.

Updating the catalogs after marking new strings (from the repository root)::

    pybabel extract -F babel.cfg -o src/bihuan/web/locale/messages.pot src/bihuan
    pybabel update -i src/bihuan/web/locale/messages.pot -d src/bihuan/web/locale

then write the Chinese ``msgstr`` of every new entry in ``zh_CN/LC_MESSAGES/messages.po``
(English is the source language: its ``msgstr`` stay empty and fall back to the ``msgid``).
"""

from __future__ import annotations

import functools
import io
from importlib import resources
from importlib.resources.abc import Traversable

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

SUPPORTED_LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_COOKIE = "bihuan_lang"
LANGUAGE_QUERY_PARAM = "lang"

# Each language named in itself, for the language switch.
LANGUAGE_NAMES: dict[str, str] = {"zh-CN": "中文", "en": "English"}

_CATALOG_DOMAIN = "messages"


def normalize_language(tag: str | None) -> str | None:
    """The supported language a BCP 47 / POSIX tag asks for (``zh_CN``, ``zh-Hans``, ``en-GB``...), or None.

    Any Chinese tag maps to zh-CN, the only Chinese catalog; any English tag to en.
    """
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def parse_accept_language(header: str | None) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most preferred first (``q=0`` dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not tag or tag == "*":
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_language(
    query_lang: str | None,
    cookie_lang: str | None,
    accept_language: str | None,
    default: str = DEFAULT_LANGUAGE,
) -> str:
    """The page language: the ``?lang=`` parameter, else the cookie, else Accept-Language, else the default.

    Unsupported values at any step are skipped; an unsupported default falls back to zh-CN.
    """
    for candidate in (query_lang, cookie_lang, *parse_accept_language(accept_language)):
        language = normalize_language(candidate)
        if language is not None:
            return language
    return normalize_language(default) or DEFAULT_LANGUAGE


def babel_locale(language: str) -> str:
    """The Babel / gettext locale name of a supported language (``zh-CN`` → ``zh_CN``)."""
    return language.replace("-", "_")


def catalog_resource(language: str) -> Traversable:
    """The ``.po`` catalog of a supported language, inside the installed package."""
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; expected one of {SUPPORTED_LANGUAGES}")
    locale = babel_locale(language)
    return resources.files(__package__) / "locale" / locale / "LC_MESSAGES" / f"{_CATALOG_DOMAIN}.po"


@functools.cache
def get_translations(language: str) -> Translations:
    """The compiled translations of a supported language, built once per process from its ``.po``."""
    with catalog_resource(language).open("rb") as po_file:
        catalog = read_po(po_file, locale=babel_locale(language), domain=_CATALOG_DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=_CATALOG_DOMAIN)
