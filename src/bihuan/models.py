"""Every table of the platform, imported in one place for migrations and metadata."""

from bihuan.command.models import Incident, Task, TaskForce, TaskForceMember
from bihuan.core.auth_models import User, UserSession
from bihuan.core.db import Base
from bihuan.core.events import Event
from bihuan.core.import_reports import ImportReport
from bihuan.grouping.models import TransferRequest
from bihuan.isolation.checklist_models import ChecklistAlert, ChecklistEntry, ChecklistTemplate
from bihuan.isolation.models import (
    ExpectedRelease,
    HealthAlert,
    IsolationSite,
    IsolationStay,
    SiteFloor,
    SitePlaces,
    SiteRoom,
    TemperatureReading,
)
from bihuan.loop.models import LoopCount, LoopDelay, LoopProjectionState, LoopReached, LoopStanding
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
    "ChecklistAlert",
    "ChecklistEntry",
    "ChecklistTemplate",
    "Confirmation",
    "Event",
    "ExpectedRelease",
    "HealthAlert",
    "Household",
    "ImportReport",
    "Incident",
    "Investigation",
    "IsolationSite",
    "IsolationStay",
    "Jurisdiction",
    "KeyPopulationMember",
    "LabResult",
    "LoopCount",
    "LoopDelay",
    "LoopProjectionState",
    "LoopReached",
    "LoopStanding",
    "Person",
    "Retest",
    "Sample",
    "SamplingSite",
    "SiteFloor",
    "SitePlaces",
    "SiteRoom",
    "Task",
    "TaskForce",
    "TaskForceMember",
    "TemperatureReading",
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
