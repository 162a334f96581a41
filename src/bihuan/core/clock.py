"""One clock (统一时钟): services take time from an injected clock so drills and tests can run simulated days."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that moves only when told: for drills, demos and tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a clock never runs backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            if moment.astimezone(UTC) < self._now:
                raise ValueError("a clock never runs backwards")
            self._now = moment.astimezone(UTC)


class ContinuingClock:
    """A clock that carries on from a simulated moment at wall speed: a demo served after its drill goes on
    from where the drill's simulated days ended, and its figures do not depend on the hour it is served."""

    def __init__(self, start: datetime, wall: Clock | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("a continuing clock needs a timezone-aware start")
        self._wall = wall or SystemClock()
        self._start = start.astimezone(UTC)
        self._began = self._wall.now()

    def now(self) -> datetime:
        return self._start + (self._wall.now() - self._began)
