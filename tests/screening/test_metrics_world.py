"""Builders for the metrics, key-population and advisor tests (no tests here): rounds, tubes, samples and
results written straight through the tables, so that every number the metrics show is known by hand."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from tests.factories import District, context, make_district, make_person

from bihuan.core import auth
from bihuan.core.clock import SimulatedClock
from bihuan.core.db import Database
from bihuan.screening.choices import CampaignStatus, ConfirmationStatus, SampleKind, TestResult, TubeKind
from bihuan.screening.models import Campaign, CampaignUnit, Case, Confirmation, LabResult, Sample, Tube

_codes = itertools.count(1)


@pytest.fixture
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logins in milliseconds: these tests are about metrics, not password strength."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class World:
    """A district with people, and helpers that write rounds and their lab data directly."""

    database: Database
    clock: SimulatedClock
    district: District = field(init=False)

    def __post_init__(self) -> None:
        self.district = make_district(self.database, self.clock)

    def person(self, jurisdiction_id: int, name: str = "王芳") -> int:
        return make_person(self.database, self.clock, jurisdiction_id, name=name).id

    def round(
        self, code: str, units: list[int], starts_at: datetime, *, closed: bool = False, pool_size: int = 10
    ) -> int:
        with context(self.database, self.clock) as ctx:
            campaign = Campaign(
                code=code,
                name=f"第{code}轮全员核酸",
                status=(CampaignStatus.CLOSED if closed else CampaignStatus.RUNNING).value,
                starts_at=starts_at,
                deadline_at=starts_at + timedelta(hours=48),
                closed_at=starts_at + timedelta(hours=48) if closed else None,
                created_at=starts_at,
            )
            ctx.session.add(campaign)
            ctx.session.flush()
            for unit in units:
                ctx.session.add(
                    CampaignUnit(
                        campaign_id=campaign.id,
                        jurisdiction_id=unit,
                        area_kind="controlled",
                        pool_size=pool_size,
                        target=100,
                    )
                )
            return campaign.id

    def tube(
        self,
        campaign_id: int | None,
        people: list[int],
        sampled_at: datetime | list[datetime],
        *,
        kind: TubeKind = TubeKind.POOLED,
        sample_kind: SampleKind = SampleKind.SCREENING,
        duplicates: tuple[int, ...] = (),
    ) -> int:
        """A tube with one sample per person (those in `duplicates` flagged as duplicate samples)."""
        times = sampled_at if isinstance(sampled_at, list) else [sampled_at] * len(people)
        with context(self.database, self.clock) as ctx:
            tube = Tube(
                barcode=f"T{next(_codes):07d}",
                kind=kind.value,
                capacity=len(people),
                campaign_id=campaign_id,
                opened_at=min(times),
                closed_at=max(times),
            )
            ctx.session.add(tube)
            ctx.session.flush()
            for person, at in zip(people, times, strict=True):
                ctx.session.add(
                    Sample(
                        person_id=person,
                        tube_id=tube.id,
                        campaign_id=campaign_id,
                        kind=sample_kind.value,
                        sampled_at=at,
                        duplicate=person in duplicates,
                    )
                )
            return tube.id

    def result(
        self,
        tube_id: int,
        result: TestResult,
        tested_at: datetime,
        *,
        received_at: datetime | None = None,
        run: str = "r1",
    ) -> int:
        with context(self.database, self.clock) as ctx:
            tube = ctx.session.get(Tube, tube_id)
            assert tube is not None
            row = LabResult(
                lab="绍兴市疾控",
                tube_barcode=tube.barcode,
                run_id=run,
                result=result.value,
                ct_values={},
                received_at=received_at,
                tested_at=tested_at,
                recorded_at=tested_at,
                tube_id=tube_id,
            )
            ctx.session.add(row)
            ctx.session.flush()
            return row.id

    def case(self, person_id: int, lab_result_id: int, jurisdiction_id: int, at: datetime) -> int:
        with context(self.database, self.clock) as ctx:
            confirmation = Confirmation(
                person_id=person_id,
                lab_result_id=lab_result_id,
                status=ConfirmationStatus.CONFIRMED.value,
                opened_at=at,
                decided_at=at,
            )
            ctx.session.add(confirmation)
            ctx.session.flush()
            case = Case(
                person_id=person_id,
                classification="confirmed",
                confirmation_id=confirmation.id,
                confirmed_at=at,
                first_positive_sampling_date=date(at.year, at.month, at.day),
                jurisdiction_id=jurisdiction_id,
            )
            ctx.session.add(case)
            ctx.session.flush()
            return case.id
