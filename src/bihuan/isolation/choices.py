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
    """A person's stay at a site: in it, released, or moved on to another site (e.g. a contact now a case)."""

    IN_STAY = "in_stay"
    RELEASED = "released"
    MOVED_ON = "moved_on"
