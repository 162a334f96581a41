"""The daily report (日报) of a jurisdiction: the day's situation put in sentences and tables, in Chinese
or English, which the HTML page, the PDF and /api/reports/daily all show.

Every number comes from one ``SituationPublic`` (``command.situation.situation``), the same document the
dashboard and /api/situation show, and is written here once as text, so the three forms of the report
cannot disagree with each other or with the dashboard.
"""

from __future__ import annotations

from babel.support import Translations
from pydantic import BaseModel

from bihuan.command import _situation_labels as labels
from bihuan.command.capacity_schemas import GaugeStatus
from bihuan.command.situation_schemas import FoundSplit, SituationPublic
from bihuan.protocol import ProtocolProfile
from bihuan.web.formatting import format_date, format_datetime, format_number, format_percent
from bihuan.web.i18n import get_translations


class ReportItem(BaseModel):
    """One sentence of the report (headline, contacts, loops, bottlenecks, capacity, cadence)."""

    key: str
    text: str


class ReportTable(BaseModel):
    """A table of the report, its cells already written as the reader sees them."""

    key: str  # headline, delays, bottlenecks, capacity, epi_curve
    title: str
    columns: list[str]
    rows: list[list[str]]


class DailyReportPublic(BaseModel):
    """The daily report (日报): its title, sentences and tables in `language`, and the situation read."""

    language: str
    title: str
    subtitle: str
    items: list[ReportItem]
    tables: list[ReportTable]
    situation: SituationPublic


def daily_report(s: SituationPublic, profile: ProtocolProfile, language: str) -> DailyReportPublic:
    """The report of the situation `s`, written in `language` ("zh-CN" or "en")."""
    t = get_translations(language)
    place = _place(s, language)
    subtitle = t.gettext("%(place)s · %(day)s · as of %(as_of)s") % {
        "place": place,
        "day": format_date(s.day, language, "long"),
        "as_of": format_datetime(s.as_of, language),
    }
    return DailyReportPublic(
        language=language,
        title=t.gettext("Daily report"),
        subtitle=subtitle,
        items=_items(s, t, language, place),
        tables=[
            _headline_table(s, t, language),
            _delays_table(s, t, language),
            _bottlenecks_table(s, t, language),
            _capacity_table(s, t, language),
            _epi_table(s, t, language),
        ],
        situation=s,
    )


def _place(s: SituationPublic, language: str) -> str:
    name = s.jurisdiction_name_en if language == "en" else s.jurisdiction_name
    return name or get_translations(language).gettext("All jurisdictions")


def _n(value: int | float | None, language: str, digits: int | None = None) -> str:
    return format_number(value, language, digits)


def _hours(value: float | None, language: str) -> str:
    return format_number(value, language, 1)


# -- sentences ---------------------------------------------------------------------------------------


def _items(s: SituationPublic, t: Translations, language: str, place: str) -> list[ReportItem]:
    h = s.headline
    items = [
        ReportItem(
            key="headline",
            text=t.gettext(
                "%(place)s, %(day)s: %(new)s new cases (%(quarantine)s found in quarantine, %(community)s in the "
                "community); %(total)s cases in all."
            )
            % {
                "place": place,
                "day": format_date(s.day, language, "long"),
                "new": _n(h.new_cases_total, language),
                "quarantine": _n(h.new_cases.quarantine, language),
                "community": _n(h.new_cases.community, language),
                "total": _n(h.cumulative_cases, language),
            },
        ),
        ReportItem(
            key="contacts",
            text=t.gettext(
                "%(traced)s contacts traced today (%(traced_all)s in all); %(isolated)s isolated at a site today "
                "(%(isolated_all)s in all)."
            )
            % {
                "traced": _n(h.contacts_identified_today, language),
                "traced_all": _n(h.contacts_identified, language),
                "isolated": _n(h.isolated_today, language),
                "isolated_all": _n(h.isolated, language),
            },
        ),
        ReportItem(key="loops", text=_loops_sentence(s, t, language)),
        ReportItem(key="bottlenecks", text=_bottlenecks_sentence(s, t, language)),
        ReportItem(key="capacity", text=_capacity_sentence(s, t, language)),
        ReportItem(key="cadence", text=_cadence_sentence(s, t, language)),
    ]
    return items


def _loops_sentence(s: SituationPublic, t: Translations, language: str) -> str:
    loops = s.loops
    counts = {
        "open": _n(loops.open, language),
        "entered": _n(loops.entered, language),
        "closed": _n(loops.closed, language),
        "overdue": _n(loops.overdue, language),
    }
    if loops.overdue is None:
        return t.gettext("%(open)s loops open of %(entered)s entered (%(closed)s closed).") % counts
    return t.gettext("%(open)s loops open of %(entered)s entered (%(closed)s closed); %(overdue)s overdue.") % counts


def _bottlenecks_sentence(s: SituationPublic, t: Translations, language: str) -> str:
    if not s.bottlenecks:
        return t.gettext("No timed stage has overdue loops.")
    names = labels.delay_labels(t)
    listed = "; ".join(
        t.gettext("%(stage)s (%(task_force)s): %(n)s overdue")
        % {
            "stage": names.get(b.stage, b.stage.value),
            "task_force": b.task_force_en if language == "en" else b.task_force,
            "n": _n(b.overdue, language),
        }
        for b in s.bottlenecks
    )
    return t.gettext("Bottlenecks: %(listed)s.") % {"listed": listed}


def _capacity_sentence(s: SituationPublic, t: Translations, language: str) -> str:
    statuses = [g.status for g in s.capacity.gauges]
    return t.gettext("Capacity: %(alert)s gauges at alert, %(strained)s strained, %(normal)s normal.") % {
        "alert": _n(statuses.count(GaugeStatus.ALERT), language),
        "strained": _n(statuses.count(GaugeStatus.STRAINED), language),
        "normal": _n(statuses.count(GaugeStatus.NORMAL), language),
    }


def _cadence_sentence(s: SituationPublic, t: Translations, language: str) -> str:
    if s.incident is None:
        return t.gettext("No incident command in force (peacetime): a report every %(hours)s h.") % {
            "hours": _n(s.report_every_hours, language)
        }
    return t.gettext("Incident command in force: %(name)s (%(place)s), a report every %(hours)s h.") % {
        "name": s.incident.name,
        "place": s.incident.jurisdiction_name,
        "hours": _n(s.incident.report_every_hours, language),
    }


# -- tables ------------------------------------------------------------------------------------------


def _split(split: FoundSplit, language: str) -> list[str]:
    return [_n(split.quarantine, language), _n(split.community, language)]


def _headline_table(s: SituationPublic, t: Translations, language: str) -> ReportTable:
    h = s.headline
    rows = [
        (t.gettext("New cases"), h.new_cases_total),
        (t.gettext("of them found in quarantine"), h.new_cases.quarantine),
        (t.gettext("of them found in the community"), h.new_cases.community),
        (t.gettext("Cases in all"), h.cumulative_cases),
        (t.gettext("Contacts traced today"), h.contacts_identified_today),
        (t.gettext("Contacts traced in all"), h.contacts_identified),
        (t.gettext("Isolated at a site today"), h.isolated_today),
        (t.gettext("Isolated at a site in all"), h.isolated),
        (t.gettext("Open loops"), h.open_loops),
        (t.gettext("Overdue loops"), h.overdue_loops),
    ]
    return ReportTable(
        key="headline",
        title=t.gettext("Today at a glance"),
        columns=[t.gettext("Figure"), t.gettext("Number")],
        rows=[[label, _n(value, language)] for label, value in rows],
    )


def _delays_table(s: SituationPublic, t: Translations, language: str) -> ReportTable:
    names = labels.delay_labels(t)
    return ReportTable(
        key="delays",
        title=t.gettext("Delays against targets"),
        columns=[
            t.gettext("Stage"),
            t.gettext("Task force"),
            t.gettext("Measured"),
            t.gettext("Median (h)"),
            t.gettext("P90 (h)"),
            t.gettext("Target (h)"),
            t.gettext("Within target"),
            t.gettext("Running overdue"),
        ],
        rows=[
            [
                names.get(d.stage, d.stage.value),
                d.task_force_en if language == "en" else d.task_force,
                _n(d.count, language),
                _hours(d.median_hours, language),
                _hours(d.p90_hours, language),
                _hours(d.target_hours, language),
                format_percent(d.within_target, language),
                _n(d.pending_overdue, language),
            ]
            for d in s.delays.stages
        ],
    )


def _bottlenecks_table(s: SituationPublic, t: Translations, language: str) -> ReportTable:
    names = labels.delay_labels(t)
    return ReportTable(
        key="bottlenecks",
        title=t.gettext("Bottlenecks"),
        columns=[t.gettext("Stage"), t.gettext("Task force"), t.gettext("Overdue"), t.gettext("Running")],
        rows=[
            [
                names.get(b.stage, b.stage.value),
                b.task_force_en if language == "en" else b.task_force,
                _n(b.overdue, language),
                _n(b.pending, language),
            ]
            for b in s.bottlenecks
        ],
    )


def _capacity_table(s: SituationPublic, t: Translations, language: str) -> ReportTable:
    statuses = labels.gauge_status_labels(t)
    names = labels.resource_labels(t)
    return ReportTable(
        key="capacity",
        title=t.gettext("Capacity and resources"),
        columns=[
            t.gettext("Resource"),
            t.gettext("Used"),
            t.gettext("Total"),
            t.gettext("Share used"),
            t.gettext("Status"),
        ],
        rows=[
            [
                names.get(g.resource, g.resource.value),
                _n(g.used, language),
                _n(g.total, language),
                format_percent(g.ratio, language),
                statuses.get(g.status.value, g.status.value),
            ]
            for g in s.capacity.gauges
        ],
    )


def _epi_table(s: SituationPublic, t: Translations, language: str) -> ReportTable:
    return ReportTable(
        key="epi_curve",
        title=t.gettext("Epidemic curve"),
        columns=[
            t.gettext("Day"),
            t.gettext("Reported: quarantine"),
            t.gettext("Reported: community"),
            t.gettext("By onset: quarantine"),
            t.gettext("By onset: community"),
            t.gettext("Reported without onset"),
        ],
        rows=[
            [
                format_date(d.day, language, "short"),
                *_split(d.by_report, language),
                *_split(d.by_onset, language),
                _n(d.no_onset.quarantine + d.no_onset.community, language),
            ]
            for d in s.epi_curve.days
        ],
    )
