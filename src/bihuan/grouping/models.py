"""Tables of the transfer queue (快编组): one request per person to be moved, open until arrival."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, UTCDateTime


class TransferRequest(Base):
    """A person waiting to be moved to a designated hospital or central quarantine, since `queued_at`.

    ``open_person_id`` holds the person's id while the request is open and NULL once closed, so the
    unique index allows one open request per person and any number of closed ones.
    """

    __tablename__ = "transfer_requests"
    __table_args__ = (Index("ix_transfer_requests_status_queued", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    open_person_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    category: Mapped[str] = mapped_column(String(24), index=True)
    destination: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[int | None] = mapped_column(Integer)  # the case (confirmed) or the source case (contacts)
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup_lat: Mapped[float | None] = mapped_column(Float)  # None: no address or place with coordinates
    pickup_lon: Mapped[float | None] = mapped_column(Float)
    pickup_text: Mapped[str] = mapped_column(String(255), default="")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    batch_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the batch carrying the person now
    returns: Mapped[int] = mapped_column(Integer, default=0)  # times returned to the queue
    last_reason: Mapped[str] = mapped_column(String(255), default="")  # why returned, or why a plan left them
    # A person who became more serious on the road (a contact now a case): moved on from where they arrive.
    upgrade_to: Mapped[str | None] = mapped_column(String(24))
    upgrade_destination: Mapped[str | None] = mapped_column(String(24))
