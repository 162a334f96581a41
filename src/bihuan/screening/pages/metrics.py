"""Pages of fast testing: a round's metrics (turnaround chart), units and their clean rounds, overdue key
populations, and the pooling advisor."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bihuan.core.deps import UserCtx
from bihuan.core.errors import FieldError
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile
from bihuan.screening.choices import AreaKind, KeyPopulation
from bihuan.screening.schemas.metrics import PoolingAdvicePublic
from bihuan.screening.service import advisor, key_populations, metrics
from bihuan.web.templating import render

router = APIRouter()
PAGE_SIZE = 50


def _profile(request: Request) -> ProtocolProfile:
    profile: ProtocolProfile = request.app.state.profile
    return profile


@router.get("/screening/campaigns/{campaign_id}/metrics")
def campaign_metrics_page(ctx: UserCtx, request: Request, campaign_id: int) -> Response:
    """Turnaround figures and histogram, and the positives of one round."""
    found = metrics.campaign_metrics(ctx, campaign_id)
    chart = {
        "bins": [f"{b.lower_hours:g}–{b.upper_hours:g}" for b in found.histogram],
        "counts": [b.count for b in found.histogram],
    }
    return render(request, "screening/metrics_campaign.html", {"metrics": found, "chart": chart})


@router.get("/screening/metrics/units")
def unit_metrics_page(ctx: UserCtx, request: Request) -> Response:
    """Positives per round, and for each unit its rounds and clean streak."""
    profile = _profile(request)
    rounds = metrics.positives_by_round(ctx)
    chart = {
        "codes": [r.code for r in rounds],
        "positive_pools": [r.positive_pools for r in rounds],
        "individual_positives": [r.individual_positives for r in rounds],
        "cases": [r.cases for r in rounds],
    }
    context = {
        "rounds": rounds,
        "units": metrics.unit_round_status(ctx, profile),
        "clean_rounds": profile.screening.rounds.clean_rounds,
        "chart": chart,
    }
    return render(request, "screening/metrics_units.html", context)


@router.get("/screening/key-populations/overdue")
def overdue_page(ctx: UserCtx, request: Request, population: str = "", page: int = 1) -> Response:
    """Key-population members whose scheduled test is past due, the most overdue first."""
    profile = _profile(request)
    chosen = KeyPopulation(population) if population in set(KeyPopulation) else None
    page = max(page, 1)
    rows, count = key_populations.overdue_members(ctx, profile, Page(page=page, page_size=PAGE_SIZE), population=chosen)
    context = {
        "members": rows,
        "count": count,
        "page": page,
        "page_size": PAGE_SIZE,
        "population": chosen.value if chosen else "",
        "populations": [(p.value, profile.screening.key_populations.get(p)) for p in KeyPopulation],
        "as_of": ctx.clock.now(),
    }
    return render(request, "screening/key_population_overdue.html", context)


def _number(raw: str, field: str, cast: type[float] | type[int]) -> Any:
    try:
        return cast(raw.replace(",", "").strip())
    except ValueError:
        raise FieldError(field, "not a number") from None


@router.get("/screening/advisor")
def advisor_page(
    ctx: UserCtx,
    request: Request,
    source: str = "given",
    prevalence_percent: str = "0.1",
    area_kind: str = AreaKind.OTHER.value,
    population: str = "1000000",
    lab_tests_per_hour: str = "1000",
) -> Response:
    """A form: a prevalence, or "from the last rounds"; a table of E(k, p) per size and the recommendation."""
    profile = _profile(request)
    kind = AreaKind(area_kind) if area_kind in set(AreaKind) else AreaKind.OTHER
    advice: PoolingAdvicePublic | None = None
    error = None
    try:
        prevalence = None if source == "rounds" else _number(prevalence_percent, "prevalence", float) / 100
        advice = advisor.advise(
            ctx,
            profile,
            population=_number(population, "population", int),
            lab_tests_per_hour=_number(lab_tests_per_hour, "lab_tests_per_hour", float),
            prevalence=prevalence,
            area_kind=kind,
        )
    except FieldError as exc:
        error = exc
    context = {
        "advice": advice,
        "error": error,
        "form": {
            "source": "rounds" if source == "rounds" else "given",
            "prevalence_percent": prevalence_percent,
            "area_kind": kind.value,
            "population": population,
            "lab_tests_per_hour": lab_tests_per_hour,
        },
        "area_kinds": [k.value for k in AreaKind],
        "profile_sizes": {k.value: profile.screening.pool_size[k] for k in AreaKind},
    }
    return render(request, "screening/advisor.html", context, status_code=200 if error is None else 422)
