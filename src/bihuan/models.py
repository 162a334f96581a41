"""Every table of the platform, imported in one place for migrations and metadata."""

from bihuan.core.auth_models import User, UserSession
from bihuan.core.db import Base
from bihuan.core.events import Event
from bihuan.core.import_reports import ImportReport
from bihuan.grouping.models import TransferRequest
from bihuan.isolation.models import (
    ExpectedRelease,
    IsolationSite,
    IsolationStay,
    SiteFloor,
    SitePlaces,
    SiteRoom,
)
from bihuan.people.models import Address, Household, Jurisdiction, Person, Venue
from bihuan.screening.models import (
    Campaign,
    CampaignUnit,
    Case,
    Confirmation,
    KeyPopulationMember,
    LabResult,
    Retest,
    Sample,
    SamplingSite,
    Tube,
)
from bihuan.tracing.models import Investigation, TracedContact, TracingRun, TrajectoryVisit, TransmissionLink
from bihuan.transfer.models import Batch, BatchMember, TransferPlanRun, Vehicle

__all__ = [
    "Address",
    "Base",
    "Batch",
    "BatchMember",
    "Campaign",
    "CampaignUnit",
    "Case",
    "Confirmation",
    "Event",
    "ExpectedRelease",
    "Household",
    "ImportReport",
    "Investigation",
    "IsolationSite",
    "IsolationStay",
    "Jurisdiction",
    "KeyPopulationMember",
    "LabResult",
    "Person",
    "Retest",
    "Sample",
    "SamplingSite",
    "SiteFloor",
    "SitePlaces",
    "SiteRoom",
    "TracedContact",
    "TracingRun",
    "TrajectoryVisit",
    "TransferPlanRun",
    "TransferRequest",
    "TransmissionLink",
    "Tube",
    "User",
    "UserSession",
    "Vehicle",
    "Venue",
]
