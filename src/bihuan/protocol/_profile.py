"""The protocol profile: one typed, frozen object per protocol edition ("policy is data")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import PositiveFloat, StringConstraints, model_validator

from bihuan.protocol._base import ProfileModel, ProfileValueError
from bihuan.protocol._command_models import CommandRules
from bihuan.protocol._quarantine_models import HomeMonitoringRules, QuarantineRule, SiteRules
from bihuan.protocol._screening_models import ScreeningRules
from bihuan.protocol._tracing_models import TracingRules
from bihuan.protocol._transfer_models import TransferRules
from bihuan.protocol._zone_models import CodeRules, ZoneRules
from bihuan.protocol.choices import ContactCategory, DestinationKind, LoopStage, QuarantinePhase

ProfileName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$")]


class ProfileAbout(ProfileModel):
    """What the profile is: its name, the protocol it follows and where that was published."""

    name: ProfileName
    title: str
    edition: str
    disease: str
    published: date | None = None
    source: str = ""


class ProtocolProfile(ProfileModel):
    """Every number of one protocol edition, read by the pure rule functions."""

    about: ProfileAbout
    tracing: TracingRules
    quarantine: dict[ContactCategory, QuarantineRule]
    home_monitoring: HomeMonitoringRules
    sites: SiteRules
    transfer: TransferRules
    screening: ScreeningRules
    zones: ZoneRules
    codes: CodeRules
    loop_targets: dict[LoopStage, PositiveFloat]  # hours
    command: CommandRules = CommandRules()  # the 平转战 template; a profile may set its own [command]

    @property
    def name(self) -> str:
        """The profile's name, e.g. ``cn-8th-2021``."""
        return self.about.name

    @model_validator(mode="after")
    def _every_loop_stage_has_a_target(self) -> Self:
        for stage in LoopStage:
            if stage not in self.loop_targets:
                raise ProfileValueError(f"loop_targets.{stage}", "missing: every loop stage needs a target in hours")
        return self

    @model_validator(mode="after")
    def _central_quarantine_only_for_central_plans(self) -> Self:
        for category, destination in self.transfer.destinations.items():
            if destination != DestinationKind.CENTRAL_QUARANTINE:
                continue
            rule = self.quarantine.get(ContactCategory(category))
            if rule is None or not rule.phase_days(QuarantinePhase.CENTRAL):
                raise ProfileValueError(
                    f"transfer.destinations.{category}",
                    "sent to central quarantine, but its quarantine plan has no central days",
                )
        return self

    @model_validator(mode="after")
    def _cross_infection_resets_to_a_known_plan(self) -> Self:
        category = self.sites.cross_infection.reset_plan_as
        if category is not None and category not in self.quarantine:
            raise ProfileValueError(
                "sites.cross_infection.reset_plan_as", f"{category} has no plan in the quarantine section"
            )
        return self
