"""Metrics of fast testing (快检测指标): turnaround, positives per round, rounds and clean streaks per unit.

Everything is aggregated in SQL or over fetched columns with NumPy; nothing walks ORM objects row by row.
A tube's result is its first valid result (positive or negative; an invalid run is waiting for a re-run);
a tube is positive when any of its results is. Counts are restricted to the people the actor sees.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, Select, case, distinct, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import Subquery

from bihuan.core.context import Ctx
from bihuan.core.permissions import Permission, require
from bihuan.people.models import Jurisdiction, Person
from bihuan.people.service import in_scope
from bihuan.protocol import ProtocolProfile
from bihuan.screening.choices import VALID_RESULTS, CampaignStatus, SampleKind, TestResult, TubeKind
from bihuan.screening.models import Campaign, CampaignUnit, Case, Confirmation, LabResult, Sample, Tube
from bihuan.screening.schemas.metrics import (
    CampaignMetrics,
    HistogramBin,
    HourStats,
    RoundPositives,
    Turnaround,
    UnitRound,
    UnitRoundState,
    UnitRoundStatus,
)
from bihuan.screening.service import campaigns

AnySelect = Select[*tuple[Any, ...]]
HOUR = 3600.0
_HISTOGRAM_WIDTHS = (1.0, 2.0, 4.0, 6.0, 12.0, 24.0, 48.0)
_HISTOGRAM_MAX_BINS = 24


class epoch_seconds(FunctionElement[float]):
    """Seconds since 1970 of a stored UTC datetime, as a float, on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


# -- shared pieces ---------------------------------------------------------------------------------


def tube_results(tube_ids: Select[Any] | None = None) -> Subquery:
    """Per tube: positive (any positive result), resulted (a valid result), first received and result times."""
    valid = LabResult.result.in_(VALID_RESULTS)
    stmt = select(
        LabResult.tube_id.label("tube_id"),
        func.max(case((LabResult.result == TestResult.POSITIVE.value, 1), else_=0)).label("positive"),
        func.max(case((valid, 1), else_=0)).label("resulted"),
        epoch_seconds(func.min(LabResult.received_at)).label("received"),
        epoch_seconds(func.min(case((valid, LabResult.tested_at)))).label("result"),
    ).where(LabResult.tube_id.is_not(None))
    if tube_ids is not None:
        stmt = stmt.where(LabResult.tube_id.in_(tube_ids))
    return stmt.group_by(LabResult.tube_id).subquery("tube_results")


def _people_in_scope(ctx: Ctx, stmt: AnySelect) -> AnySelect:
    """Keep samples of people in the actor's subtree (no join at all for a province-wide actor)."""
    if not ctx.actor.jurisdiction_path:
        return stmt
    return in_scope(ctx, stmt.join(Person, Person.id == Sample.person_id), Person.jurisdiction_id)


def _status(campaign: Campaign, ctx: Ctx) -> CampaignStatus:
    return campaigns.campaign_status(campaign, ctx.clock.now())


def _visible_campaigns(ctx: Ctx) -> Select[Any]:
    stmt = select(Campaign)
    if ctx.actor.jurisdiction_path:
        units = in_scope(ctx, select(CampaignUnit.campaign_id), CampaignUnit.jurisdiction_id)
        stmt = stmt.where(Campaign.id.in_(units))
    return stmt


# -- turnaround ------------------------------------------------------------------------------------


def _hour_stats(hours: NDArray[np.float64]) -> HourStats:
    known = hours[~np.isnan(hours)]
    if known.size == 0:
        return HourStats(count=0, median_hours=None, p90_hours=None, max_hours=None)
    return HourStats(
        count=int(known.size),
        median_hours=float(np.median(known)),
        p90_hours=float(np.percentile(known, 90)),
        max_hours=float(known.max()),
    )


def _turnaround_columns(ctx: Ctx, campaign_id: int) -> tuple[NDArray[np.str_], NDArray[np.float64]]:
    """Kinds and (sampled, received, result) epoch seconds of the round's samples, duplicates left out."""
    in_round = select(Sample.tube_id).where(Sample.campaign_id == campaign_id)
    tubes = tube_results(in_round)
    stmt: AnySelect = (
        select(Sample.kind, epoch_seconds(Sample.sampled_at), tubes.c.received, tubes.c.result)
        .select_from(Sample)
        .outerjoin(tubes, tubes.c.tube_id == Sample.tube_id)
        .where(Sample.campaign_id == campaign_id, Sample.duplicate.is_(False))
    )
    rows = ctx.session.execute(_people_in_scope(ctx, stmt)).all()
    if not rows:
        return np.array([], dtype=str), np.empty((0, 3))
    kinds, *times = zip(*rows, strict=True)
    # milliseconds: SQLite's julianday() carries ~0.05 ms of noise that would shift exact hours across bins
    return np.array(kinds, dtype=str), np.round(np.array(times, dtype=np.float64).T, 3)


def turnaround(ctx: Ctx, campaign_id: int) -> tuple[list[Turnaround], NDArray[np.float64]]:
    """Turnaround of each kind of sample in the round, and the screening samples' sample → result hours."""
    kinds, times = _turnaround_columns(ctx, campaign_id)
    found: list[Turnaround] = []
    screening_hours = np.empty(0)
    for kind in [k.value for k in SampleKind if k.value in set(kinds.tolist())]:
        sampled, received, result = times[kinds == kind].T
        to_result = (result - sampled) / HOUR
        resulted = int(np.count_nonzero(~np.isnan(result)))
        found.append(
            Turnaround(
                kind=kind,
                samples=int(sampled.size),
                resulted=resulted,
                pending=int(sampled.size) - resulted,
                sample_to_received=_hour_stats((received - sampled) / HOUR),
                received_to_result=_hour_stats((result - received) / HOUR),
                sample_to_result=_hour_stats(to_result),
            )
        )
        if kind == SampleKind.SCREENING.value:
            screening_hours = to_result[~np.isnan(to_result)]
    return found, screening_hours


def histogram(hours: NDArray[np.float64]) -> list[HistogramBin]:
    """Counts of hours in bins of a round width (1 h to 48 h) chosen so that at most 24 bins cover the data."""
    if hours.size == 0:
        return []
    low = min(0.0, float(hours.min()))
    high = max(float(hours.max()), 1e-9)
    width = next((w for w in _HISTOGRAM_WIDTHS if (high - low) / w <= _HISTOGRAM_MAX_BINS), _HISTOGRAM_WIDTHS[-1])
    start = np.floor(low / width) * width
    edges = np.arange(start, high + width, width)
    if edges[-1] <= high:
        edges = np.append(edges, edges[-1] + width)
    counts, _ = np.histogram(hours, bins=edges)
    return [
        HistogramBin(lower_hours=float(edges[i]), upper_hours=float(edges[i + 1]), count=int(c))
        for i, c in enumerate(counts)
    ]


# -- positives per round ---------------------------------------------------------------------------


def _positive_counts(ctx: Ctx, campaign_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """Per round: people sampled, tested tubes, positive pooled tubes, people positive on a single tube."""
    in_rounds = select(Sample.tube_id).where(Sample.campaign_id.in_(campaign_ids))
    tubes = tube_results(in_rounds)
    positive = tubes.c.positive == 1
    screened = (Sample.kind == SampleKind.SCREENING.value) & Sample.duplicate.is_(False)
    stmt: AnySelect = (
        select(
            Sample.campaign_id,
            func.count(distinct(case((screened, Sample.person_id)))),
            func.count(distinct(case((tubes.c.resulted == 1, Sample.tube_id)))),
            func.count(distinct(case((positive & (Tube.kind == TubeKind.POOLED.value), Sample.tube_id)))),
            func.count(distinct(case((positive & (Tube.kind == TubeKind.SINGLE.value), Sample.person_id)))),
        )
        .select_from(Sample)
        .join(Tube, Tube.id == Sample.tube_id)
        .outerjoin(tubes, tubes.c.tube_id == Sample.tube_id)
        .where(Sample.campaign_id.in_(campaign_ids))
        .group_by(Sample.campaign_id)
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in ctx.session.execute(_people_in_scope(ctx, stmt))}


def _case_counts(ctx: Ctx, campaign_ids: list[int]) -> dict[int, int]:
    """Per round: cases confirmed from a result of one of the round's tubes sampled from that person."""
    stmt: AnySelect = (
        select(Sample.campaign_id, func.count(distinct(Case.id)))
        .select_from(Case)
        .join(Confirmation, Confirmation.id == Case.confirmation_id)
        .join(LabResult, LabResult.id == Confirmation.lab_result_id)
        .join(Sample, (Sample.tube_id == LabResult.tube_id) & (Sample.person_id == Case.person_id))
        .where(Sample.campaign_id.in_(campaign_ids))
        .group_by(Sample.campaign_id)
    )
    return {row[0]: row[1] for row in ctx.session.execute(in_scope(ctx, stmt, Case.jurisdiction_id))}


def positives_by_round(ctx: Ctx, campaign_ids: list[int] | None = None) -> list[RoundPositives]:
    """Positive pools, individual positives and cases of each visible round, oldest first."""
    require(ctx.actor, Permission.READ_PEOPLE)
    stmt = _visible_campaigns(ctx).order_by(Campaign.starts_at, Campaign.id)
    if campaign_ids is not None:
        stmt = stmt.where(Campaign.id.in_(campaign_ids))
    rounds = list(ctx.session.scalars(stmt))
    ids = [c.id for c in rounds]
    counts = _positive_counts(ctx, ids) if ids else {}
    cases = _case_counts(ctx, ids) if ids else {}
    found = []
    for c in rounds:
        sampled, tested, pools, individuals = counts.get(c.id, (0, 0, 0, 0))
        found.append(
            RoundPositives(
                campaign_id=c.id,
                code=c.code,
                name=c.name,
                status=_status(c, ctx),
                starts_at=c.starts_at,
                sampled=sampled,
                tested_tubes=tested,
                positive_pools=pools,
                individual_positives=individuals,
                cases=cases.get(c.id, 0),
            )
        )
    return found


def campaign_metrics(ctx: Ctx, campaign_id: int) -> CampaignMetrics:
    """A round's turnaround (median, p90 hours), its histogram and its positives."""
    campaign = campaigns.get_campaign(ctx, campaign_id)
    kinds, hours = turnaround(ctx, campaign.id)
    return CampaignMetrics(
        campaign_id=campaign.id,
        code=campaign.code,
        name=campaign.name,
        status=_status(campaign, ctx),
        as_of=ctx.clock.now(),
        turnaround=kinds,
        histogram=histogram(hours),
        positives=positives_by_round(ctx, [campaign.id])[0],
    )


# -- rounds and clean streaks per unit -------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    sampled: int = 0
    positive: int = 0
    unresulted: int = 0


def _units(ctx: Ctx, under: int | None) -> list[tuple[int, str, str, str, str]]:
    """(id, code, name, level, path) of every unit some round covered, in the actor's subtree."""
    stmt: AnySelect = select(
        Jurisdiction.id, Jurisdiction.code, Jurisdiction.name, Jurisdiction.level, Jurisdiction.path
    ).where(Jurisdiction.id.in_(select(CampaignUnit.jurisdiction_id)))
    if under is not None:
        place = select(Jurisdiction.path).where(Jurisdiction.id == under).scalar_subquery()
        stmt = stmt.where(Jurisdiction.path.startswith(place))
    stmt = in_scope(ctx, stmt, Jurisdiction.id).order_by(Jurisdiction.path)
    return [(row[0], row[1], row[2], row[3], row[4]) for row in ctx.session.execute(stmt)]


def _rounds_held(ctx: Ctx) -> tuple[list[Campaign], dict[int, set[str]]]:
    """Rounds that have started, newest first, and the unit paths each covers."""
    now = ctx.clock.now()
    started = or_(Campaign.starts_at <= now, Campaign.status != CampaignStatus.PLANNED.value)
    held = list(ctx.session.scalars(select(Campaign).where(started).order_by(Campaign.starts_at.desc(), Campaign.id)))
    covered: dict[int, set[str]] = defaultdict(set)
    stmt = (
        select(CampaignUnit.campaign_id, Jurisdiction.path)
        .join(Jurisdiction, Jurisdiction.id == CampaignUnit.jurisdiction_id)
        .where(CampaignUnit.campaign_id.in_([c.id for c in held]))
    )
    for campaign_id, path in ctx.session.execute(stmt):
        covered[campaign_id].add(path)
    return held, covered


def _ancestors(path: str) -> list[str]:
    """'33/3306/' → ['33/', '33/3306/']: the path of each node from the root down to this one."""
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _tallies(ctx: Ctx, campaign_ids: list[int], unit_paths: set[str]) -> dict[tuple[str, int], _Tally]:
    """Samples, positive samples and unresulted samples per (unit path, round), rolled up from people's places."""
    tubes = tube_results(select(Sample.tube_id).where(Sample.campaign_id.in_(campaign_ids)))
    counted = Sample.duplicate.is_(False)
    stmt: AnySelect = (
        select(
            Sample.campaign_id,
            Jurisdiction.path,
            func.count(distinct(case((counted, Sample.person_id)))),
            func.count(case((tubes.c.positive == 1, Sample.id))),
            func.count(case((counted & (func.coalesce(tubes.c.resulted, 0) == 0), Sample.id))),
        )
        .select_from(Sample)
        .join(Person, Person.id == Sample.person_id)
        .join(Jurisdiction, Jurisdiction.id == Person.jurisdiction_id)
        .outerjoin(tubes, tubes.c.tube_id == Sample.tube_id)
        .where(Sample.campaign_id.in_(campaign_ids))
        .group_by(Sample.campaign_id, Jurisdiction.path)
    )
    tallies: dict[tuple[str, int], _Tally] = defaultdict(_Tally)
    for campaign_id, path, sampled, positive, unresulted in ctx.session.execute(
        in_scope(ctx, stmt, Person.jurisdiction_id)
    ):
        for unit in unit_paths.intersection(_ancestors(path)):
            tally = tallies[(unit, campaign_id)]
            tally.sampled += sampled
            tally.positive += positive
            tally.unresulted += unresulted
    return tallies


def _state(tally: _Tally, status: CampaignStatus) -> UnitRoundState:
    if tally.positive:
        return "positive"
    if status is not CampaignStatus.CLOSED and (tally.unresulted or not tally.sampled):
        return "pending"
    return "clean"


def _streak(history: list[UnitRound]) -> int:
    """Consecutive clean rounds, newest first; a pending round (results still coming) neither counts nor breaks."""
    streak = 0
    for held in history:
        if held.state == "positive":
            break
        if held.state == "clean":
            streak += 1
    return streak


def unit_round_status(ctx: Ctx, profile: ProtocolProfile, *, under: int | None = None) -> list[UnitRoundStatus]:
    """For each unit a round covered: how many rounds covered it and its streak of clean rounds (连续阴性).

    A round covers a unit when one of the round's units is that unit or one of its ancestors. In a
    round, a unit is positive when any result among its people's samples is positive; pending while
    the round runs and some sample has no valid result yet (or none was taken); clean otherwise. The
    unit is clean when its latest `clean_rounds` rounds (pending ones skipped) are clean.
    """
    require(ctx.actor, Permission.READ_PEOPLE)
    units = _units(ctx, under)
    held, covered = _rounds_held(ctx)
    unit_paths = {u[4] for u in units}
    tallies = _tallies(ctx, [c.id for c in held], unit_paths) if units and held else {}
    needed = profile.screening.rounds.clean_rounds
    statuses = {c.id: _status(c, ctx) for c in held}
    found = []
    for jurisdiction_id, code, name, level, path in units:
        above = set(_ancestors(path))
        history = []
        for c in held:
            if not covered[c.id] & above:
                continue
            tally = tallies.get((path, c.id), _Tally())
            history.append(
                UnitRound(
                    campaign_id=c.id,
                    code=c.code,
                    starts_at=c.starts_at,
                    status=statuses[c.id],
                    state=_state(tally, statuses[c.id]),
                    sampled=tally.sampled,
                    positive_samples=tally.positive,
                    unresulted_samples=tally.unresulted,
                )
            )
        streak = _streak(history)
        found.append(
            UnitRoundStatus(
                jurisdiction_id=jurisdiction_id,
                code=code,
                name=name,
                level=level,
                rounds=len(history),
                clean_streak=streak,
                clean=streak >= needed,
                last_positive_campaign_id=next((h.campaign_id for h in history if h.state == "positive"), None),
                history=history,
            )
        )
    return found
