"""Profile section for the command system (指挥体系): the task forces an incident opens (专班), the
reporting cadence in peacetime and in wartime (平转战), and when a capacity gauge (资源负荷) turns
strained or alert."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, PositiveFloat, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError, check_unique


class TaskForceLink(StrEnum):
    """What a task force (专班) works on: a link of the loop or one of its supports."""

    TESTING = "testing"  # 检测专班
    TRACING = "tracing"  # 流调专班
    TRANSFER = "transfer"  # 转运专班
    ISOLATION = "isolation"  # 隔离专班
    SUPPLIES = "supplies"  # 物资保障专班
    REQUESTS = "requests"  # 群众诉求专班


class TaskForceTemplate(ProfileModel):
    """One task force an activated incident opens."""

    link: TaskForceLink
    name: str = Field(min_length=1, max_length=64)
    name_en: str = Field(default="", max_length=64)


_DEFAULT_TASK_FORCES = (
    TaskForceTemplate(link=TaskForceLink.TESTING, name="检测专班", name_en="Testing"),
    TaskForceTemplate(link=TaskForceLink.TRACING, name="流调专班", name_en="Tracing"),
    TaskForceTemplate(link=TaskForceLink.TRANSFER, name="转运专班", name_en="Transfer"),
    TaskForceTemplate(link=TaskForceLink.ISOLATION, name="隔离专班", name_en="Isolation"),
    TaskForceTemplate(link=TaskForceLink.SUPPLIES, name="物资保障专班", name_en="Supplies"),
    TaskForceTemplate(link=TaskForceLink.REQUESTS, name="群众诉求专班", name_en="Public requests"),
)


class GaugeThresholds(ProfileModel):
    """When a capacity gauge turns strained (紧张) and alert (告警): its ratio (used / total) at or above
    each; both in (0, 1], strained below alert."""

    strained_at: float = Field(gt=0, le=1)
    alert_at: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _strained_before_alert(self) -> Self:
        if self.strained_at >= self.alert_at:
            raise ProfileValueError("strained_at", f"{self.strained_at} must be below alert_at ({self.alert_at})")
        return self


class CapacityRules(ProfileModel):
    """The thresholds of each capacity gauge, and the two figures the data cannot give.

    - rooms: occupied + reserved rooms (places) of the usable ones at the isolation sites;
    - vehicles: vehicles on a trip or booked for one (a planned batch) of the fleet in service;
    - lab: tubes awaiting a result against the tubes the labs resulted in the last `lab_window_hours`
      (no lab states its capacity, so the observed throughput stands for it: 1.0 is a whole window's
      work queued);
    - tracing: open investigations against investigators × `investigations_per_investigator`.
    """

    rooms: GaugeThresholds = GaugeThresholds(strained_at=0.8, alert_at=0.95)
    vehicles: GaugeThresholds = GaugeThresholds(strained_at=0.7, alert_at=0.9)
    lab: GaugeThresholds = GaugeThresholds(strained_at=0.5, alert_at=1.0)
    tracing: GaugeThresholds = GaugeThresholds(strained_at=0.8, alert_at=1.0)
    lab_window_hours: PositiveFloat = 24.0
    investigations_per_investigator: PositiveFloat = 1.0  # open investigations one investigator carries


class CommandRules(ProfileModel):
    """The task-force template, the reporting cadence (hours between reports), how long the loop's
    own tasks may take before they are overdue, and the capacity gauges' thresholds."""

    task_forces: tuple[TaskForceTemplate, ...] = Field(default=_DEFAULT_TASK_FORCES, min_length=1)
    peacetime_report_hours: PositiveFloat = 24.0  # 平时: one daily report
    wartime_report_hours: PositiveFloat = 4.0  # 战时: a report every few hours
    loop_task_due_hours: PositiveFloat = 2.0  # a task the loop raises is due this long after it
    capacity: CapacityRules = CapacityRules()  # when the capacity gauges turn strained and alert

    @model_validator(mode="after")
    def _each_link_once(self) -> Self:
        check_unique("task_forces", [template.link for template in self.task_forces])
        return self

    def template_for(self, link: TaskForceLink) -> TaskForceTemplate | None:
        return next((t for t in self.task_forces if t.link == link), None)
