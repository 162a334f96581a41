"""The drill's summary as a console shows it: delays per loop stage against target, contacts against the
truth, where cases were found, and the open loops (entered = closed + open)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from bihuan.sim._field_summary import DrillSummary


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def delays_table(summary: DrillSummary) -> Table:
    table = Table(title=f"Loop delays achieved, {summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} UTC")
    for column in ("stage", "link", "measured", "median h", "p90 h", "target h", "within target", "running", "overdue"):
        table.add_column(column, justify="left" if column in ("stage", "link") else "right")
    for row in summary.delays:
        table.add_row(
            row.stage,
            row.link,
            f"{row.count:,}",
            _hours(row.median_hours),
            _hours(row.p90_hours),
            _hours(row.target_hours),
            _share(row.within_target),
            f"{row.pending:,}",
            f"{row.pending_overdue:,}",
        )
    return table


def outcome_table(summary: DrillSummary) -> Table:
    contacts = summary.contacts
    length = summary.end - summary.start
    hours = f" and {length.seconds // 3600} hours" if length.seconds else ""
    days = f"{length.days} day{'' if length.days == 1 else 's'}"
    table = Table(title=f"Drill of {days}{hours}: outcome")
    table.add_column("measure")
    table.add_column("value", justify="right")
    recall = "–" if contacts.recall is None else f"{contacts.recall:.0%}"
    rows = [
        ("cases confirmed", f"{summary.cases:,}"),
        (
            "  found in quarantine / in the community",
            f"{summary.in_quarantine:,} / {summary.found.get('community', 0):,}",
        ),
        ("contacts traced (people)", f"{contacts.found:,}"),
        ("true contacts (infected by a confirmed case)", f"{contacts.truth:,}"),
        ("  of them traced (recall)", f"{contacts.truth_found:,} ({recall})"),
        ("  traced, not infected by a case", f"{contacts.found_not_in_truth:,}"),
        ("entered the loop", f"{summary.entered:,}"),
        ("  closed", f"{summary.closed:,}"),
        ("  open", f"{summary.open:,}"),
        ("  open and overdue", f"{summary.overdue:,}"),
        (
            "everyone closed or listed open",
            "yes" if summary.loops_add_up else f"no: {len(summary.unaccounted)} missing",
        ),
        ("funnel adds up", "yes" if summary.funnel_adds_up else "no"),
        ("API requests by the field teams", f"{summary.requests:,}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def print_summary(console: Console, summary: DrillSummary) -> None:
    console.print(delays_table(summary))
    console.print(outcome_table(summary))
