"""Enumerations of fast tracing (快流调), defined once for tables, API, pages and filters."""

from __future__ import annotations

from enum import StrEnum


class InvestigationStatus(StrEnum):
    """An investigation (流调) is open until the investigator closes it."""

    OPEN = "open"
    CLOSED = "closed"


class VisitSource(StrEnum):
    """Where a trajectory entry (活动轨迹) comes from."""

    VENUE_SCAN = "venue_scan"  # 场所码扫码记录, read from the scan store
    SELF_REPORT = "self_report"  # told to the investigator
    TRANSPORT_RECORD = "transport_record"  # a ticket or a travel record


class LinkBasis(StrEnum):
    """Why a case is linked to the case that infected them (传播链)."""

    CONTACT = "contact"  # the person was a traced contact of the source case
    INVESTIGATOR = "investigator"  # set by hand on the investigation
