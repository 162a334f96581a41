"""Enumerations of the command system (指挥体系), defined once for tables, API, UI and filters."""

from __future__ import annotations

from enum import StrEnum

from bihuan.protocol import TaskForceLink

__all__ = ["FINAL_TASK_STATUSES", "IncidentStatus", "LoopTaskKind", "TaskForceLink", "TaskSource", "TaskStatus"]


class IncidentStatus(StrEnum):
    ACTIVE = "active"  # 战时: the incident command runs
    DEACTIVATED = "deactivated"  # back to peacetime (平时)


class TaskStatus(StrEnum):
    OPEN = "open"  # 待办
    IN_PROGRESS = "in_progress"  # 办理中
    DONE = "done"  # 已办结 (final)
    CANCELLED = "cancelled"  # 已撤销 (final)


FINAL_TASK_STATUSES = frozenset({TaskStatus.DONE, TaskStatus.CANCELLED})


class TaskSource(StrEnum):
    MANUAL = "manual"  # created by a commander
    LOOP = "loop"  # raised by the loop's events (see ``command.reactions``)


class LoopTaskKind(StrEnum):
    """The work the loop hands to a task force by itself."""

    MISSING_MEASUREMENT = "missing_measurement"  # a site's temperature checks not taken → isolation
    REPLAN_TRANSFER = "replan_transfer"  # a person handed back to the transfer queue → transfer
