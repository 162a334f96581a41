"""Pure rules for health codes (亮码) and the loop's time targets (量化闭环)."""

from __future__ import annotations

from collections.abc import Iterable

from bihuan.protocol._profile import ProtocolProfile
from bihuan.protocol.choices import CodeColour, HealthState, LoopStage


def code_colour(states: Iterable[HealthState], profile: ProtocolProfile) -> CodeColour:
    """A person's health-code colour: red if any state is red, else yellow if any is yellow, else green.

    Red turns yellow or green when isolation ends: the caller drops the isolation state, and what
    remains (e.g. home monitoring) decides.
    """
    held = set(states)
    if held.intersection(profile.codes.red):
        return CodeColour.RED
    if held.intersection(profile.codes.yellow):
        return CodeColour.YELLOW
    return CodeColour.GREEN


def loop_target_hours(stage: LoopStage, profile: ProtocolProfile) -> float:
    """The time target of a loop stage, in hours (e.g. report within 2 h of diagnosis)."""
    return profile.loop_targets[stage]
