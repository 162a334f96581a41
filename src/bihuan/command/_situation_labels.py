"""Words of the situation dashboard (态势) and a person's loop timeline, in the page language: the stages a
loop reaches, the timed stages the profile sets targets for, the links and where cases were found."""

from __future__ import annotations

from babel.support import Translations

from bihuan.command.capacity_schemas import CapacityResource
from bihuan.loop.choices import FoundWhere, Stage
from bihuan.protocol import LoopStage, ProtocolProfile


def stage_labels(t: Translations) -> dict[str, str]:
    """Points a person's loop reaches (环节节点), as the funnel and the timeline name them."""
    return {
        Stage.SAMPLED: t.gettext("Sampled"),
        Stage.POOL_POSITIVE: t.gettext("Pool positive"),
        Stage.CONTROLLED: t.gettext("Controlled in place"),
        Stage.DIAGNOSED: t.gettext("Single-tube positive"),
        Stage.CONFIRMED: t.gettext("Confirmed"),
        Stage.CLEARED: t.gettext("Cleared"),
        Stage.INVESTIGATED: t.gettext("Investigation opened"),
        Stage.FIRST_FINDINGS: t.gettext("First contacts found"),
        Stage.INVESTIGATION_CLOSED: t.gettext("Investigation closed"),
        Stage.IDENTIFIED: t.gettext("Traced as a contact"),
        Stage.QUEUED: t.gettext("Queued for transfer"),
        Stage.LEFT_QUEUE: t.gettext("Left the queue"),
        Stage.PLANNED: t.gettext("Planned for transfer"),
        Stage.DISPATCHED: t.gettext("Vehicle dispatched"),
        Stage.PICKED_UP: t.gettext("Picked up"),
        Stage.ARRIVED: t.gettext("Arrived"),
        Stage.ISOLATED: t.gettext("Isolated at a site"),
        Stage.HOSPITAL: t.gettext("In hospital"),
        Stage.SITE_TESTED: t.gettext("Tested at the site"),
        Stage.SITE_TEST_RESULTED: t.gettext("Site test resulted"),
        Stage.RELEASED: t.gettext("Released"),
        Stage.HOME_ENDED: t.gettext("Home phase ended"),
        Stage.DIED: t.gettext("Died"),
        Stage.MOVED_OUT: t.gettext("Moved out"),
    }


def delay_labels(t: Translations) -> dict[str, str]:
    """The profile's timed stages (量化闭环时限), each measured against its target."""
    return {
        LoopStage.SAMPLE_TO_RESULT: t.gettext("Sample to result"),
        LoopStage.POOL_POSITIVE_TO_CONTROLLED: t.gettext("Positive pool to control in place"),
        LoopStage.RESULT_TO_CONFIRMED: t.gettext("Result to confirmation"),
        LoopStage.REPORT_AFTER_DIAGNOSIS: t.gettext("Report after diagnosis"),
        LoopStage.FIRST_TRACING_FINDINGS: t.gettext("First tracing findings"),
        LoopStage.COUNTY_CASE_INVESTIGATION: t.gettext("County case investigation"),
        LoopStage.CONTACTS_UNDER_CONTROL: t.gettext("Contacts under control"),
        LoopStage.CONFIRMED_TO_TRANSFERRED: t.gettext("Case to hospital"),
        LoopStage.IDENTIFIED_TO_QUEUED: t.gettext("Traced to queued"),
        LoopStage.QUEUED_TO_ARRIVED: t.gettext("Queued to arrived"),
        LoopStage.ARRIVED_TO_ISOLATED: t.gettext("Arrived to isolated"),
    }


def found_labels(t: Translations) -> dict[str, str]:
    """Where new cases were found: under control already (在管控中发现) or in the community (社会面)."""
    return {
        FoundWhere.CENTRAL_SITE: t.gettext("At a quarantine site"),
        FoundWhere.CONTROLLED_IN_PLACE: t.gettext("Under control in place"),
        FoundWhere.COMMUNITY: t.gettext("In the community"),
    }


def link_labels(profile: ProtocolProfile, english: bool) -> dict[str, str]:
    """The links by the names of their task forces (专班) in the profile."""
    return {f.link.value: (f.name_en or f.name) if english else f.name for f in profile.command.task_forces}


def resource_labels(t: Translations) -> dict[str, str]:
    """The resources a capacity gauge watches (资源负荷)."""
    return {
        CapacityResource.ROOMS: t.gettext("Isolation rooms"),
        CapacityResource.VEHICLES: t.gettext("Transfer vehicles"),
        CapacityResource.LAB: t.gettext("Lab throughput"),
        CapacityResource.TRACING: t.gettext("Tracing teams"),
    }


def gauge_status_labels(t: Translations) -> dict[str, str]:
    """A capacity gauge's status, said in words as well as shown in colour."""
    return {
        "normal": t.gettext("Normal"),
        "strained": t.gettext("Strained"),
        "alert": t.gettext("Alert"),
    }
