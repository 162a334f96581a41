"""The public surface: exports, argument checks, the CLI and the manifest file."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bihuan.sim
from bihuan.sim import generate_district
from bihuan.sim.cli import sim_app


def test_exports_are_sorted_and_complete() -> None:
    isort_style = sorted(bihuan.sim.__all__, key=lambda name: (not name.isupper(), not name[0].isupper(), name))
    assert bihuan.sim.__all__ == isort_style
    public = {
        name
        for name, value in vars(bihuan.sim).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert public == set(bihuan.sim.__all__)
    for name in bihuan.sim.__all__:
        assert hasattr(bihuan.sim, name)


def test_refuses_impossible_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_district(tmp_path, people=0, progress=False)
    with pytest.raises(ValueError):
        generate_district(tmp_path, people=100, days=0, progress=False)


def test_progress_callback_hears_every_step(tmp_path: Path) -> None:
    heard: dict[str, tuple[int, int]] = {}
    generate_district(tmp_path, people=300, days=2, index_cases=2, progress=lambda s, d, t: heard.update({s: (d, t)}))
    assert set(heard) == {"District and residents", "Venue scans", "Outbreak"}
    assert all(done == total for done, total in heard.values())


def test_cli_writes_a_district_and_prints_its_summary(tmp_path: Path) -> None:
    out = tmp_path / "d"
    args = ["district", "--people", "500", "--days", "2", "--out", str(out), "--index-cases", "3", "--seed", "5"]
    result = CliRunner().invoke(sim_app, [*args, "--start-date", "2022-04-01", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "persons" in result.output and "peak memory" in result.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["people"] == 500 and manifest["start_date"] == "2022-04-01" and manifest["seed"] == 5
    assert sorted(p.name for p in (out / "scans").iterdir()) == ["day=2022-04-01", "day=2022-04-02"]


def test_cli_refuses_a_malformed_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(sim_app, ["district", "--out", str(tmp_path), "--start-date", "1 April"])
    assert result.exit_code != 0
