"""HTTP API of fast testing: testing rounds, sampling sites, tubes and the scans that fill them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from bihuan.core.deps import UserCtx
from bihuan.people.schemas import Page
from bihuan.protocol import ProtocolProfile
from bihuan.screening.choices import CampaignStatus
from bihuan.screening.schemas.campaigns import (
    CampaignCreate,
    CampaignPublic,
    CampaignsPublic,
    ProgressPublic,
    SamplesPublic,
    ScanCreate,
    ScanPublic,
    SiteCreate,
    SitePublic,
    SitesPublic,
    TubeOpen,
    TubePublic,
)
from bihuan.screening.service import campaigns as service
from bihuan.screening.service import sampling

router = APIRouter()
PageDep = Annotated[Page, Depends()]


def _profile(request: Request) -> ProtocolProfile:
    profile: ProtocolProfile = request.app.state.profile
    return profile


ProfileDep = Annotated[ProtocolProfile, Depends(_profile)]


@router.post("/campaigns", status_code=201)
def create_campaign(ctx: UserCtx, profile: ProfileDep, data: CampaignCreate) -> CampaignPublic:
    """Plan a round over jurisdiction units; pool sizes and the deadline come from the protocol profile."""
    return service.create_campaign(ctx, data, profile)


@router.get("/campaigns")
def list_campaigns(ctx: UserCtx, page: PageDep, status: CampaignStatus | None = None) -> CampaignsPublic:
    rows, count = service.list_campaigns(ctx, page, status=status)
    return CampaignsPublic(data=rows, count=count)


@router.get("/campaigns/{campaign_id}")
def get_campaign(ctx: UserCtx, campaign_id: int) -> CampaignPublic:
    return service.get_campaign_view(ctx, campaign_id)


@router.get("/campaigns/{campaign_id}/progress")
def campaign_progress(ctx: UserCtx, campaign_id: int) -> ProgressPublic:
    """Sampled / target by unit and by site, overall, and the time left to the deadline."""
    return service.campaign_progress(ctx, campaign_id)


@router.post("/campaigns/{campaign_id}/close")
def close_campaign(ctx: UserCtx, campaign_id: int) -> CampaignPublic:
    return service.close_campaign(ctx, campaign_id)


@router.post("/campaigns/{campaign_id}/sites", status_code=201)
def create_site(ctx: UserCtx, campaign_id: int, data: SiteCreate) -> SitePublic:
    return SitePublic.model_validate(service.create_site(ctx, campaign_id, data))


@router.get("/campaigns/{campaign_id}/sites")
def list_sites(ctx: UserCtx, campaign_id: int) -> SitesPublic:
    rows = service.list_sites(ctx, campaign_id)
    return SitesPublic(data=[SitePublic.model_validate(r) for r in rows], count=len(rows))


@router.post("/campaigns/{campaign_id}/tubes", status_code=201)
def open_tube(ctx: UserCtx, campaign_id: int, data: TubeOpen, response: Response) -> TubePublic:
    """Open a tube at a site by its barcode (201); the barcode of a tube already open there resumes it (200)."""
    tube, created = sampling.open_tube(ctx, campaign_id, data)
    if not created:
        response.status_code = 200
    return sampling.tube_public(ctx, tube)


@router.get("/tubes/{tube_id}")
def get_tube(ctx: UserCtx, tube_id: int) -> TubePublic:
    return sampling.tube_public(ctx, sampling.get_tube(ctx, tube_id))


@router.post("/tubes/{tube_id}/samples", status_code=201)
def scan_person(ctx: UserCtx, tube_id: int, data: ScanCreate, response: Response) -> ScanPublic:
    """Scan a person's resident ID into the tube (201); the same scan again stores nothing new (200)."""
    outcome = sampling.scan_person(ctx, tube_id, data.resident_id)
    if not outcome.created:
        response.status_code = 200
    return sampling.scan_public(ctx, outcome)


@router.get("/tubes/{tube_id}/samples")
def list_tube_samples(ctx: UserCtx, tube_id: int) -> SamplesPublic:
    rows = sampling.tube_samples(ctx, tube_id)
    return SamplesPublic(data=rows, count=len(rows))


@router.post("/tubes/{tube_id}/close")
def close_tube(ctx: UserCtx, tube_id: int) -> TubePublic:
    return sampling.tube_public(ctx, sampling.close_tube(ctx, tube_id))
