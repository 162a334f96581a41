"""HTTP API of isolation sites: register sites and their places, expected releases, report a site full."""

from __future__ import annotations

from fastapi import APIRouter

from bihuan.core.deps import ProfileDep, UserCtx
from bihuan.isolation import service
from bihuan.isolation.schemas import (
    ExpectedReleaseIn,
    FloorCreate,
    FloorPublic,
    PlacesIn,
    RoomMove,
    SiteCreate,
    SitePublic,
    SitesPublic,
)

router = APIRouter(prefix="/api/sites", tags=["isolation"])


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


@router.post("/{site_id}/reopen")
def reopen_site(ctx: UserCtx, site_id: int) -> SitePublic:
    service.reopen(ctx, site_id)
    return _one(ctx, site_id)


@router.get("/{site_id}/floors")
def list_floors(ctx: UserCtx, site_id: int) -> list[FloorPublic]:
    """The site's floors, each of one category, with rooms free, occupied and out of service."""
    return service.list_floors(ctx, site_id)


@router.post("/{site_id}/floors", status_code=201)
def add_floor(ctx: UserCtx, profile: ProfileDep, site_id: int, data: FloorCreate) -> list[FloorPublic]:
    """A floor of one category with its rooms (the site's places of that category follow its rooms)."""
    service.add_floor(ctx, profile, site_id, data)
    return service.list_floors(ctx, site_id)


@router.post("/{site_id}/stays/{stay_id}/room")
def move_to_room(ctx: UserCtx, site_id: int, stay_id: int, data: RoomMove) -> list[FloorPublic]:
    """Put a person in another room; a move that breaks a separation rule is refused naming the rule."""
    service.move_to_room(ctx, site_id, stay_id, data.room_id)
    return service.list_floors(ctx, site_id)
