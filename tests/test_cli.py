"""The `bihuan` command as a new user runs it: init, import, demo (without serving)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bihuan.cli import app
from bihuan.config import get_settings
from bihuan.core.auth_models import User
from bihuan.core.db import Database
from bihuan.core.resident_id import make_resident_id
from bihuan.people.models import Jurisdiction, Person

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BIHUAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BIHUAN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def _count(data_dir: Path, model: type) -> int:
    database = Database(f"sqlite:///{data_dir / 'bihuan.sqlite3'}")
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(model)) or 0
    database.dispose()
    return total


def test_init_creates_the_sqlite_database_in_the_data_dir(data_dir: Path) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (data_dir / "bihuan.sqlite3").exists()
    assert _count(data_dir, Person) == 0


def test_demo_loads_a_district_with_one_login_per_role_and_a_second_run_adds_nothing(data_dir: Path) -> None:
    first = runner.invoke(app, ["demo", "--people", "1500", "--no-serve"])
    assert first.exit_code == 0, first.output
    persons, users = _count(data_dir, Person), _count(data_dir, User)
    assert persons == 1500
    assert users >= 8
    for username in ("admin", "commander", "investigator", "lab", "transfer", "site-manager", "analyst"):
        assert username in first.output
    assert "Demo round DEMO-R1" in first.output and "cases confirmed" in first.output

    second = runner.invoke(app, ["demo", "--people", "1500", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert (_count(data_dir, Person), _count(data_dir, User)) == (persons, users)


def test_drill_runs_its_days_and_hours_and_prints_the_outcome_then_refuses_a_second_drill(data_dir: Path) -> None:
    first = runner.invoke(app, ["drill", "--days", "1", "--hours", "6", "--people", "500"])
    assert first.exit_code == 0, first.output
    assert "Drill of 1 day and 6 hours: outcome" in first.output and "funnel adds up" in first.output

    again = runner.invoke(app, ["drill", "--days", "1", "--people", "500"])
    assert again.exit_code != 0 and "already holds a drill" in again.output


def test_import_persons_reports_bad_rows_and_stores_the_rest(data_dir: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["demo", "--people", "1000", "--no-serve", "--no-round"]).exit_code == 0
    database = Database(f"sqlite:///{data_dir / 'bihuan.sqlite3'}")
    with database.session() as session:
        building = session.scalars(select(Jurisdiction.code).where(Jurisdiction.level == "building")).first()
    database.dispose()
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["resident_id", "name", "jurisdiction_code"])
        writer.writerow([make_resident_id("330604", date(1990, 5, 6), 401, "M"), "赵六", building])
        writer.writerow(["330604199005060000", "钱七", building])  # wrong check digit

    result = runner.invoke(app, ["import", "persons", str(path)])

    assert result.exit_code == 0, result.output
    assert "row 3: resident_id check digit is 0" in result.output
    assert _count(data_dir, Person) == 1001
