"""API shapes of the capacity gauges (资源负荷): for each resource of the response — isolation rooms,
transfer vehicles, lab throughput, tracing teams — how much is used against what there is, and a
normal / strained / alert status at the thresholds of the protocol profile (``command.capacity``).

Built by ``command.capacity.capacity_gauges``; the dashboard (``command.situation``) shows them too.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class CapacityResource(StrEnum):
    """A resource the command watches; the profile may give each its own thresholds."""

    ROOMS = "rooms"  # 隔离房间: places of the isolation sites
    VEHICLES = "vehicles"  # 转运车辆
    LAB = "lab"  # 检测能力: tubes awaiting a result against what the labs resulted lately
    TRACING = "tracing"  # 流调力量: open investigations against investigators


class GaugeStatus(StrEnum):
    NORMAL = "normal"  # 正常
    STRAINED = "strained"  # 紧张: ratio at or above the profile's strained_at
    ALERT = "alert"  # 告警: ratio at or above alert_at (or used with nothing to use)


class GaugePublic(BaseModel):
    """One resource: `used` of `total`, their `ratio` (may pass 1.0 when overbooked) and its status.

    `parts` breaks the numbers down (e.g. occupied / reserved / usable) so a page can say them in its
    own language; `detail` says the same in a short English sentence for the API."""

    resource: CapacityResource
    used: int
    total: int
    ratio: float  # used / total; 0.0 when both are 0, 1.0 when used > 0 with total 0
    status: GaugeStatus
    strained_at: float  # the thresholds the status was judged against
    alert_at: float
    detail: str
    parts: dict[str, int]


class CapacityPublic(BaseModel):
    """The gauges of `as_of` (now: resources hold no history) over the actor's jurisdiction, or the
    `jurisdiction_id` subtree within it; `lab_window_hours` is the profile's throughput window."""

    as_of: datetime
    jurisdiction_id: int | None
    lab_window_hours: float
    gauges: list[GaugePublic]
