"""How fast the drill's field teams answer (响应时间), and the agenda they answer from.

A team's delay for a loop stage is the profile's target scaled by a log-normal draw whose median is
half the target: most steps are on time, about one in twelve is late, so the dashboard has overdue
loops to show. Every draw comes from the drill's own named random stream, so a seed replays exactly.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from bihuan.core.clock import SimulatedClock
from bihuan.protocol import LoopStage, ProtocolProfile

ON_TIME_MEDIAN = 0.5  # of the target: the teams' typical delay
SPREAD = 0.5  # log-normal sigma: exp(ln 2 / 0.5) ≈ 8% of steps come in after their target


class Pace:
    """Response delays drawn against the profile's loop targets."""

    def __init__(self, profile: ProtocolProfile, rng: np.random.Generator) -> None:
        self.targets = profile.loop_targets
        self.rng = rng

    def factor(self) -> float:
        return float(self.rng.lognormal(math.log(ON_TIME_MEDIAN), SPREAD))

    def delay(self, stage: LoopStage) -> timedelta:
        """How long the team takes for this stage this time."""
        return timedelta(hours=self.targets[stage] * self.factor())

    def within(self, hours: float) -> timedelta:
        """A moment within the next `hours` (a team's round spread over its shift)."""
        return timedelta(hours=float(self.rng.uniform(0, hours)))

    def chance(self, share: float) -> bool:
        return bool(self.rng.random() < share)


@dataclass(order=True)
class _Task:
    at: datetime
    number: int
    what: str = field(compare=False)
    act: Callable[[], object] = field(compare=False)


class Agenda:
    """The teams' to-do list in time order; running a task first moves the clock to its time."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self._tasks: list[_Task] = []
        self._numbers = 0

    def at(self, moment: datetime, what: str, act: Callable[[], object]) -> None:
        """Do `act` at `moment` (at once when that has passed)."""
        self._numbers += 1
        heapq.heappush(self._tasks, _Task(max(moment, self.clock.now()), self._numbers, what, act))

    def run_until(self, end: datetime) -> int:
        """Every task due before `end`, in time order (tasks may add tasks); the clock ends at `end`."""
        done = 0
        while self._tasks and self._tasks[0].at < end:
            task = heapq.heappop(self._tasks)
            if task.at > self.clock.now():
                self.clock.set(task.at)
            task.act()
            done += 1
        self.clock.set(end)
        return done
