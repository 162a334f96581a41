"""Capacity gauges (资源负荷): isolation rooms, transfer vehicles, lab throughput and tracing teams,
each as used against total with a normal / strained / alert status at the profile's thresholds
(``profile.command.capacity``). A handful of grouped queries, whatever the population.

What each gauge counts, and how it is cut to the actor's jurisdiction (or a subtree within it):

- rooms: occupied + reserved places against those plus the free places of open sites (a full or
  closed site takes nobody more), counted as ``isolation.service.places`` keeps them. A site records
  the city it stands in, not a jurisdiction: it belongs to the jurisdictions of the scope (province,
  city or county) that city names (``上虞`` → 上虞区). A site in another city (异地安置) is counted
  only for users who see the whole deployment.
- vehicles: vehicles on a trip (a dispatched batch) or booked for one (a planned batch) against the
  fleet in service (not broken down, not retired). Vehicles belong to no jurisdiction: the gauge is
  the whole fleet's for everyone; `parts["carrying_yours"]` says how many carry the scope's people.
- lab: tubes sealed and awaiting a valid result against the tubes resulted (positive or negative)
  in the last `lab_window_hours`. Labs state no capacity, so their observed throughput stands for
  it: a ratio of 1.0 is a whole window's work queued. Labs belong to no jurisdiction and take every
  jurisdiction's tubes: the gauge is the labs' whole load for everyone (both counts read an index
  on ``tubes.resulted_at``); `parts["awaiting_yours"]` says how many of the awaiting tubes hold a
  sample of the scope's people.
- tracing: open investigations of the scope's cases against the investigators of the scope (active
  users with the investigator role or on the tracing task force of an incident in force) times
  `investigations_per_investigator`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, or_, select

from bihuan.command.capacity_schemas import CapacityPublic, CapacityResource, GaugePublic, GaugeStatus
from bihuan.command.choices import IncidentStatus, TaskForceLink
from bihuan.command.models import Incident, TaskForce, TaskForceMember
from bihuan.core.auth_models import User
from bihuan.core.choices import Role
from bihuan.core.context import Ctx
from bihuan.core.permissions import Permission, require
from bihuan.isolation.choices import RoomStatus, SiteStatus
from bihuan.isolation.models import IsolationSite, SitePlaces, SiteRoom
from bihuan.loop.reading import subtree_path
from bihuan.people.choices import JurisdictionLevel
from bihuan.people.models import Jurisdiction, Person
from bihuan.protocol import ProtocolProfile
from bihuan.screening.models import Sample, Tube
from bihuan.tracing.choices import InvestigationStatus
from bihuan.tracing.models import Investigation
from bihuan.transfer.choices import BatchStatus, MemberStatus, VehicleStatus
from bihuan.transfer.models import Batch, BatchMember, Vehicle

_CITY_LEVELS = (JurisdictionLevel.PROVINCE.value, JurisdictionLevel.CITY.value, JurisdictionLevel.COUNTY.value)
_CITY_SUFFIXES = ("省", "市", "区", "县")  # 上虞 names 上虞区
_SET_ASIDE = (RoomStatus.RESERVED.value, RoomStatus.OUT_OF_SERVICE.value)  # rooms not in a site's places
_OPEN_BATCH = (BatchStatus.PLANNED.value, BatchStatus.DISPATCHED.value)
_ABOARD = (MemberStatus.PLANNED.value, MemberStatus.PICKED_UP.value)


def capacity_gauges(
    ctx: Ctx, profile: ProtocolProfile, now: datetime, *, jurisdiction_id: int | None = None
) -> CapacityPublic:
    """The four gauges of now over the actor's jurisdiction, or the `jurisdiction_id` subtree within it
    (one outside it is refused with a FieldError on jurisdiction_id). Permission: ``READ_TRACING``."""
    require(ctx.actor, Permission.READ_TRACING)
    narrower = subtree_path(ctx, jurisdiction_id)
    path = narrower if narrower is not None else ctx.actor.jurisdiction_path  # "": the whole deployment
    rules = profile.command.capacity
    return CapacityPublic(
        as_of=now,
        jurisdiction_id=jurisdiction_id,
        lab_window_hours=rules.lab_window_hours,
        gauges=[
            _gauge(CapacityResource.ROOMS, *_rooms(ctx, path), profile),
            _gauge(CapacityResource.VEHICLES, *_vehicles(ctx, path), profile),
            _gauge(CapacityResource.LAB, *_lab(ctx, path, now - timedelta(hours=rules.lab_window_hours)), profile),
            _gauge(CapacityResource.TRACING, *_tracing(ctx, path, rules.investigations_per_investigator), profile),
        ],
    )


Counted = tuple[int, int, str, dict[str, int]]  # used, total, detail, parts


def _gauge(
    resource: CapacityResource, used: int, total: int, detail: str, parts: dict[str, int], profile: ProtocolProfile
) -> GaugePublic:
    """Used of total, judged at the resource's thresholds; used with nothing to use is an alert."""
    rules = profile.command.capacity
    pair = {
        CapacityResource.ROOMS: rules.rooms,
        CapacityResource.VEHICLES: rules.vehicles,
        CapacityResource.LAB: rules.lab,
        CapacityResource.TRACING: rules.tracing,
    }[resource]
    ratio = used / total if total else (1.0 if used else 0.0)
    if ratio >= pair.alert_at:
        status = GaugeStatus.ALERT
    elif ratio >= pair.strained_at:
        status = GaugeStatus.STRAINED
    else:
        status = GaugeStatus.NORMAL
    return GaugePublic(
        resource=resource,
        used=used,
        total=total,
        ratio=round(ratio, 4),
        status=status,
        strained_at=pair.strained_at,
        alert_at=pair.alert_at,
        detail=detail,
        parts=parts,
    )


def _subtree(column: Any, path: str) -> ColumnElement[bool]:
    return column.in_(select(Jurisdiction.id).where(Jurisdiction.path.startswith(path)))


# -- rooms ---------------------------------------------------------------------------------------------


def _names_city(name: str, city: str) -> bool:
    return name == city or (name.startswith(city) and name[len(city) :] in _CITY_SUFFIXES)


def _sites_in(ctx: Ctx, path: str) -> dict[int, str]:
    """The scope's sites and their status: every site for the whole deployment, else those whose city
    names a province, city or county of the scope."""
    sites = {
        int(i): (city, str(status))
        for i, city, status in ctx.session.execute(select(IsolationSite.id, IsolationSite.city, IsolationSite.status))
    }
    if not path:
        return {site_id: status for site_id, (_, status) in sites.items()}
    stmt = select(Jurisdiction.name, Jurisdiction.name_en).where(
        Jurisdiction.path.startswith(path), Jurisdiction.level.in_(_CITY_LEVELS)
    )
    names = [(str(name), str(name_en).casefold()) for name, name_en in ctx.session.execute(stmt)]
    return {
        site_id: status
        for site_id, (city, status) in sites.items()
        if any(_names_city(name, city) or (name_en and name_en == city.casefold()) for name, name_en in names)
    }


def _rooms(ctx: Ctx, path: str) -> Counted:
    sites = _sites_in(ctx, path)
    occupied = reserved = free = unavailable = out_of_service = 0
    if sites:
        places = select(SitePlaces.site_id, SitePlaces.places, SitePlaces.occupied).where(
            SitePlaces.site_id.in_(sorted(sites))
        )
        for site_id, count, taken in ctx.session.execute(places):
            occupied += int(taken)
            left = max(int(count) - int(taken), 0)
            if sites[int(site_id)] == SiteStatus.OPEN.value:
                free += left
            else:
                unavailable += left
        rooms = (
            select(SiteRoom.status, func.count())
            .where(SiteRoom.site_id.in_(sorted(sites)), SiteRoom.status.in_(_SET_ASIDE))
            .group_by(SiteRoom.status)
        )
        counts = {str(status): int(n) for status, n in ctx.session.execute(rooms)}
        reserved = counts.get(RoomStatus.RESERVED.value, 0)
        out_of_service = counts.get(RoomStatus.OUT_OF_SERVICE.value, 0)
    used = occupied + reserved
    detail = f"{occupied} occupied + {reserved} reserved of {used + free} usable places at {len(sites)} sites"
    parts = {
        "sites": len(sites),
        "occupied": occupied,
        "reserved": reserved,
        "free": free,
        "free_at_full_or_closed_sites": unavailable,
        "out_of_service": out_of_service,
    }
    return used, used + free, detail, parts


# -- vehicles ------------------------------------------------------------------------------------------


def _vehicles(ctx: Ctx, path: str) -> Counted:
    by_status = dict(ctx.session.execute(select(Vehicle.status, func.count()).group_by(Vehicle.status)).all())
    in_service = int(by_status.get(VehicleStatus.AVAILABLE.value, 0))
    trips = (
        select(Batch.vehicle_id, func.max(case((Batch.status == BatchStatus.DISPATCHED.value, 1), else_=0)))
        .join(Vehicle, Vehicle.id == Batch.vehicle_id)
        .where(Batch.status.in_(_OPEN_BATCH), Vehicle.status == VehicleStatus.AVAILABLE.value)
        .group_by(Batch.vehicle_id)
    )
    on_road = booked = 0
    for _vehicle, dispatched in ctx.session.execute(trips):
        on_road, booked = (on_road + 1, booked) if dispatched else (on_road, booked + 1)
    failed = int(by_status.get(VehicleStatus.FAILED.value, 0))
    parts = {"on_road": on_road, "booked": booked, "in_service": in_service, "failed": failed}
    if path:
        parts["carrying_yours"] = _carrying(ctx, path)
    detail = f"{on_road} on the road + {booked} booked of {in_service} vehicles in service ({failed} broken down)"
    return on_road + booked, in_service, detail, parts


def _carrying(ctx: Ctx, path: str) -> int:
    """Vehicles on or booked for a trip with people of the scope aboard (or to pick up)."""
    stmt = (
        select(func.count(func.distinct(Batch.vehicle_id)))
        .join(BatchMember, BatchMember.batch_id == Batch.id)
        .where(
            Batch.status.in_(_OPEN_BATCH),
            BatchMember.status.in_(_ABOARD),
            _subtree(BatchMember.jurisdiction_id, path),
        )
    )
    return int(ctx.session.scalar(stmt) or 0)


# -- lab -----------------------------------------------------------------------------------------------


def _scope_tubes(tube_id: Any, path: str) -> ColumnElement[bool]:
    """The tube holds a sample (of a person of the scope, unless the scope is the whole deployment)."""
    samples = select(Sample.id).where(Sample.tube_id == tube_id)
    if path:
        samples = samples.join(Person, Person.id == Sample.person_id).where(_subtree(Person.jurisdiction_id, path))
    return exists(samples)


def _lab(ctx: Ctx, path: str, since: datetime) -> Counted:
    awaiting = (Tube.closed_at.is_not(None), Tube.resulted_at.is_(None))  # ix_tubes_awaiting_result
    counted = select(func.count(Tube.id), func.count(Tube.id).filter(_scope_tubes(Tube.id, path))).where(*awaiting)
    backlog, yours = (int(n or 0) for n in ctx.session.execute(counted).one())
    throughput = int(ctx.session.scalar(select(func.count(Tube.id)).where(Tube.resulted_at >= since)) or 0)
    detail = (
        f"{backlog} tubes awaiting a result ({yours} of your people's); {throughput} resulted since "
        f"{since.isoformat(timespec='minutes')}"
    )
    return backlog, throughput, detail, {"awaiting": backlog, "awaiting_yours": yours, "resulted_in_window": throughput}


# -- tracing -------------------------------------------------------------------------------------------


def _tracing(ctx: Ctx, path: str, per_investigator: float) -> Counted:
    open_stmt = select(func.count(Investigation.id)).where(Investigation.status == InvestigationStatus.OPEN.value)
    on_task_forces = (
        select(TaskForceMember.user_id)
        .join(TaskForce, TaskForce.id == TaskForceMember.task_force_id)
        .join(Incident, Incident.id == TaskForce.incident_id)
        .where(
            TaskForce.link == TaskForceLink.TRACING.value,
            TaskForce.stood_down_at.is_(None),
            Incident.status == IncidentStatus.ACTIVE.value,
        )
    )
    people_stmt = select(func.count(User.id)).where(
        User.active.is_(True), or_(User.role == Role.INVESTIGATOR.value, User.id.in_(on_task_forces))
    )
    if path:
        open_stmt = open_stmt.where(_subtree(Investigation.jurisdiction_id, path))
        people_stmt = people_stmt.where(_subtree(User.jurisdiction_id, path))
    investigations = int(ctx.session.scalar(open_stmt) or 0)
    investigators = int(ctx.session.scalar(people_stmt) or 0)
    total = int(investigators * per_investigator)
    detail = f"{investigations} open investigations for {investigators} investigators (room for {total})"
    return investigations, total, detail, {"open_investigations": investigations, "investigators": investigators}
