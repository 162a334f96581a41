"""HTTP API of the register: thin routes over people.service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile

from bihuan.core.deps import UserCtx
from bihuan.core.errors import FieldError
from bihuan.people import importer, service
from bihuan.people.choices import JurisdictionLevel, VenueKind
from bihuan.people.schemas import (
    AddressCreate,
    AddressPublic,
    HouseholdCreate,
    HouseholdPublic,
    HouseholdsPublic,
    ImportReportPublic,
    JurisdictionCreate,
    JurisdictionPublic,
    JurisdictionsPublic,
    Page,
    PersonCreate,
    PersonIdentityRevealed,
    PersonPublic,
    PersonsPublic,
    PersonUpdate,
    RevealRequest,
    VenueCreate,
    VenuePublic,
    VenuesPublic,
    VenueUpdate,
)

router = APIRouter(prefix="/api", tags=["people"])
PageDep = Annotated[Page, Depends()]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@router.get("/jurisdictions")
def list_jurisdictions(
    ctx: UserCtx, page: PageDep, parent_id: int | None = None, level: JurisdictionLevel | None = None, q: str = ""
) -> JurisdictionsPublic:
    rows, count = service.list_jurisdictions(ctx, page, parent_id=parent_id, level=level, q=q)
    return JurisdictionsPublic(data=[JurisdictionPublic.model_validate(r) for r in rows], count=count)


@router.get("/jurisdictions/{jurisdiction_id}")
def get_jurisdiction(ctx: UserCtx, jurisdiction_id: int) -> JurisdictionPublic:
    return JurisdictionPublic.model_validate(service.get_jurisdiction(ctx, jurisdiction_id))


@router.post("/jurisdictions", status_code=201)
def create_jurisdiction(ctx: UserCtx, data: JurisdictionCreate) -> JurisdictionPublic:
    return JurisdictionPublic.model_validate(service.create_jurisdiction(ctx, data))


@router.post("/addresses", status_code=201)
def create_address(ctx: UserCtx, data: AddressCreate) -> AddressPublic:
    return AddressPublic.model_validate(service.create_address(ctx, data))


@router.get("/addresses/{address_id}")
def get_address(ctx: UserCtx, address_id: int) -> AddressPublic:
    return AddressPublic.model_validate(service.get_address(ctx, address_id))


@router.get("/households")
def list_households(ctx: UserCtx, page: PageDep, jurisdiction_id: int | None = None) -> HouseholdsPublic:
    rows, count = service.list_households(ctx, page, jurisdiction_id=jurisdiction_id)
    return HouseholdsPublic(data=[HouseholdPublic.model_validate(r) for r in rows], count=count)


@router.get("/households/{household_id}")
def get_household(ctx: UserCtx, household_id: int) -> HouseholdPublic:
    return HouseholdPublic.model_validate(service.get_household(ctx, household_id))


@router.post("/households", status_code=201)
def create_household(ctx: UserCtx, data: HouseholdCreate) -> HouseholdPublic:
    return HouseholdPublic.model_validate(service.create_household(ctx, data))


@router.get("/persons")
def list_persons(
    ctx: UserCtx,
    page: PageDep,
    q: Annotated[str, Query(description="name prefix")] = "",
    resident_id: Annotated[str, Query(description="exact resident ID number")] = "",
    phone: Annotated[str, Query(description="exact phone number")] = "",
    jurisdiction_id: int | None = None,
    household_id: int | None = None,
    sex: Annotated[str, Query(pattern="^(M|F)?$")] = "",
) -> PersonsPublic:
    rows, count = service.list_persons(
        ctx,
        page,
        q=q,
        resident_id=resident_id,
        phone=phone,
        jurisdiction_id=jurisdiction_id,
        household_id=household_id,
        sex=sex,
    )
    return PersonsPublic(data=rows, count=count, page=page.page, page_size=page.page_size)


@router.get("/persons/{person_id}")
def get_person(ctx: UserCtx, person_id: int) -> PersonPublic:
    return service.get_person(ctx, person_id)


@router.post("/persons", status_code=201)
def create_person(ctx: UserCtx, data: PersonCreate) -> PersonPublic:
    return service.create_person(ctx, data)


@router.patch("/persons/{person_id}")
def update_person(ctx: UserCtx, person_id: int, data: PersonUpdate) -> PersonPublic:
    return service.update_person(ctx, person_id, data)


@router.post("/persons/{person_id}/reveal")
def reveal_identity(ctx: UserCtx, person_id: int, data: RevealRequest) -> PersonIdentityRevealed:
    """The full resident ID and phone; the reason is logged in the audit trail."""
    return service.reveal_identity(ctx, person_id, data.reason)


@router.post("/persons/import", status_code=201)
def import_persons(ctx: UserCtx, file: Annotated[UploadFile, File(description="CSV or XLSX")]) -> ImportReportPublic:
    """Bulk import: valid rows stored, each bad row reported with row, field and reason; idempotent."""
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise FieldError("file", f"larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    report = importer.import_persons(ctx, file.filename or "upload.csv", content)
    return ImportReportPublic.model_validate(report)


@router.get("/imports/{report_id}")
def get_import_report(ctx: UserCtx, report_id: int) -> ImportReportPublic:
    return ImportReportPublic.model_validate(importer.get_report(ctx, report_id))


@router.get("/venues")
def list_venues(
    ctx: UserCtx, page: PageDep, kind: VenueKind | None = None, q: str = "", jurisdiction_id: int | None = None
) -> VenuesPublic:
    rows, count = service.list_venues(ctx, page, kind=kind.value if kind else "", q=q, jurisdiction_id=jurisdiction_id)
    return VenuesPublic(data=[VenuePublic.model_validate(r) for r in rows], count=count)


@router.get("/venues/{venue_id}")
def get_venue(ctx: UserCtx, venue_id: int) -> VenuePublic:
    return VenuePublic.model_validate(service.get_venue(ctx, venue_id))


@router.post("/venues", status_code=201)
def create_venue(ctx: UserCtx, data: VenueCreate) -> VenuePublic:
    return VenuePublic.model_validate(service.create_venue(ctx, data))


@router.patch("/venues/{venue_id}")
def update_venue(ctx: UserCtx, venue_id: int, data: VenueUpdate) -> VenuePublic:
    return VenuePublic.model_validate(service.update_venue(ctx, venue_id, data))
