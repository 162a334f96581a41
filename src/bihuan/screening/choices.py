"""Enumerations of fast testing (快检测)."""

from __future__ import annotations

from enum import StrEnum

from bihuan.protocol.choices import AreaKind, KeyPopulation

__all__ = [
    "AreaKind",
    "CampaignStatus",
    "ConfirmationStatus",
    "KeyPopulation",
    "RetestStatus",
    "SampleKind",
    "TestResult",
    "TubeKind",
]


class CampaignStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    CLOSED = "closed"


class TubeKind(StrEnum):
    """A pooled tube (N-in-1, 混采) or a single tube (单管单检)."""

    POOLED = "pooled"
    SINGLE = "single"


class SampleKind(StrEnum):
    SCREENING = "screening"  # a mass-testing round
    RETEST = "retest"  # single-tube re-test after a positive pool (复核)
    KEY_POPULATION = "key_population"  # a scheduled test of a key population
    QUARANTINE = "quarantine"  # a test day of a quarantine plan


class TestResult(StrEnum):
    __test__ = False  # not a pytest test class

    NEGATIVE = "negative"
    POSITIVE = "positive"
    INVALID = "invalid"


VALID_RESULTS = (TestResult.POSITIVE.value, TestResult.NEGATIVE.value)  # a result the tube is done with


class RetestStatus(StrEnum):
    """A single-tube re-test task at a pool-positive person's address."""

    OPEN = "open"
    SAMPLED = "sampled"
    RESULTED = "resulted"


class ConfirmationStatus(StrEnum):
    """The step from an individual positive to a case (确诊 / 无症状感染者 / 排除)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    ASYMPTOMATIC = "asymptomatic"
    NOT_CONFIRMED = "not_confirmed"
