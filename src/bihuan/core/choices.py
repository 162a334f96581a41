"""Enumerations shared by every capability: the event catalogue (事件目录) and user roles."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """Every kind of event the platform records; a new kind is added here, never invented in a service."""

    # the register and access
    JURISDICTION_CREATED = "jurisdiction_created"
    HOUSEHOLD_CREATED = "household_created"
    ADDRESS_CREATED = "address_created"
    PERSON_CREATED = "person_created"
    PERSON_UPDATED = "person_updated"
    VENUE_CREATED = "venue_created"
    VENUE_UPDATED = "venue_updated"
    IMPORT_COMPLETED = "import_completed"
    RESIDENT_ID_REVEALED = "resident_id_revealed"
    USER_CREATED = "user_created"
    USER_LOGGED_IN = "user_logged_in"
    # 快检测 fast testing
    CAMPAIGN_CREATED = "campaign_created"
    CAMPAIGN_CLOSED = "campaign_closed"
    SAMPLED = "sampled"
    DUPLICATE_SAMPLE = "duplicate_sample"
    LAB_RESULT_RECORDED = "lab_result_recorded"
    RETEST_SCHEDULED = "retest_scheduled"
    CONFIRMATION_OPENED = "confirmation_opened"
    CASE_NOT_CONFIRMED = "case_not_confirmed"
    KEY_POPULATION_ENROLLED = "key_population_enrolled"
    KEY_POPULATION_ENDED = "key_population_ended"
    POOL_POSITIVE = "pool_positive"
    CONTROLLED_IN_PLACE = "controlled_in_place"
    RETEST_SAMPLED = "retest_sampled"
    TEST_RESULTED = "test_resulted"
    CASE_CONFIRMED = "case_confirmed"
    # 快流调 fast tracing
    INVESTIGATION_OPENED = "investigation_opened"
    CONTACT_IDENTIFIED = "contact_identified"
    INVESTIGATION_CLOSED = "investigation_closed"
    # 快编组 fast grouping
    TRANSFER_QUEUED = "transfer_queued"
    TRANSFER_CANCELLED = "transfer_cancelled"
    TRANSFER_PLANNED = "transfer_planned"  # one planning run (the plan as a whole)
    BATCH_PLANNED = "batch_planned"
    BATCH_CANCELLED = "batch_cancelled"
    # 快转运 fast transfer
    DISPATCHED = "dispatched"
    PICKED_UP = "picked_up"
    ARRIVED = "arrived"
    RETURNED_TO_QUEUE = "returned_to_queue"
    VEHICLE_CREATED = "vehicle_created"
    VEHICLE_UPDATED = "vehicle_updated"
    VEHICLE_FAILED = "vehicle_failed"
    # 快隔离 fast isolation
    SITE_CREATED = "site_created"
    SITE_UPDATED = "site_updated"
    SITE_REPORTED_FULL = "site_reported_full"
    ISOLATION_STARTED = "isolation_started"
    TEST_SCHEDULED = "test_scheduled"
    HEALTH_CHECK_RECORDED = "health_check_recorded"
    HEALTH_ALERT_RAISED = "health_alert_raised"  # fever, symptoms or a check not taken at a site
    HEALTH_ALERT_RESOLVED = "health_alert_resolved"
    SITE_TEST_SAMPLED = "site_test_sampled"  # a plan's test taken at a site, as single tubes
    SITE_TEST_RESULTED = "site_test_resulted"  # every tube of a site test back: the test's result
    CROSS_INFECTION_OPENED = "cross_infection_opened"  # a positive inside a site: neighbours flagged
    CROSS_INFECTION_CLOSED = "cross_infection_closed"
    QUARANTINE_CLOCK_RESET = "quarantine_clock_reset"  # a neighbour's plan restarts from a new last exposure
    RELEASED = "released"
    HOME_TASK_RECORDED = "home_task_recorded"  # a community worker's home-monitoring check or test
    HOME_MONITORING_ENDED = "home_monitoring_ended"
    CHECKLIST_RECORDED = "checklist_recorded"  # a check of a site checklist (or its correction)
    CHECKLIST_OVERDUE = "checklist_overdue"  # an item left undone after its shift ended
    # 指挥体系 command: incidents (平转战), task forces (专班), tasks
    INCIDENT_ACTIVATED = "incident_activated"
    INCIDENT_DEACTIVATED = "incident_deactivated"
    TASK_FORCE_MEMBER_ADDED = "task_force_member_added"
    TASK_FORCE_MEMBER_REMOVED = "task_force_member_removed"
    TASK_CREATED = "task_created"
    TASK_UPDATED = "task_updated"
    # ends of the loop
    HOSPITALISED = "hospitalised"
    DIED = "died"
    MOVED_OUT = "moved_out"


class Role(StrEnum):
    """What a user does at the headquarters; each user is bound to one jurisdiction."""

    ADMIN = "admin"
    COMMANDER = "commander"
    INVESTIGATOR = "investigator"
    LAB = "lab"
    TRANSFER = "transfer"
    SITE_MANAGER = "site_manager"
    COMMUNITY_WORKER = "community_worker"
    ANALYST = "analyst"

    @property
    def label_zh(self) -> str:
        return _ROLE_LABELS_ZH[self]


_ROLE_LABELS_ZH = {
    Role.ADMIN: "系统管理员",
    Role.COMMANDER: "指挥人员",
    Role.INVESTIGATOR: "流调人员",
    Role.LAB: "检测人员",
    Role.TRANSFER: "转运人员",
    Role.SITE_MANAGER: "隔离点管理员",
    Role.COMMUNITY_WORKER: "社区工作者",
    Role.ANALYST: "研判专家",
}
