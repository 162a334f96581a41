"""Tables of site checklists (表格化清单式管理): the work manual's templates, checks done per shift, alerts.

History: a check is never overwritten. A correction (another status or note for the same item, day
and shift) marks the row in force as superseded (`current` NULL, `superseded_at` set) and adds a new
row; `current` is TRUE on the one row in force, so the unique key allows one current row per item,
day and shift, and any number of earlier ones. The same check sent again changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, JsonDoc, UTCDateTime

DEFAULT_SCOPE = 0  # `scope_id` of the platform's default manual, which applies to every site


class ChecklistTemplate(Base):
    """A checklist of a site's work manual (工作手册), or of the platform's default manual (no site).

    A template with the same code again, with other items, is a new version; the latest applies.
    """

    __tablename__ = "isolation_checklists"
    __table_args__ = (UniqueConstraint("scope_id", "code", "version", name="uq_isolation_checklists_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    scope_id: Mapped[int] = mapped_column(Integer)  # the site's id, or DEFAULT_SCOPE (NULLs are never equal)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(128))
    title_en: Mapped[str] = mapped_column(String(128), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonDoc, default=list)  # [{code, text, text_en, shifts}]
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64), default="system")


class ChecklistEntry(Base):
    """One check of one item on a local day in one shift: done, not done or not applicable, by whom, when."""

    __tablename__ = "isolation_checks"
    __table_args__ = (
        UniqueConstraint(
            "site_id", "template_code", "item_code", "day", "shift", "current", name="uq_isolation_checks_current"
        ),
        Index("ix_isolation_checks_site_day", "site_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("isolation_checklists.id"), index=True)
    template_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)  # the local day the shift starts on
    shift: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # done, not_done, not_applicable
    note: Mapped[str] = mapped_column(String(255), default="")
    done_by: Mapped[str] = mapped_column(String(64))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    current: Mapped[bool | None] = mapped_column(Boolean, default=True)  # TRUE in force; NULL superseded
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChecklistAlert(Base):
    """An item left undone after its shift ended (overdue), until a check resolves it."""

    __tablename__ = "isolation_check_alerts"
    __table_args__ = (
        UniqueConstraint(
            "site_id", "template_code", "item_code", "day", "shift", name="uq_isolation_check_alerts_item"
        ),
        Index("ix_isolation_check_alerts_site_open", "site_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("isolation_checklists.id"), index=True)
    template_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    shift: Mapped[str] = mapped_column(String(16))
    due_by: Mapped[datetime] = mapped_column(UTCDateTime())  # the shift's end plus the profile's grace
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str] = mapped_column(String(64), default="")
