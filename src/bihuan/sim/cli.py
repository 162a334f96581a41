"""``bihuan sim``: generate synthetic districts from the command line."""

from __future__ import annotations

import resource
import sys
from datetime import date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bihuan.sim._outbreak import DEFAULT_INDEX_CASES
from bihuan.sim.district import generate_district

sim_app = typer.Typer(help="Synthetic districts and outbreaks (模拟) for demos, drills and benchmarks.")


@sim_app.callback()
def _sim() -> None:
    """Synthetic districts and outbreaks (模拟) for demos, drills and benchmarks."""


def _parse_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


@sim_app.command("district")
def district(
    out: Path = typer.Option(Path("district"), "--out", "-o", help="Directory to write the Parquet files to."),
    people: int = typer.Option(50_000, "--people", "-n", min=10, help="Number of residents."),
    seed: int = typer.Option(20211220, "--seed", min=0, help="Random seed (same seed, same district)."),
    days: int = typer.Option(14, "--days", min=1, help="Days of venue scans and outbreak."),
    start_date: str = typer.Option("2021-12-01", "--start-date", help="First day (YYYY-MM-DD)."),
    pings: bool = typer.Option(False, "--pings/--no-pings", help="Also write phone location pings."),
    trips: bool = typer.Option(False, "--trips/--no-trips", help="Also write transport records (planes, trains...)."),
    index_cases: int = typer.Option(DEFAULT_INDEX_CASES, "--index-cases", min=0, help="Cases seeded on days 1-2."),
    attack: float = typer.Option(1.0, "--attack", min=0.0, help="Scale of every transmission rate."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Generate a district: jurisdictions, residents, venues, scan logs and the outbreak's truth."""
    console = Console()
    manifest = generate_district(
        out,
        people=people,
        seed=seed,
        days=days,
        start_date=_parse_date(start_date),
        pings=pings,
        trips=trips,
        index_cases=index_cases,
        attack=attack,
        progress=not quiet and console.is_terminal,
    )
    table = Table(title=f"District written to {manifest.out_dir}")
    table.add_column("item")
    table.add_column("value", justify="right")
    for name, count in manifest.counts.items():
        if name != "pings" or pings:
            table.add_row(name, f"{count:,}")
    for setting, count in manifest.cases_by_setting.items():
        table.add_row(f"cases: {setting}", f"{count:,}")
    table.add_row("scans per person-day", f"{manifest.details['scans_per_person_day']:.2f}")
    table.add_row("wall time", f"{manifest.wall_seconds:.1f} s")
    table.add_row("peak memory (RSS)", f"{_peak_rss_mb():,.0f} MB")
    console.print(table)


def _peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


if __name__ == "__main__":
    sim_app()
