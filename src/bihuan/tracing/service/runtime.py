"""What tracing needs from the deployment (profile, scan store, time zone, backend), wired per database.

The app (and the demo, and drills) configure one runtime per database; the event subscribers that
run after a commit look it up, so a confirmed case is traced with the deployment's own profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from bihuan.core.db import Database
from bihuan.protocol import ProtocolProfile, load_profile
from bihuan.tracing.sources import ScanStore


@dataclass(frozen=True)
class TracingRuntime:
    """The deployment's tracing settings: ``auto_trace`` runs the engine as soon as a case is confirmed."""

    profile: ProtocolProfile
    store: ScanStore
    timezone: str
    auto_trace: bool = True
    backend: str = "duckdb"  # or "spark"
    spark_master: str = "local[2]"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_midnight(self, day: date) -> datetime:
        """The start of a local day, as an aware UTC time."""
        return datetime.combine(day, time(), tzinfo=self.zone).astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


_runtimes: WeakKeyDictionary[Database, TracingRuntime] = WeakKeyDictionary()


def configure(database: Database, runtime: TracingRuntime) -> None:
    """Wire tracing for one database (the app does this at start-up)."""
    _runtimes[database] = runtime


def runtime_for(database: Database) -> TracingRuntime | None:
    return _runtimes.get(database)


def profile_of(database: Database) -> ProtocolProfile:
    """The profile the database's runtime runs on (the default profile when none is configured)."""
    runtime = runtime_for(database)
    return load_profile() if runtime is None else runtime.profile
