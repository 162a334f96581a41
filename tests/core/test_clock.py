"""The continuing clock: a demo served after its drill carries on from the drill's simulated end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bihuan.core.clock import ContinuingClock, SimulatedClock

DRILL_END = datetime(2021, 12, 9, 16, 0, tzinfo=UTC)


def test_a_continuing_clock_starts_at_the_simulated_moment_and_runs_at_wall_speed() -> None:
    wall = SimulatedClock(datetime(2030, 5, 1, 9, 30, tzinfo=UTC))
    clock = ContinuingClock(DRILL_END, wall=wall)

    assert clock.now() == DRILL_END
    wall.advance(timedelta(minutes=90))
    assert clock.now() == DRILL_END + timedelta(minutes=90)


def test_a_continuing_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ContinuingClock(datetime(2021, 12, 9, 16, 0))
