"""The pooling advisor (混采方案研判): Dorfman maths wired to the protocol profile and the stored rounds.

Prevalence is either given or estimated from the screening tubes of the last rounds: each tested tube
counts once, with its pool size the number of people sampled into it (Dorfman inversion, or the
maximum-likelihood estimate when the rounds mixed pool sizes). Re-test tubes are left out: they are
taken from people already known to sit in a positive pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, case, distinct, func, select

from bihuan.assessment import PoolCount, advise_pooling, prevalence_from_pools
from bihuan.core.context import Ctx
from bihuan.core.errors import FieldError
from bihuan.core.permissions import Permission, require
from bihuan.people.service import in_scope
from bihuan.protocol import ProtocolProfile, pool_size
from bihuan.screening.choices import AreaKind, SampleKind
from bihuan.screening.models import Campaign, CampaignUnit, Sample
from bihuan.screening.schemas.metrics import (
    PoolCountPublic,
    PoolingAdvicePublic,
    PoolOptionPublic,
    PrevalenceEstimate,
)
from bihuan.screening.service.metrics import tube_results

AnySelect = Select[*tuple[Any, ...]]


def last_round_ids(ctx: Ctx, profile: ProtocolProfile, rounds: int | None = None) -> list[int]:
    """The latest rounds that have started (the profile's `cadence.recent_rounds` when not told), newest first."""
    count = rounds or profile.screening.cadence.recent_rounds
    stmt: AnySelect = select(Campaign.id).where(Campaign.starts_at <= ctx.clock.now())
    if ctx.actor.jurisdiction_path:
        stmt = stmt.where(
            Campaign.id.in_(in_scope(ctx, select(CampaignUnit.campaign_id), CampaignUnit.jurisdiction_id))
        )
    return list(ctx.session.scalars(stmt.order_by(Campaign.starts_at.desc(), Campaign.id.desc()).limit(count)))


def estimate_prevalence(ctx: Ctx, campaign_ids: Sequence[int]) -> PrevalenceEstimate:
    """Tested screening tubes of these rounds by pool size, and the prevalence they imply."""
    require(ctx.actor, Permission.READ_PEOPLE)
    ids = sorted(set(campaign_ids))
    screening = (Sample.campaign_id.in_(ids)) & (Sample.kind == SampleKind.SCREENING.value)
    results = tube_results(select(Sample.tube_id).where(screening))
    per_tube = (
        select(
            Sample.tube_id.label("tube_id"),
            func.count(distinct(Sample.person_id)).label("size"),
            func.max(results.c.positive).label("positive"),
        )
        .join(results, results.c.tube_id == Sample.tube_id)
        .where(screening, results.c.resulted == 1)
        .group_by(Sample.tube_id)
        .subquery()
    )
    stmt = (
        select(per_tube.c.size, func.count(), func.sum(case((per_tube.c.positive == 1, 1), else_=0)))
        .group_by(per_tube.c.size)
        .order_by(per_tube.c.size)
    )
    counts = [PoolCount(int(size), int(tubes), int(positive)) for size, tubes, positive in ctx.session.execute(stmt)]
    return PrevalenceEstimate(
        campaign_ids=ids,
        by_pool_size=[PoolCountPublic.model_validate(c) for c in counts],
        tubes=sum(c.tubes for c in counts),
        positive_tubes=sum(c.positive for c in counts),
        prevalence=prevalence_from_pools(counts),
    )


def advise(
    ctx: Ctx,
    profile: ProtocolProfile,
    *,
    population: int,
    lab_tests_per_hour: float,
    prevalence: float | None = None,
    campaign_ids: Sequence[int] | None = None,
    area_kind: AreaKind | None = None,
    current_pool_size: int | None = None,
) -> PoolingAdvicePublic:
    """Expected tests and lab hours of each allowed pool size, the recommended size, and the extra cost of
    the size in use: `current_pool_size`, else the profile's size for `area_kind` (default: other areas).

    Without a prevalence, it is estimated from `campaign_ids`, else from the profile's number of last rounds.
    """
    require(ctx.actor, Permission.READ_PEOPLE)
    estimate = None
    if prevalence is None:
        ids = list(campaign_ids) if campaign_ids else last_round_ids(ctx, profile)
        estimate = estimate_prevalence(ctx, ids)
        if estimate.prevalence is None:
            raise FieldError("prevalence", "no tested screening tube in the chosen rounds: give a prevalence")
        prevalence = estimate.prevalence
    if current_pool_size is None:
        area_kind = area_kind or AreaKind.OTHER
        current_pool_size = pool_size(area_kind, profile)
    advice = advise_pooling(
        prevalence, profile.screening.allowed_pool_sizes, current_pool_size, population, lab_tests_per_hour
    )
    return PoolingAdvicePublic(
        prevalence=advice.prevalence,
        prevalence_source="given" if estimate is None else "rounds",
        estimate=estimate,
        population=population,
        lab_tests_per_hour=lab_tests_per_hour,
        area_kind=area_kind,
        current_pool_size=current_pool_size,
        recommended_pool_size=advice.recommended.pool_size,
        options=[PoolOptionPublic.model_validate(o) for o in advice.options],
        extra_tests=advice.extra_tests,
        extra_lab_hours=advice.extra_lab_hours,
    )
