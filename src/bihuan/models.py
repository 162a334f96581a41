"""Every table of the platform, imported in one place for migrations and metadata."""

from bihuan.core.auth_models import User, UserSession
from bihuan.core.db import Base
from bihuan.core.events import Event
from bihuan.core.import_reports import ImportReport
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

__all__ = [
    "Address",
    "Base",
    "Campaign",
    "CampaignUnit",
    "Case",
    "Confirmation",
    "Event",
    "Household",
    "ImportReport",
    "Investigation",
    "Jurisdiction",
    "KeyPopulationMember",
    "LabResult",
    "Person",
    "Retest",
    "Sample",
    "SamplingSite",
    "TracedContact",
    "TracingRun",
    "TrajectoryVisit",
    "TransmissionLink",
    "Tube",
    "User",
    "UserSession",
    "Venue",
]
