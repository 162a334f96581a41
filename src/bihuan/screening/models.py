"""Tables of fast testing (快检测): rounds, sites, tubes, samples, lab results, re-tests, confirmations, cases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, BigId, JsonDoc, UTCDateTime


class Campaign(Base):
    """A testing round (一轮全员核酸检测) over a set of jurisdiction units, with its deadline."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignUnit(Base):
    """One jurisdiction unit of a round, with its area kind and pool size (from the profile) and target."""

    __tablename__ = "campaign_units"
    __table_args__ = (UniqueConstraint("campaign_id", "jurisdiction_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    area_kind: Mapped[str] = mapped_column(String(24))
    pool_size: Mapped[int] = mapped_column(Integer)
    target: Mapped[int] = mapped_column(Integer)


class SamplingSite(Base):
    """A sampling point (采样点) with opening hours and an hourly capacity."""

    __tablename__ = "sampling_sites"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(128))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity_per_hour: Mapped[int] = mapped_column(Integer)


class Tube(Base):
    """A sample tube with its barcode; a pooled tube closes when it holds its pool size. `resulted_at`: when
    its first valid result (positive or negative) was tested, kept as results are stored or matched, so the
    lab's backlog and throughput are index reads at any size."""

    __tablename__ = "tubes"
    __table_args__ = (
        Index(
            "ix_tubes_awaiting_result",
            "closed_at",
            postgresql_where=text("closed_at IS NOT NULL AND resulted_at IS NULL"),
            sqlite_where=text("closed_at IS NOT NULL AND resulted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    capacity: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_sites.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class Sample(Base):
    """One swab of one person into one tube (person → tube → pool)."""

    __tablename__ = "samples"
    __table_args__ = (
        Index("ix_samples_campaign_person", "campaign_id", "person_id"),
        Index("ix_samples_person_sampled", "person_id", "sampled_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    tube_id: Mapped[int] = mapped_column(ForeignKey("tubes.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_sites.id"))
    kind: Mapped[str] = mapped_column(String(16))
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    retest_id: Mapped[int | None] = mapped_column(ForeignKey("retests.id"))


class LabResult(Base):
    """A lab's result for a tube in one run; held (tube_id null) until the tube is known."""

    __tablename__ = "lab_results"
    __table_args__ = (UniqueConstraint("lab", "tube_barcode", "run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lab: Mapped[str] = mapped_column(String(64))
    tube_barcode: Mapped[str] = mapped_column(String(40), index=True)
    run_id: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(8))
    ct_values: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tube_id: Mapped[int | None] = mapped_column(ForeignKey("tubes.id"), index=True)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("import_reports.id"))


class Retest(Base):
    """A single-tube re-sampling task (复核采样) at the address of a pool-positive person."""

    __tablename__ = "retests"
    __table_args__ = (UniqueConstraint("person_id", "source_tube_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    source_tube_id: Mapped[int] = mapped_column(ForeignKey("tubes.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sampled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(String(8))


class Confirmation(Base):
    """The step from an individual positive result to a case, decided by a person."""

    __tablename__ = "confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    lab_result_id: Mapped[int] = mapped_column(ForeignKey("lab_results.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")


class Case(Base):
    """A confirmed case or asymptomatic infection (确诊病例 / 无症状感染者): what tracing starts from."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    classification: Mapped[str] = mapped_column(String(16))
    confirmation_id: Mapped[int | None] = mapped_column(ForeignKey("confirmations.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_positive_sampling_date: Mapped[date] = mapped_column(Date)
    onset_date: Mapped[date | None] = mapped_column(Date)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)


class KeyPopulationMember(Base):
    """A person in a key population (重点人群), tested on the profile's schedule."""

    __tablename__ = "key_population_members"
    __table_args__ = (UniqueConstraint("person_id", "population"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    population: Mapped[str] = mapped_column(String(32), index=True)
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
