"""Enumerations of the transfer queue (快编组), defined once for tables, API, UI and filters."""

from __future__ import annotations

from enum import StrEnum


class RequestStatus(StrEnum):
    """Where a person is between the queue and the site; open until arrived or cancelled."""

    QUEUED = "queued"  # 待编组
    PLANNED = "planned"  # 已编组: on a planned batch
    DISPATCHED = "dispatched"  # the vehicle is on its way
    PICKED_UP = "picked_up"  # 已接到
    ARRIVED = "arrived"  # 已送达 (closed)
    CANCELLED = "cancelled"  # no longer to be moved (closed)


OPEN_STATUSES = (RequestStatus.QUEUED, RequestStatus.PLANNED, RequestStatus.DISPATCHED, RequestStatus.PICKED_UP)


class QueueSource(StrEnum):
    """What put a person in the queue."""

    CASE_CONFIRMED = "case_confirmed"
    CONTACT_IDENTIFIED = "contact_identified"
    BY_HAND = "by_hand"
    RETURN = "return"  # re-queued after an arrival elsewhere (e.g. a contact who became a case)
