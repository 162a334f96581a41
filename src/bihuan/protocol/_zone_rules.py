"""Pure zone rules (分区分级): the next level down and whether a zone may step down to it (逐级解封)."""

from __future__ import annotations

from dataclasses import dataclass

from bihuan.core.errors import FieldError
from bihuan.protocol._profile import ProtocolProfile
from bihuan.protocol._zone_models import ZoneStepRule
from bihuan.protocol.choices import ZoneLevel


@dataclass(frozen=True, kw_only=True)
class ZoneFacts:
    """What is known about a zone today, as plain data for the unlock check.

    `last_all_negative_round_days_ago` is None when no all-negative round was held;
    `last_close_contact_days_past_exposure` is None when the zone had no close contacts.
    """

    level: ZoneLevel
    days_without_new_infection: int
    days_at_level: int = 0
    stepped_down_from: ZoneLevel | None = None
    last_close_contact_days_past_exposure: int | None = None
    last_close_contact_negative: bool = True
    last_all_negative_round_days_ago: int | None = None
    county_areas_still_locked: int = 0


@dataclass(frozen=True)
class StepDownCheck:
    """The answer of the unlock check: the next level and every criterion still unmet."""

    level: ZoneLevel
    next_level: ZoneLevel | None
    unmet: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        """Whether the zone may step down now."""
        return self.next_level is not None and not self.unmet


def next_zone_level(level: ZoneLevel, profile: ProtocolProfile) -> ZoneLevel | None:
    """The level one step down, or None at the last level."""
    rule = unlock_criteria(level, profile)
    return None if rule is None else rule.to_level


def unlock_criteria(level: ZoneLevel, profile: ProtocolProfile) -> ZoneStepRule | None:
    """The criteria of the step down from `level`, or None at the last level."""
    order = profile.zones.step_order
    if level not in order:
        levels = ", ".join(order)
        raise FieldError("level", f"{level} is not a level of {profile.name} (levels: {levels})")
    return next((step for step in profile.zones.steps if step.from_level is level), None)


def zone_can_step_down(zone: ZoneFacts, profile: ProtocolProfile) -> StepDownCheck:
    """Check a zone against the criteria of its next step down; lists each unmet one in words."""
    rule = unlock_criteria(zone.level, profile)
    if rule is None:
        return StepDownCheck(zone.level, None, (f"{zone.level} is the last level",))
    return StepDownCheck(zone.level, rule.to_level, tuple(_unmet(zone, rule)))


def _unmet(zone: ZoneFacts, rule: ZoneStepRule) -> list[str]:
    unmet = []
    quiet_days, needed = zone.days_without_new_infection, rule.days_without_new_infection
    if zone.stepped_down_from is not None and rule.days_without_new_infection_if_stepped_down is not None:
        quiet_days = min(quiet_days, zone.days_at_level)
        needed = rule.days_without_new_infection_if_stepped_down
    if quiet_days < needed:
        unmet.append(f"{needed} days without new infection needed, {quiet_days} so far")
    unmet.extend(_close_contact_unmet(zone, rule))
    unmet.extend(_round_unmet(zone, rule))
    if rule.requires_county_areas_lifted and zone.county_areas_still_locked > 0:
        unmet.append(f"{zone.county_areas_still_locked} sealed or controlled areas of the county not lifted")
    return unmet


def _close_contact_unmet(zone: ZoneFacts, rule: ZoneStepRule) -> list[str]:
    past = zone.last_close_contact_days_past_exposure
    if past is None:
        return []
    unmet = []
    if rule.last_close_contact_days_past_exposure is not None and past <= rule.last_close_contact_days_past_exposure:
        unmet.append(
            f"last close contact must be more than {rule.last_close_contact_days_past_exposure} days past "
            f"exposure, is {past}"
        )
    if rule.last_close_contact_negative and not zone.last_close_contact_negative:
        unmet.append("last close contact has not tested negative")
    return unmet


def _round_unmet(zone: ZoneFacts, rule: ZoneStepRule) -> list[str]:
    ago = zone.last_all_negative_round_days_ago
    unmet = []
    if rule.negative_round_within_days is not None and (ago is None or ago > rule.negative_round_within_days):
        unmet.append(f"an all-negative round within the last {rule.negative_round_within_days} days is needed")
    if rule.negative_round_on_day is not None:
        round_day = None if ago is None else zone.days_without_new_infection - ago
        if round_day is None or round_day < rule.negative_round_on_day:
            unmet.append(f"an all-negative round on day {rule.negative_round_on_day} without infection is needed")
    return unmet
