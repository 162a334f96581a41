"""Enumerations of isolation sites, defined once for tables, API, UI and filters."""

from __future__ import annotations

from enum import StrEnum


class SiteStatus(StrEnum):
    """Whether a site takes people (启用 / 已满 / 关闭)."""

    OPEN = "open"
    FULL = "full"  # the site reported itself full: plans send nobody more
    CLOSED = "closed"
