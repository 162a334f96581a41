"""Tables of isolation sites (集中隔离点、定点医院): the sites, their places by category, expected releases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, UTCDateTime


class IsolationSite(Base):
    """A central quarantine site or a designated hospital, in this city or another (异地安置)."""

    __tablename__ = "isolation_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    city: Mapped[str] = mapped_column(String(64))
    address_text: Mapped[str] = mapped_column(String(255), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SitePlaces(Base):
    """A site's places for one category of people (rooms), and how many are taken."""

    __tablename__ = "isolation_site_places"
    __table_args__ = (UniqueConstraint("site_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    places: Mapped[int] = mapped_column(Integer)
    occupied: Mapped[int] = mapped_column(Integer, default=0)


class ExpectedRelease(Base):
    """Places a site expects to free on a day (scheduled releases), which plans may count on."""

    __tablename__ = "isolation_expected_releases"
    __table_args__ = (UniqueConstraint("site_id", "category", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    on_date: Mapped[date] = mapped_column(Date)
    places: Mapped[int] = mapped_column(Integer)
