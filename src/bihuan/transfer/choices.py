"""Enumerations of fast transfer (快转运), defined once for tables, API, UI and filters."""

from __future__ import annotations

from enum import StrEnum


class VehicleKind(StrEnum):
    """Vehicles of the transfer teams (转运车辆)."""

    COACH = "coach"  # 大巴
    BUS = "bus"  # 中巴 / 公交
    VAN = "van"  # 面包车
    AMBULANCE = "ambulance"  # 负压救护车: confirmed cases


class VehicleStatus(StrEnum):
    AVAILABLE = "available"
    FAILED = "failed"  # broken down: takes no batch until repaired
    RETIRED = "retired"


class BatchStatus(StrEnum):
    """A batch (one vehicle's trip): planned → dispatched → completed, or cancelled."""

    PLANNED = "planned"
    DISPATCHED = "dispatched"
    COMPLETED = "completed"  # everyone arrived or was handed back to the queue
    CANCELLED = "cancelled"  # vehicle failure, site full, or re-planning


class MemberStatus(StrEnum):
    """One person on a batch: planned → picked up → arrived, or returned to the queue (with the reason)."""

    PLANNED = "planned"
    PICKED_UP = "picked_up"
    ARRIVED = "arrived"
    RETURNED = "returned"
