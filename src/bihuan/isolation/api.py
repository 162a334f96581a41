"""HTTP API of isolation sites: register sites, their standards, staff, places, rooms and reservations,
expected releases, capacity."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.isolation import service
from bihuan.isolation.health_schemas import (
    AlertResolve,
    FloorSheetPublic,
    HealthAlertPublic,
    HealthAlertsPublic,
    MissingChecksPublic,
    TemperaturesIn,
    TemperaturesRecorded,
)
from bihuan.isolation.schemas import (
    CapacityPublic,
    ExpectedReleaseIn,
    FloorCreate,
    FloorPublic,
    PlacesIn,
    ReservationRelease,
    RoomMove,
    RoomReserve,
    SiteCreate,
    SitePublic,
    SitesPublic,
    SiteStandardsUpdate,
    StaffCreate,
    StaffListPublic,
    StaffPublic,
    StaysPublic,
)
from bihuan.people.schemas import Page

router = APIRouter(prefix="/api/sites", tags=["isolation"])
PageDep = Annotated[Page, Depends()]


def _one(ctx: UserCtx, site_id: int) -> SitePublic:
    return next(s for s in service.list_sites(ctx) if s.id == site_id)


@router.get("")
def list_sites(ctx: UserCtx) -> SitesPublic:
    """Every site with its places, occupied, free and expected to free, by category."""
    sites = service.list_sites(ctx)
    return SitesPublic(data=sites, count=len(sites))


@router.post("", status_code=201)
def create_site(ctx: UserCtx, profile: ProfileDep, data: SiteCreate) -> SitePublic:
    """Register a site; each category's places only where the profile sends that category."""
    site = service.create_site(ctx, profile, data)
    return _one(ctx, site.id)


@router.get("/capacity")
def capacity(
    ctx: UserCtx,
    profile: ProfileDep,
    zone: ZoneDep,
    days: Annotated[int, Query(ge=1, le=60, description="days ahead, from today")] = 7,
) -> CapacityPublic:
    """Rooms free, occupied, reserved and out of service by site, city and category, with the rooms
    expected free on each day ahead (from the stays' plans, or a count-only site's expected releases)."""
    return service.capacity(ctx, profile, today=ctx.clock.now().astimezone(zone).date(), days=days)


@router.get("/{site_id}")
def get_site(ctx: UserCtx, site_id: int) -> SitePublic:
    service.get_site(ctx, site_id)
    return _one(ctx, site_id)


@router.put("/{site_id}/places")
def set_places(ctx: UserCtx, profile: ProfileDep, site_id: int, data: PlacesIn) -> SitePublic:
    """Set the places (and occupied rooms) of one category; the same values again change nothing.

    Fewer occupied rooms are places freed: they are taken off the category's expected releases.
    """
    service.set_places(ctx, profile, site_id, data)
    return _one(ctx, site_id)


@router.post("/{site_id}/releases")
def expect_release(ctx: UserCtx, site_id: int, data: ExpectedReleaseIn) -> SitePublic:
    """Places expected to free on a day (scheduled releases); the same day again replaces the number."""
    service.expect_release(ctx, site_id, data)
    return _one(ctx, site_id)


@router.put("/{site_id}/standards")
def update_standards(ctx: UserCtx, profile: ProfileDep, site_id: int, data: SiteStandardsUpdate) -> SitePublic:
    """The standards found at the site (三区两通道, 集中空调); fields left out keep their values.

    A central quarantine site that now breaks the profile's standards is closed, the rule as reason.
    """
    service.update_standards(ctx, profile, site_id, data)
    return _one(ctx, site_id)


@router.post("/{site_id}/reopen")
def reopen_site(ctx: UserCtx, profile: ProfileDep, site_id: int) -> SitePublic:
    """The site takes people again; refused while it breaks the profile's standards."""
    service.reopen(ctx, site_id, profile=profile)
    return _one(ctx, site_id)


@router.get("/{site_id}/staff")
def list_staff(ctx: UserCtx, site_id: int, active_only: bool = True) -> StaffListPublic:
    """The site's staff, phones masked, with the active members counted by role."""
    return service.list_staff(ctx, site_id, active_only=active_only)


@router.post("/{site_id}/staff", status_code=201)
def add_staff(ctx: UserCtx, site_id: int, data: StaffCreate) -> StaffPublic:
    """Add a member of staff; the same member sent again is not added twice."""
    return service.staff_public(service.add_staff(ctx, site_id, data))


@router.post("/{site_id}/staff/{staff_id}/deactivate")
def deactivate_staff(ctx: UserCtx, site_id: int, staff_id: int) -> StaffPublic:
    return service.staff_public(service.deactivate_staff(ctx, site_id, staff_id))


@router.get("/{site_id}/floors")
def list_floors(ctx: UserCtx, site_id: int) -> list[FloorPublic]:
    """The site's floors, each of one category, with rooms free, occupied and out of service."""
    return service.list_floors(ctx, site_id)


@router.post("/{site_id}/floors", status_code=201)
def add_floor(ctx: UserCtx, profile: ProfileDep, site_id: int, data: FloorCreate) -> list[FloorPublic]:
    """A floor of one category with its rooms (the site's places of that category follow its rooms)."""
    service.add_floor(ctx, profile, site_id, data)
    return service.list_floors(ctx, site_id)


@router.post("/{site_id}/rooms/reserve")
def reserve_rooms(ctx: UserCtx, site_id: int, data: RoomReserve) -> list[FloorPublic]:
    """Hold free rooms for someone: `count` on a floor in all, or the rooms named; an occupied room is refused."""
    service.reserve_rooms(ctx, site_id, data)
    return service.list_floors(ctx, site_id)


@router.post("/{site_id}/rooms/unreserve")
def release_reservation(ctx: UserCtx, site_id: int, data: ReservationRelease) -> list[FloorPublic]:
    """Give reserved rooms back: all those held for `reserved_for`, or the rooms named."""
    service.release_reservation(ctx, site_id, data)
    return service.list_floors(ctx, site_id)


@router.post("/{site_id}/stays/{stay_id}/room")
def move_to_room(ctx: UserCtx, site_id: int, stay_id: int, data: RoomMove) -> list[FloorPublic]:
    """Put a person in another room; a move that breaks a separation rule is refused naming the rule."""
    service.move_to_room(ctx, site_id, stay_id, data.room_id)
    return service.list_floors(ctx, site_id)


@router.get("/{site_id}/stays")
def list_stays(ctx: UserCtx, zone: ZoneDep, page: PageDep, site_id: int) -> StaysPublic:
    """People in a stay at the site (of your jurisdiction), by room, with their plan and next test day."""
    rows, count = service.list_stays(ctx, site_id, page, today=ctx.clock.now().astimezone(zone).date())
    return StaysPublic(data=rows, count=count)


# ---------------------------------------------------------------- health monitoring 体温监测


@router.post("/{site_id}/temperatures")
def record_temperatures(
    ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int, data: TemperaturesIn
) -> TemperaturesRecorded:
    """A round of temperatures (and symptoms), for a floor or the whole site, in one request.

    One bad reading refuses them all, naming ``readings[i]`` and why; °F is converted, with a message;
    the same reading sent again is not stored twice. Fever or symptoms raise alerts.
    """
    return service.record_temperatures(ctx, profile, site_id, data.readings, zone=zone)


@router.get("/{site_id}/alerts")
def list_alerts(ctx: UserCtx, site_id: int, open_only: bool = True) -> HealthAlertsPublic:
    """The site's health alerts (fever, symptoms, checks not taken), oldest first: open ones unless told."""
    alerts = service.list_alerts(ctx, site_id, open_only=open_only)
    return HealthAlertsPublic(data=alerts, count=len(alerts))


@router.post("/{site_id}/alerts/{alert_id}/resolve")
def resolve_alert(ctx: UserCtx, site_id: int, alert_id: int, data: AlertResolve) -> HealthAlertPublic:
    return service.resolve_alert(ctx, alert_id, data.note, site_id=site_id)


@router.get("/{site_id}/floors/{floor_id}/sheet")
def floor_sheet(ctx: UserCtx, zone: ZoneDep, site_id: int, floor_id: int, day: date | None = None) -> FloorSheetPublic:
    """A floor's occupied rooms with each person's readings of the (local) day, today unless given."""
    return service.floor_sheet(ctx, site_id, floor_id, day or ctx.clock.now().astimezone(zone).date(), zone)


@router.post("/{site_id}/missing-checks")
def raise_missing_alerts(
    ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, site_id: int, day: date | None = None
) -> MissingChecksPublic:
    """Alerts for the people short of the day's checks due so far (once per person and day), today unless given."""
    on = day or ctx.clock.now().astimezone(zone).date()
    return service.raise_missing_alerts(ctx, profile, site_id, on, zone)
