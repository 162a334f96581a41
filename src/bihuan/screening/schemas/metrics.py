"""API shapes of fast-testing metrics, key populations and the pooling advisor."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bihuan.screening.choices import AreaKind, CampaignStatus, KeyPopulation

# -- metrics ---------------------------------------------------------------------------------------


class HourStats(BaseModel):
    """A delay in hours over the samples that have both ends; percentiles interpolate linearly (NumPy's default)."""

    count: int
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None


class Turnaround(BaseModel):
    """Turnaround of one kind of sample in a round: sample → lab received → result (非重复样本)."""

    kind: str
    samples: int
    resulted: int
    pending: int
    sample_to_received: HourStats
    received_to_result: HourStats
    sample_to_result: HourStats


class HistogramBin(BaseModel):
    lower_hours: float
    upper_hours: float
    count: int


class RoundPositives(BaseModel):
    """Positives found in one round (一轮): positive pooled tubes, individual positives, cases."""

    campaign_id: int
    code: str
    name: str
    status: CampaignStatus
    starts_at: datetime
    sampled: int = Field(description="people sampled in the round (screening samples, duplicates not counted)")
    tested_tubes: int = Field(description="tubes of the round with a valid (positive or negative) result")
    positive_pools: int
    individual_positives: int = Field(description="people positive on a single tube (screening or re-test)")
    cases: int = Field(description="cases confirmed from a result of this round")


class RoundsPositivesPublic(BaseModel):
    data: list[RoundPositives]
    count: int


class CampaignMetrics(BaseModel):
    campaign_id: int
    code: str
    name: str
    status: CampaignStatus
    as_of: datetime
    turnaround: list[Turnaround]
    histogram: list[HistogramBin] = Field(description="sample → result hours of screening samples")
    positives: RoundPositives


UnitRoundState = Literal["clean", "positive", "pending"]


class UnitRound(BaseModel):
    """One round covering a unit: positive (a positive result among its samples), pending or clean."""

    campaign_id: int
    code: str
    starts_at: datetime
    status: CampaignStatus
    state: UnitRoundState
    sampled: int
    positive_samples: int
    unresulted_samples: int


class UnitRoundStatus(BaseModel):
    """Rounds that covered a unit and its run of clean rounds (连续阴性轮次); clean at the profile's number."""

    jurisdiction_id: int
    code: str
    name: str
    level: str
    rounds: int
    clean_streak: int
    clean: bool
    last_positive_campaign_id: int | None
    history: list[UnitRound] = Field(description="newest round first")


class UnitRoundStatusesPublic(BaseModel):
    data: list[UnitRoundStatus]
    count: int
    clean_rounds: int


# -- key populations -------------------------------------------------------------------------------


class KeyPopulationEnrol(BaseModel):
    person_id: int
    population: KeyPopulation
    since: date | None = Field(None, description="first day of membership; today when left out")


class KeyPopulationEnd(BaseModel):
    until: date | None = Field(None, description="membership ends on this day (not a member from it on); today")


class KeyPopulationMemberPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    population: KeyPopulation
    since: date
    until: date | None
    interval_days: int | None = Field(None, description="days between tests, from the protocol profile")


class KeyPopulationMembersPublic(BaseModel):
    data: list[KeyPopulationMemberPublic]
    count: int


class OverdueMember(BaseModel):
    """A member whose next scheduled test is past due (应检未检)."""

    member_id: int
    person_id: int
    person_name: str
    jurisdiction_id: int
    jurisdiction_name: str
    population: KeyPopulation
    interval_days: int
    since: date
    last_sampled_at: datetime | None = Field(description="last sample since enrolment; None: never tested since")
    due_at: datetime
    overdue_hours: float


class OverdueMembersPublic(BaseModel):
    data: list[OverdueMember]
    count: int
    as_of: datetime


class PersonOverduePublic(BaseModel):
    person_id: int
    overdue: bool


# -- pooling advisor -------------------------------------------------------------------------------


class PoolCountPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pool_size: int
    tubes: int
    positive: int


class PrevalenceEstimate(BaseModel):
    """Prevalence estimated from the positivity of tested screening tubes of some rounds (Dorfman inversion)."""

    campaign_ids: list[int]
    by_pool_size: list[PoolCountPublic]
    tubes: int
    positive_tubes: int
    prevalence: float | None


class PoolOptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pool_size: int
    tests_per_person: float
    expected_tests: float
    lab_hours: float
    expected_positive_pools: float


class PoolingAdvicePublic(BaseModel):
    prevalence: float
    prevalence_source: Literal["given", "rounds"]
    estimate: PrevalenceEstimate | None
    population: int
    lab_tests_per_hour: float
    area_kind: AreaKind | None
    current_pool_size: int
    recommended_pool_size: int
    options: list[PoolOptionPublic]
    extra_tests: float = Field(description="expected tests of the current size beyond the recommended one")
    extra_lab_hours: float
