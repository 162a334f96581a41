"""Tables of the register (人员库): jurisdictions, addresses, households, persons, venues."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bihuan.core.db import Base, UTCDateTime


class Jurisdiction(Base):
    """A node of the command tree; `path` holds the codes from the province down, for subtree scoping."""

    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128), default="")
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)

    parent: Mapped[Jurisdiction | None] = relationship(remote_side=[id])


class Address(Base):
    """A dwelling or building address with coordinates, inside a minimum unit."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    text: Mapped[str] = mapped_column(String(255))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)


class Household(Base):
    """People who live together (户): tracing and transfer keep them together."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)


class Person(Base):
    """A resident or visitor; identified by resident ID number, or passport for foreigners."""

    __tablename__ = "persons"
    __table_args__ = (
        UniqueConstraint("nationality", "passport_no"),
        Index("ix_persons_jurisdiction_name", "jurisdiction_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[str | None] = mapped_column(String(18), unique=True)
    passport_no: Mapped[str | None] = mapped_column(String(20))
    nationality: Mapped[str] = mapped_column(String(3), default="CHN")
    name: Mapped[str] = mapped_column(String(64), index=True)
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    jurisdiction: Mapped[Jurisdiction] = relationship(lazy="raise")
    household: Mapped[Household | None] = relationship(lazy="raise")
    address: Mapped[Address | None] = relationship(lazy="raise")


class Venue(Base):
    """A place with a venue code (场所码); its scans feed tracing."""

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    address_text: Mapped[str] = mapped_column(String(255), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[int | None] = mapped_column(Integer)
