"""Enumerations of isolation sites, defined once for tables, API, UI and filters."""

from __future__ import annotations

from enum import StrEnum


class SiteStatus(StrEnum):
    """Whether a site takes people (启用 / 已满 / 关闭)."""

    OPEN = "open"
    FULL = "full"  # the site reported itself full: plans send nobody more
    CLOSED = "closed"


class RoomStatus(StrEnum):
    FREE = "free"
    OCCUPIED = "occupied"
    RESERVED = "reserved"
    OUT_OF_SERVICE = "out_of_service"


class StayStatus(StrEnum):
    """A person's stay at a site: in it, released, moved on to another site (e.g. a contact now a case),
    or ended by a recorded end of the person's loop (hospitalised, died, moved out of the jurisdiction)."""

    IN_STAY = "in_stay"
    RELEASED = "released"
    MOVED_ON = "moved_on"
    HOSPITALISED = "hospitalised"
    DIED = "died"
    MOVED_OUT = "moved_out"


class StaffRole(StrEnum):
    """A site's staff (隔离点工作人员), by what they do."""

    MANAGER = "manager"
    MEDICAL = "medical"
    SAMPLING = "sampling"
    SECURITY = "security"
    CLEANING = "cleaning"
    LIAISON = "liaison"  # 联络员: the link to the command and the people's families


class SiteTestReason(StrEnum):
    """Why a person at a site is tested."""

    PLAN = "plan"  # a test day of their quarantine plan
    CROSS_INFECTION = "cross_infection"  # an extra test after a positive among their neighbours
    SYMPTOMS = "symptoms"  # fever or symptoms at a site


class SiteTestStatus(StrEnum):
    DUE = "due"  # to be sampled (an invalid result sends it back here)
    SAMPLED = "sampled"  # every tube taken, results awaited
    RESULTED = "resulted"
    CANCELLED = "cancelled"  # the person left before the day


class CrossInfectionStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class HomeMonitoringStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class HomeTaskKind(StrEnum):
    HEALTH_CHECK = "health_check"  # the day's temperature and symptoms, reported to the community worker
    TEST = "test"  # a home test day of the plan


class HomeTaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"  # the home phase stopped: the person died or moved out (never a worker's answer)
