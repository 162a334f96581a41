"""HTTP API of cross-infection investigations (交叉感染调查): list, read with the neighbours, close."""

from __future__ import annotations

from fastapi import APIRouter

from bihuan.core.deps import ProfileDep, UserCtx, ZoneDep
from bihuan.isolation.choices import CrossInfectionStatus
from bihuan.isolation.cross_infection_schemas import CrossInfectionClose, CrossInfectionDetail, CrossInfectionsPublic
from bihuan.isolation.service import cross_infection_reads as service

router = APIRouter(prefix="/api/cross-infections", tags=["isolation"])


@router.get("")
def list_investigations(
    ctx: UserCtx, site_id: int | None = None, status: CrossInfectionStatus | None = None
) -> CrossInfectionsPublic:
    """Investigations of cases found inside sites, newest first, with their neighbours counted by relation."""
    found = service.list_investigations(ctx, site_id=site_id, status=status)
    return CrossInfectionsPublic(data=found, count=len(found))


@router.get("/{investigation_id}")
def get_investigation(ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, investigation_id: int) -> CrossInfectionDetail:
    """An investigation with your jurisdiction's neighbours (closest first), clocks reset and extra tests."""
    return service.get_investigation(ctx, profile, investigation_id, zone)


@router.post("/{investigation_id}/close")
def close_investigation(
    ctx: UserCtx, profile: ProfileDep, zone: ZoneDep, investigation_id: int, data: CrossInfectionClose
) -> CrossInfectionDetail:
    """Close an investigation with a note; one already closed is refused (409)."""
    return service.close_investigation(ctx, profile, investigation_id, data.note, zone)
