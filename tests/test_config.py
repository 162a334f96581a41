"""Settings: read from BIHUAN_* variables, a SQLite file by default, no default secret in production."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from bihuan.config import DEVELOPMENT_SECRET, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No BIHUAN_* variable or .env file of the developer's leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("BIHUAN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_settings_come_from_bihuan_prefixed_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIHUAN_DATABASE_URL", "postgresql://bihuan@db.example/bihuan")
    monkeypatch.setenv("BIHUAN_LANG", "en")
    monkeypatch.setenv("BIHUAN_SESSION_HOURS", "4")
    monkeypatch.setenv("BIHUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", "sqlite:///not-ours.sqlite3")  # without the prefix: not ours
    settings = Settings()
    assert settings.resolved_database_url == "postgresql://bihuan@db.example/bihuan"
    assert settings.lang == "en"
    assert settings.session_hours == 4
    assert settings.data_dir == tmp_path / "var"


def test_a_dotenv_file_is_read_with_the_same_prefix(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BIHUAN_PROFILE=cn-9th-2022\n", encoding="utf-8")
    assert Settings().profile == "cn-9th-2022"


def test_the_default_database_is_a_sqlite_file_inside_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'data' / 'bihuan.sqlite3').resolve()}"


def test_the_default_data_dir_is_relative_to_where_bihuan_runs(tmp_path: Path) -> None:
    url = Settings().resolved_database_url
    assert url.startswith("sqlite:///")
    assert Path(url.removeprefix("sqlite:///")) == (tmp_path / "bihuan-data" / "bihuan.sqlite3").resolve()


def test_production_with_the_default_secret_is_refused_naming_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIHUAN_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="secret_key"):
        Settings()


def test_production_with_its_own_secret_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIHUAN_ENVIRONMENT", "production")
    monkeypatch.setenv("BIHUAN_SECRET_KEY", "x" * 48)
    settings = Settings()
    assert settings.environment == "production"
    assert settings.secret_key != DEVELOPMENT_SECRET


def test_development_may_keep_the_default_secret() -> None:
    assert Settings().secret_key == DEVELOPMENT_SECRET


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_interface_speaks_chinese_or_english(lang: str) -> None:
    assert Settings(lang=lang).lang == lang


@pytest.mark.parametrize("lang", ["fr", "zh", "zh-TW", ""])
def test_any_other_language_is_refused(monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    monkeypatch.setenv("BIHUAN_LANG", lang)
    with pytest.raises(ValidationError, match="lang"):
        Settings()


@pytest.mark.parametrize("hours", ["0", "-3", "twelve"])
def test_a_session_must_last_some_hours(monkeypatch: pytest.MonkeyPatch, hours: str) -> None:
    monkeypatch.setenv("BIHUAN_SESSION_HOURS", hours)
    with pytest.raises(ValidationError, match="session_hours"):
        Settings()
