"""API shapes of lab results (检测结果) and positive-pool follow-up (阳性混管处置)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bihuan.screening.choices import ConfirmationStatus, RetestStatus


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LabResultIn(BaseModel):
    """One result as a lab sends it; checked by the same rules as a row of an uploaded file.

    Values are loose on purpose (a Ct may come as "24.5"): a bad value is reported with its row,
    field and reason rather than refusing the whole batch.
    """

    tube_barcode: str | None = None
    result: str | None = Field(default=None, description="negative / positive / invalid, or 阴性 / 阳性 / 无效")
    ct_orf1ab: float | str | None = None
    ct_n: float | str | None = None
    ct_e: float | str | None = None
    lab: str | None = None
    run_id: str | int | None = None
    received_at: datetime | str | None = Field(default=None, description="ISO time; without a zone, local time")
    tested_at: datetime | str | None = Field(default=None, description="ISO time; without a zone, local time")


class LabRowError(BaseModel):
    row: int
    field: str
    reason: str


class LabUploadPublic(_Public):
    """What one batch of results did (the kept import report), with what its results are now."""

    id: int
    kind: str
    filename: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    rows_total: int
    rows_created: int
    rows_unchanged: int
    rows_rejected: int
    errors: list[dict[str, Any]]
    held: int = Field(0, description="stored results of this batch still waiting for their tube")
    positive: int = Field(0, description="stored positive results of this batch")


class HeldResultPublic(_Public):
    id: int
    lab: str
    tube_barcode: str
    run_id: str
    result: str
    tested_at: datetime
    recorded_at: datetime


class HeldResultsPublic(BaseModel):
    data: list[HeldResultPublic]
    count: int


class RetestPublic(BaseModel):
    """A single-tube re-sampling task, with the person masked, the address and the task's turnaround."""

    id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    jurisdiction_id: int
    jurisdiction_name: str
    address_text: str | None
    source_tube_barcode: str
    status: RetestStatus
    result: str | None
    created_at: datetime
    sampled_at: datetime | None
    resulted_at: datetime | None
    age_hours: float = Field(description="hours since the task was created, up to now or until it was resulted")
    hours_to_sample: float | None
    hours_to_result: float | None
    overdue: bool = Field(description="open longer than the profile's sample-to-result target")


class RetestsPublic(BaseModel):
    data: list[RetestPublic]
    count: int


class RetestSample(BaseModel):
    barcode: str = Field(min_length=1, max_length=40, description="barcode of the single tube taken")


class ConfirmationPublic(BaseModel):
    id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    jurisdiction_name: str
    lab_result_id: int
    tube_barcode: str
    ct_values: dict[str, Any]
    status: ConfirmationStatus
    opened_at: datetime
    decided_at: datetime | None
    note: str
    case_id: int | None
    age_hours: float
    overdue: bool = Field(description="pending longer than the profile's result-to-confirmed target")


class ConfirmationsPublic(BaseModel):
    data: list[ConfirmationPublic]
    count: int


class ConfirmationDecision(BaseModel):
    outcome: ConfirmationStatus = Field(description="confirmed, asymptomatic or not_confirmed")
    note: str = Field(default="", max_length=500)
