"""Languages: how a page's language is chosen, and catalogs that translate every marked string."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bihuan.web.i18n import (
    SUPPORTED_LANGUAGES,
    catalog_resource,
    get_translations,
    negotiate_language,
    normalize_language,
    parse_accept_language,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO_ROOT / "src" / "bihuan"
BABEL_CFG = REPO_ROOT / "babel.cfg"


def load_catalog(language: str) -> Catalog:
    with catalog_resource(language).open("rb") as po_file:
        return read_po(po_file, locale=language.replace("-", "_"))


def extracted_msgids() -> dict[str, str]:
    """Every string marked for translation in src/bihuan, as `pybabel extract -F babel.cfg` finds them."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(BABEL_CFG))
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(PACKAGE_DIR, method_map, options_map):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, f"{filename}:{lineno}")
    return found


# ---- Choosing the language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "default", "expected"),
    [
        ("en", "zh-CN", "zh-CN,zh;q=0.9", "zh-CN", "en"),  # the query wins over everything
        (None, "en", "zh-CN", "zh-CN", "en"),  # then the cookie
        (None, None, "en-GB,en;q=0.9,zh;q=0.5", "zh-CN", "en"),  # then Accept-Language
        (None, None, None, "en", "en"),  # then the app's default
        (None, None, None, "zh-CN", "zh-CN"),
        ("fr", "de", "ja, ko;q=0.8", "en", "en"),  # unsupported values are skipped at each step
        ("xx", "en", None, "zh-CN", "en"),
        (None, "garbage", "zh-TW", "en", "zh-CN"),
        (None, None, None, "fr", "zh-CN"),  # an unsupported default falls back to zh-CN
    ],
)
def test_language_comes_from_query_then_cookie_then_accept_language_then_default(
    query: str | None, cookie: str | None, accept: str | None, default: str, expected: str
) -> None:
    assert negotiate_language(query, cookie, accept, default) == expected


def test_accept_language_is_ordered_by_quality_and_zero_quality_is_refused() -> None:
    header = "fr;q=0.3, en;q=0.8, zh-CN, de;q=0, *;q=0.1"
    assert parse_accept_language(header) == ["zh-CN", "en", "fr"]
    assert negotiate_language(None, None, "zh;q=0.5, en;q=0.9", "zh-CN") == "en"
    assert negotiate_language(None, None, "en;q=0, zh;q=0.1", "en") == "zh-CN"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("ZH-cn", "zh-CN"),
        ("en", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_language_tags_are_normalised_to_a_supported_language(tag: str | None, expected: str | None) -> None:
    assert normalize_language(tag) == expected


# ---- Catalogs -----------------------------------------------------------------------------------------


def test_every_chinese_entry_is_translated_and_none_is_fuzzy() -> None:
    catalog = load_catalog("zh-CN")
    messages = [message for message in catalog if message.id]
    assert messages, "the zh_CN catalog is empty"
    untranslated = [message.id for message in messages if not message.string]
    fuzzy = [message.id for message in messages if message.fuzzy]
    assert not untranslated, f"untranslated in zh_CN: {untranslated}"
    assert not fuzzy, f"fuzzy (ignored at run time) in zh_CN: {fuzzy}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_placeholders_agree_with_the_source_string(language: str) -> None:
    problems = [(message.id, [str(error) for error in errors]) for message, errors in load_catalog(language).check()]
    assert not problems


def test_english_and_chinese_catalogs_hold_the_same_strings() -> None:
    english = {message.id for message in load_catalog("en") if message.id}
    chinese = {message.id for message in load_catalog("zh-CN") if message.id}
    assert english == chinese


def test_every_string_marked_for_translation_has_a_chinese_translation() -> None:
    extracted = extracted_msgids()
    assert "People" in extracted, "extraction found nothing: is babel.cfg still right?"
    translated = {message.id for message in load_catalog("zh-CN") if message.id and message.string}
    missing = {msgid: where for msgid, where in extracted.items() if msgid not in translated}
    assert not missing, (
        "strings marked for translation but missing from web/locale/zh_CN/LC_MESSAGES/messages.po "
        f"(run pybabel extract + update, then translate): {missing}"
    )


def test_catalogs_compile_in_memory_and_translate() -> None:
    assert get_translations("zh-CN").gettext("People") == "人员"
    assert get_translations("zh-CN").gettext("Audit") == "审计"
    assert get_translations("en").gettext("People") == "People"
    assert get_translations("zh-CN") is get_translations("zh-CN"), "compiled once per language"


def test_an_unsupported_language_has_no_catalog() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        get_translations("fr")


def test_no_compiled_catalog_is_kept_in_the_source_tree() -> None:
    assert not list((PACKAGE_DIR / "web" / "locale").rglob("*.mo"))
