"""Tables of isolation sites (集中隔离点、定点医院): the sites, their places by category, expected releases."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from bihuan.core.db import Base, JsonDoc, UTCDateTime


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
    # Standards (隔离点设置标准): 三区两通道 (clean, buffer, contaminated zones; two passages) and no
    # central air conditioning; a site the profile's standards forbid is refused.
    three_zones_two_channels: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    central_air_conditioning: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SiteStaff(Base):
    """A member of a site's staff (工作人员): manager, medical, sampling, security, cleaning, liaison."""

    __tablename__ = "isolation_site_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(24))
    phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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


class SiteFloor(Base):
    """A floor (or wing) of a site's building, dedicated to one category of people (分区分层)."""

    __tablename__ = "isolation_floors"
    __table_args__ = (UniqueConstraint("site_id", "building", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    building: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(24))


class SiteRoom(Base):
    """A room: one person (or a person with their carer, or one household where the profile allows)."""

    __tablename__ = "isolation_rooms"
    __table_args__ = (UniqueConstraint("floor_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    floor_id: Mapped[int] = mapped_column(ForeignKey("isolation_floors.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # door order on the corridor
    private_bathroom: Mapped[bool] = mapped_column(Boolean, default=True)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), index=True)  # free, occupied, reserved, out_of_service
    reserved_for: Mapped[str] = mapped_column(String(128), default="", server_default="")


class IsolationStay(Base):
    """A person's stay at a site (集中隔离), from arrival to release, in a room, under a quarantine plan."""

    __tablename__ = "isolation_stays"
    __table_args__ = (Index("ix_isolation_stays_site_status", "site_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    open_person_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # one open stay per person
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(Integer)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("isolation_rooms.id"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    carer_for: Mapped[int | None] = mapped_column(Integer)  # the person this one cares for in the same room
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_exposure: Mapped[date | None] = mapped_column(Date)  # from tracing; None: not known yet
    plan: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # phases and test days (quarantine_plan)


class TemperatureReading(Base):
    """A temperature (and symptoms) taken at a site (体温监测), as typed and as stored in °C."""

    __tablename__ = "isolation_temperatures"
    __table_args__ = (UniqueConstraint("stay_id", "measured_at"),)  # the same reading sent again is stored once

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("isolation_stays.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime())
    celsius: Mapped[float] = mapped_column(Float)
    entered: Mapped[str] = mapped_column(String(16))  # what was typed, e.g. "98.6F"
    symptoms: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    fever: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HealthAlert(Base):
    """Something a site's medical staff must see (fever, symptoms, a missed measurement), until resolved."""

    __tablename__ = "isolation_health_alerts"
    __table_args__ = (Index("ix_isolation_health_alerts_site_open", "site_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("isolation_stays.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"))
    kind: Mapped[str] = mapped_column(String(24))
    day: Mapped[date | None] = mapped_column(Date)  # the local day a ``missing`` alert is about
    detail: Mapped[str] = mapped_column(String(255), default="")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str] = mapped_column(String(64), default="")


class SiteTest(Base):
    """A test a person at a site is due (隔离点核酸检测): a day of their plan, or an extra one, as a task
    for the site's staff; taken as single tubes through the screening capability, its result comes back."""

    __tablename__ = "isolation_site_tests"
    __table_args__ = (
        UniqueConstraint("stay_id", "due_on", "reason"),
        Index("ix_isolation_site_tests_site_due", "site_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("isolation_stays.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    due_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(24))  # plan, cross_infection, symptoms
    phase: Mapped[str] = mapped_column(String(24), default="")
    day: Mapped[int | None] = mapped_column(Integer)  # day of the phase, for plan tests
    release: Mapped[bool] = mapped_column(Boolean, default=False)  # the test that releases the person
    samples: Mapped[int] = mapped_column(Integer, default=1)
    reagents: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), index=True)  # due, sampled, resulted, cancelled
    result: Mapped[str | None] = mapped_column(String(8))  # negative, positive (invalid sends it back to due)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SiteTestSample(Base):
    """One tube of a site test (双采双检: a release test may take two tubes, for two reagents)."""

    __tablename__ = "isolation_site_test_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("isolation_site_tests.id"), index=True)
    tube_id: Mapped[int] = mapped_column(ForeignKey("tubes.id"), unique=True)
    barcode: Mapped[str] = mapped_column(String(40))
    reagent: Mapped[str] = mapped_column(String(64), default="")  # the kit the tube is sent to be tested with
    sampled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sampled_by: Mapped[str] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(String(8))
    resulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CrossInfection(Base):
    """A cross-infection investigation (交叉感染调查): a case found inside a site, and its neighbours."""

    __tablename__ = "isolation_cross_infections"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("isolation_sites.id"), index=True)
    case_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    case_id: Mapped[int | None] = mapped_column(Integer, unique=True)  # screening's case: one investigation each
    stay_id: Mapped[int] = mapped_column(ForeignKey("isolation_stays.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("isolation_rooms.id"))
    floor_id: Mapped[int | None] = mapped_column(ForeignKey("isolation_floors.id"))
    exposure_on: Mapped[date] = mapped_column(Date)  # the case's last day among its neighbours
    status: Mapped[str] = mapped_column(String(16))  # open, closed
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")


class CrossInfectionNeighbour(Base):
    """An occupant flagged by a cross-infection investigation, why, and whether their clock restarted."""

    __tablename__ = "isolation_cross_infection_neighbours"
    __table_args__ = (UniqueConstraint("investigation_id", "stay_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    investigation_id: Mapped[int] = mapped_column(ForeignKey("isolation_cross_infections.id"), index=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("isolation_stays.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(24))  # same_room, adjacent_room, same_floor
    clock_reset: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_last_exposure: Mapped[date | None] = mapped_column(Date)


class HomeMonitoring(Base):
    """The home phase after release (居家健康监测), followed by the community worker of the person's home."""

    __tablename__ = "isolation_home_monitorings"
    __table_args__ = (UniqueConstraint("stay_id", "phase"),)  # a plan may have home isolation, then monitoring

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("isolation_stays.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"), index=True)
    phase: Mapped[str] = mapped_column(String(24))  # home_monitoring or home_isolation
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active, ended
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HomeTask(Base):
    """A community worker's task for a person at home: the day's health check, or a home test day."""

    __tablename__ = "isolation_home_tasks"
    __table_args__ = (
        UniqueConstraint("monitoring_id", "kind", "due_on"),
        Index("ix_isolation_home_tasks_jurisdiction_due", "jurisdiction_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    monitoring_id: Mapped[int] = mapped_column(ForeignKey("isolation_home_monitorings.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    kind: Mapped[str] = mapped_column(String(16))  # health_check, test
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # open, done, missed
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(255), default="")
