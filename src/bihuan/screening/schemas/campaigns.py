"""API shapes of testing rounds and sampling: one family per entity (Create, Public, ...sPublic)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bihuan.screening.choices import AreaKind, CampaignStatus, TubeKind

BARCODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_-]*$"


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- campaigns (一轮全员核酸检测) ----------------------------------------------------------------------


class CampaignUnitCreate(BaseModel):
    """One jurisdiction unit of a round (any level) and the kind of area it is, which sets its pool size."""

    jurisdiction_id: int
    area_kind: AreaKind


class CampaignCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    name: str = Field(min_length=1, max_length=128)
    starts_at: AwareDatetime | None = Field(None, description="Defaults to now.")
    units: list[CampaignUnitCreate] = Field(min_length=1, max_length=2000)
    delineated_area: bool = Field(
        False, description="A delineated area's round takes the profile's shorter deadline when it has one (2022)."
    )


class CampaignUnitPublic(BaseModel):
    id: int
    jurisdiction_id: int
    jurisdiction_code: str
    jurisdiction_name: str
    area_kind: AreaKind
    pool_size: int
    target: int


class CampaignPublic(BaseModel):
    id: int
    code: str
    name: str
    status: CampaignStatus
    starts_at: datetime
    deadline_at: datetime
    closed_at: datetime | None
    created_at: datetime
    target: int = Field(description="Registered persons in the units you see.")
    units: list[CampaignUnitPublic]


class CampaignsPublic(BaseModel):
    data: list[CampaignPublic]
    count: int


# -- sampling sites (采样点) ------------------------------------------------------------------------------


class SiteCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$")
    name: str = Field(min_length=1, max_length=128)
    jurisdiction_id: int = Field(description="Where the site stands: inside one of the round's units.")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    capacity_per_hour: int = Field(ge=1, le=100_000)


class SitePublic(_Public):
    id: int
    campaign_id: int
    code: str
    name: str
    jurisdiction_id: int
    lat: float | None
    lon: float | None
    opens_at: datetime
    closes_at: datetime
    capacity_per_hour: int


class SitesPublic(BaseModel):
    data: list[SitePublic]
    count: int


# -- tubes and samples (采样管, 混采) ---------------------------------------------------------------------


class TubeOpen(BaseModel):
    site_id: int
    barcode: str = Field(min_length=1, max_length=40, pattern=BARCODE_PATTERN)
    kind: TubeKind | None = Field(
        None, description="Defaults to the unit's: pooled when its pool size is above 1, else single."
    )


class TubePublic(BaseModel):
    id: int
    barcode: str
    kind: TubeKind
    capacity: int
    fill: int = Field(description="Samples in the tube, duplicates included (they are in the tube).")
    campaign_id: int | None
    site_id: int | None
    opened_at: datetime
    closed_at: datetime | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class ScanCreate(BaseModel):
    resident_id: str = Field(min_length=1, max_length=32, description="As scanned from the ID card (18 characters).")


class SamplePublic(BaseModel):
    """One swab in a tube; the resident ID is masked (3306**********1234)."""

    id: int
    person_id: int
    person_name: str
    resident_id_masked: str | None
    tube_id: int
    site_id: int | None
    sampled_at: datetime
    duplicate: bool


class SamplesPublic(BaseModel):
    data: list[SamplePublic]
    count: int


class ScanPublic(BaseModel):
    """What a scan did: the sample (new, or the one stored by the same scan before) and the tube after it."""

    created: bool
    sample: SamplePublic
    tube: TubePublic


# -- progress ---------------------------------------------------------------------------------------------


class UnitProgress(BaseModel):
    unit_id: int
    jurisdiction_id: int
    jurisdiction_name: str
    area_kind: AreaKind
    pool_size: int
    target: int
    sampled: int = Field(description="Distinct persons sampled; duplicates are not counted.")
    duplicates: int
    share: float | None


class SiteProgress(BaseModel):
    site_id: int
    code: str
    name: str
    opens_at: datetime
    closes_at: datetime
    capacity: int = Field(description="capacity_per_hour × opening hours: the site's target.")
    sampled: int
    duplicates: int
    share: float | None


class ProgressPublic(BaseModel):
    campaign_id: int
    code: str
    name: str
    status: CampaignStatus
    starts_at: datetime
    deadline_at: datetime
    as_of: datetime
    hours_left: float = Field(description="Until the deadline; negative once it has passed.")
    overdue: bool = Field(description="The deadline passed before the round was closed.")
    target: int
    sampled: int
    duplicates: int
    share: float | None
    units: list[UnitProgress]
    sites: list[SiteProgress]
