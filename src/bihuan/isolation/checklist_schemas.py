"""API shapes of site checklists (表格化清单式管理): templates of the work manual, day sheets, checks, alerts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

CODE = r"^[a-z0-9][a-z0-9_-]*$"
MAX_CHECKS = 5_000  # checks in one request: a whole day of a large site's manual, many times over


class CheckStatus(StrEnum):
    DONE = "done"
    NOT_DONE = "not_done"
    NOT_APPLICABLE = "not_applicable"


SETTLED = frozenset({CheckStatus.DONE, CheckStatus.NOT_APPLICABLE})  # a check in either state is never overdue


class ChecklistItemIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=CODE)
    text: str = Field(min_length=1, max_length=255)
    text_en: str = Field("", max_length=255)
    shifts: list[str] = Field(default_factory=list, max_length=24)  # []: due in every shift


class TemplateIn(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=CODE)
    title: str = Field(min_length=1, max_length=128)
    title_en: str = Field("", max_length=128)
    items: list[ChecklistItemIn] = Field(min_length=1, max_length=200)

    @field_validator("items")
    @classmethod
    def _each_item_once(cls, items: list[ChecklistItemIn]) -> list[ChecklistItemIn]:
        seen: set[str] = set()
        for item in items:
            if item.code in seen:
                raise ValueError(f"item {item.code} is listed twice")
            seen.add(item.code)
        return items


class TemplatePublic(BaseModel):
    id: int
    site_id: int | None  # None: the platform's default manual
    code: str
    title: str
    title_en: str
    version: int
    items: list[ChecklistItemIn]


class CheckIn(BaseModel):
    """One check: an item of a template, on a local day, in a shift (the day the shift starts on)."""

    template: str = Field(min_length=1, max_length=40)
    item: str = Field(min_length=1, max_length=40)
    day: date
    shift: str = Field(min_length=1, max_length=16)
    status: CheckStatus = CheckStatus.DONE
    note: str = Field("", max_length=255)
    done_at: datetime | None = None  # when it was done; default: when recorded


class ChecksIn(BaseModel):
    entries: list[CheckIn] = Field(min_length=1, max_length=MAX_CHECKS)


class ChecksRecorded(BaseModel):
    recorded: int  # new checks
    corrected: int  # checks that replace an earlier one (kept in the history)
    unchanged: int  # the same check sent again
    alerts_resolved: int


class SheetLine(BaseModel):
    template: str
    item: str
    text: str
    text_en: str
    shift: str
    due_by: datetime  # the shift's end plus the profile's grace: later, an unsettled check is overdue
    status: CheckStatus | None  # None: not checked yet
    note: str = ""
    done_by: str = ""
    done_at: datetime | None = None
    overdue: bool = False


class DaySheet(BaseModel):
    site_id: int
    day: date
    lines: list[SheetLine]
    count: int
    settled: int  # lines done or not applicable


class OverdueItem(BaseModel):
    template_id: int
    template: str
    item: str
    text: str
    day: date
    shift: str
    due_by: datetime


class OverdueList(BaseModel):
    data: list[OverdueItem]
    count: int


class AlertPublic(BaseModel):
    id: int
    template: str
    item: str
    day: date
    shift: str
    due_by: datetime
    raised_at: datetime
    resolved_at: datetime | None


class AlertsRaised(BaseModel):
    raised: int  # new alerts
    open: list[AlertPublic]  # every open alert of the site
