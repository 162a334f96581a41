"""Every table of the platform, imported in one place for migrations and metadata."""

from bihuan.core.auth_models import User, UserSession
from bihuan.core.db import Base
from bihuan.core.events import Event
from bihuan.people.models import Address, Household, ImportReport, Jurisdiction, Person, Venue

__all__ = [
    "Address",
    "Base",
    "Event",
    "Household",
    "ImportReport",
    "Jurisdiction",
    "Person",
    "User",
    "UserSession",
    "Venue",
]
