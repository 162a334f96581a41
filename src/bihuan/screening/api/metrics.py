"""HTTP API of fast testing: metrics per round and per unit, key populations, the pooling advisor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from bihuan.core.deps import ProfileDep, UserCtx
from bihuan.people.schemas import Page
from bihuan.screening.choices import AreaKind, KeyPopulation
from bihuan.screening.schemas.metrics import (
    CampaignMetrics,
    KeyPopulationEnd,
    KeyPopulationEnrol,
    KeyPopulationMemberPublic,
    KeyPopulationMembersPublic,
    OverdueMembersPublic,
    PersonOverduePublic,
    PoolingAdvicePublic,
    RoundsPositivesPublic,
    UnitRoundStatusesPublic,
)
from bihuan.screening.service import advisor, key_populations, metrics

router = APIRouter()
PageDep = Annotated[Page, Depends()]


# -- metrics ---------------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/metrics")
def campaign_metrics(ctx: UserCtx, campaign_id: int) -> CampaignMetrics:
    """Turnaround sample → lab received → result (median, p90 hours) and positives of one round."""
    return metrics.campaign_metrics(ctx, campaign_id)


@router.get("/metrics/rounds")
def positives_by_round(ctx: UserCtx) -> RoundsPositivesPublic:
    """Positive pooled tubes, individual positives and cases of each round, oldest first."""
    rows = metrics.positives_by_round(ctx)
    return RoundsPositivesPublic(data=rows, count=len(rows))


@router.get("/metrics/units")
def unit_round_status(
    ctx: UserCtx,
    profile: ProfileDep,
    under: Annotated[int | None, Query(description="only units inside this jurisdiction")] = None,
) -> UnitRoundStatusesPublic:
    """Rounds that covered each unit and its streak of clean rounds (连续阴性轮次)."""
    rows = metrics.unit_round_status(ctx, profile, under=under)
    return UnitRoundStatusesPublic(data=rows, count=len(rows), clean_rounds=profile.screening.rounds.clean_rounds)


# -- key populations -------------------------------------------------------------------------------


@router.get("/key-populations/members")
def list_key_population_members(
    ctx: UserCtx,
    profile: ProfileDep,
    page: PageDep,
    population: KeyPopulation | None = None,
    current: Annotated[bool, Query(description="only memberships in force today")] = True,
) -> KeyPopulationMembersPublic:
    rows, count = key_populations.list_members(ctx, page, population=population, current=current)
    return KeyPopulationMembersPublic(data=[key_populations.member_public(m, profile) for m in rows], count=count)


@router.post("/key-populations/members", status_code=201)
def enrol_key_population_member(
    ctx: UserCtx, profile: ProfileDep, data: KeyPopulationEnrol, response: Response
) -> KeyPopulationMemberPublic:
    """Enrol a person (201); a current member is answered as is (200) and nothing changes."""
    member, created = key_populations.enrol(ctx, data)
    if not created:
        response.status_code = 200
    return key_populations.member_public(member, profile)


@router.get("/key-populations/members/{member_id}")
def get_key_population_member(ctx: UserCtx, profile: ProfileDep, member_id: int) -> KeyPopulationMemberPublic:
    return key_populations.member_public(key_populations.get_member(ctx, member_id), profile)


@router.post("/key-populations/members/{member_id}/end")
def end_key_population_membership(
    ctx: UserCtx, profile: ProfileDep, member_id: int, data: KeyPopulationEnd
) -> KeyPopulationMemberPublic:
    member = key_populations.end_membership(ctx, member_id, data.until)
    return key_populations.member_public(member, profile)


@router.get("/key-populations/overdue")
def overdue_key_population_members(
    ctx: UserCtx, profile: ProfileDep, page: PageDep, population: KeyPopulation | None = None
) -> OverdueMembersPublic:
    """Members whose scheduled test is past due (应检未检), the most overdue first."""
    rows, count = key_populations.overdue_members(ctx, profile, page, population=population)
    return OverdueMembersPublic(data=rows, count=count, as_of=ctx.clock.now())


@router.get("/key-populations/persons/{person_id}/overdue")
def person_overdue(ctx: UserCtx, profile: ProfileDep, person_id: int) -> PersonOverduePublic:
    return PersonOverduePublic(person_id=person_id, overdue=key_populations.is_overdue(ctx, person_id, profile))


# -- pooling advisor -------------------------------------------------------------------------------


@router.get("/advisor")
def pooling_advice(
    ctx: UserCtx,
    profile: ProfileDep,
    population: Annotated[int, Query(ge=1, description="people to screen")],
    lab_tests_per_hour: Annotated[float, Query(gt=0, description="lab throughput, tests per hour")],
    prevalence: Annotated[float | None, Query(ge=0, le=1, description="left out: estimated from rounds")] = None,
    campaign_id: Annotated[list[int] | None, Query(description="rounds to estimate from (default: last)")] = None,
    area_kind: AreaKind | None = None,
    pool_size: Annotated[int | None, Query(ge=1, description="size in use (default: profile's)")] = None,
) -> PoolingAdvicePublic:
    """Expected tests per person for each allowed pool size, the recommended size, and the extra tests and
    lab hours the size in use costs (Dorfman)."""
    return advisor.advise(
        ctx,
        profile,
        population=population,
        lab_tests_per_hour=lab_tests_per_hour,
        prevalence=prevalence,
        campaign_ids=campaign_id,
        area_kind=area_kind,
        current_pool_size=pool_size,
    )
