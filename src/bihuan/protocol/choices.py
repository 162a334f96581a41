"""Enumerations of the protocol vocabulary, defined once for profiles, tables, API, UI and filters."""

from __future__ import annotations

from enum import StrEnum


class ContactCategory(StrEnum):
    """Who a person is to the outbreak, for tracing and quarantine (人员类别)."""

    CLOSE_CONTACT = "close_contact"  # 密切接触者 (密接)
    SECONDARY_CONTACT = "secondary_contact"  # 密接的密接 (次密接)
    GENERAL_CONTACT = "general_contact"  # 一般接触者
    COMPANION = "companion"  # 时空伴随者
    INBOUND = "inbound"  # 入境人员
    SEALED_RESIDENT = "sealed_resident"  # 封控区居民


class QuarantinePhase(StrEnum):
    """The phases of a quarantine plan, in the order they follow one another."""

    CENTRAL = "central"  # 集中隔离医学观察
    HOME_ISOLATION = "home_isolation"  # 居家隔离医学观察
    HOME_MONITORING = "home_monitoring"  # 居家健康监测


class ContactSetting(StrEnum):
    """Where or how an exposure happened, as the contact definitions list them."""

    HOUSEHOLD = "household"
    CARER = "carer"
    ENCLOSED_WORKSPACE = "enclosed_workspace"  # office, workshop, classroom
    LIFT = "lift"
    CANTEEN = "canteen"
    SHARED_MEAL = "shared_meal"
    ENTERTAINMENT = "entertainment"
    SOCIAL_ACTIVITY = "social_activity"
    VEHICLE = "vehicle"
    CONTAMINATED_ENVIRONMENT = "contaminated_environment"
    INVESTIGATOR_JUDGEMENT = "investigator_judgement"


class VenueKind(StrEnum):
    """Kinds of venue (场所), for the register's venue codes and for co-presence rules alike."""

    RESTAURANT = "restaurant"
    CANTEEN = "canteen"
    SUPERMARKET = "supermarket"
    MARKET = "market"
    SHOP = "shop"
    OFFICE = "office"
    FACTORY = "factory"
    WORKSHOP = "workshop"
    SCHOOL = "school"
    CLASSROOM = "classroom"
    HOSPITAL = "hospital"
    GYM = "gym"
    CINEMA = "cinema"
    ENTERTAINMENT = "entertainment"
    HOTEL = "hotel"
    TRANSPORT_HUB = "transport_hub"
    BUS = "bus"
    LIFT = "lift"
    OTHER = "other"


class VehicleKind(StrEnum):
    """Means of transport with their own close-contact rule (交通工具)."""

    PLANE = "plane"
    TRAIN = "train"
    COACH = "coach"
    BUS = "bus"
    SHIP = "ship"


class VehicleScope(StrEnum):
    """How far around a case on a vehicle the close contacts reach."""

    ROWS = "rows"  # the case's row and rows either side
    CAR = "car"  # the whole train car
    COMPARTMENT = "compartment"  # the sleeper compartment
    CABIN = "cabin"  # the ship cabin
    ALL = "all"  # everyone on board


class AreaKind(StrEnum):
    """Kinds of area or group that decide the pool size of a testing round."""

    QUARANTINE_SITE = "quarantine_site"
    KEY_GROUP = "key_group"
    SEALED = "sealed"
    CONTROLLED = "controlled"
    PRECAUTION = "precaution"
    OTHER = "other"


class KeyPopulation(StrEnum):
    """Key populations tested on a schedule (重点人群)."""

    QUARANTINE_SITE_STAFF = "quarantine_site_staff"
    DESIGNATED_HOSPITAL_STAFF = "designated_hospital_staff"
    MEDICAL_STAFF = "medical_staff"
    PORT_WORKERS = "port_workers"
    COLD_CHAIN_WORKERS = "cold_chain_workers"
    TRANSPORT_WORKERS = "transport_workers"


class ZoneLevel(StrEnum):
    """Zone levels: 2021 sealed/controlled/precaution/lifted, 2022 high/medium/low risk (分区分级)."""

    SEALED = "sealed"  # 封控区
    CONTROLLED = "controlled"  # 管控区
    PRECAUTION = "precaution"  # 防范区
    LIFTED = "lifted"  # 解封
    HIGH = "high"  # 高风险区
    MEDIUM = "medium"  # 中风险区
    LOW = "low"  # 低风险区


class CodeColour(StrEnum):
    """Health-code colours (健康码)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class HealthState(StrEnum):
    """A person's states that decide their health-code colour."""

    CONFIRMED = "confirmed"
    SUSPECTED = "suspected"
    ASYMPTOMATIC = "asymptomatic"
    CENTRAL_ISOLATION = "central_isolation"
    HOME_ISOLATION = "home_isolation"
    FROM_RISK_AREA = "from_risk_area"
    UNEXPLAINED_FEVER = "unexplained_fever"
    SELF_REPORTED_SYMPTOMS = "self_reported_symptoms"
    HOME_MONITORING = "home_monitoring"
    MISSED_TESTING_ROUND = "missed_testing_round"
    SPATIOTEMPORAL_COMPANION = "spatiotemporal_companion"


class CarerReason(StrEnum):
    """Who may have one carer in their quarantine room (陪护)."""

    MINOR = "minor"
    ELDERLY = "elderly"
    DISABLED = "disabled"


class TestOutcome(StrEnum):
    """The outcome of a nucleic-acid test as the rules need it."""

    __test__ = False  # not a pytest test class

    PENDING = "pending"
    NEGATIVE = "negative"
    POSITIVE = "positive"


class ReleaseDecision(StrEnum):
    """What to do with a secondary contact at the end of their quarantine."""

    RELEASE = "release"
    WAIT = "wait"  # the linked close contact's results are not all in
    RECLASSIFY = "reclassify"  # a linked test was positive: manage under the condition's `otherwise` category


class LoopStage(StrEnum):
    """Timed stages of the closed loop, each with a target in hours (量化闭环)."""

    SAMPLE_TO_RESULT = "sample_to_result"
    POOL_POSITIVE_TO_CONTROLLED = "pool_positive_to_controlled"
    RESULT_TO_CONFIRMED = "result_to_confirmed"
    REPORT_AFTER_DIAGNOSIS = "report_after_diagnosis"
    FIRST_TRACING_FINDINGS = "first_tracing_findings"
    COUNTY_CASE_INVESTIGATION = "county_case_investigation"
    CONTACTS_UNDER_CONTROL = "contacts_under_control"
    CONFIRMED_TO_TRANSFERRED = "confirmed_to_transferred"
    IDENTIFIED_TO_QUEUED = "identified_to_queued"
    QUEUED_TO_ARRIVED = "queued_to_arrived"
    ARRIVED_TO_ISOLATED = "arrived_to_isolated"


VENUE_SETTINGS: dict[VenueKind, frozenset[ContactSetting]] = {
    VenueKind.OFFICE: frozenset({ContactSetting.ENCLOSED_WORKSPACE}),
    VenueKind.FACTORY: frozenset({ContactSetting.ENCLOSED_WORKSPACE}),
    VenueKind.WORKSHOP: frozenset({ContactSetting.ENCLOSED_WORKSPACE}),
    VenueKind.SCHOOL: frozenset({ContactSetting.ENCLOSED_WORKSPACE}),
    VenueKind.CLASSROOM: frozenset({ContactSetting.ENCLOSED_WORKSPACE}),
    VenueKind.RESTAURANT: frozenset({ContactSetting.SHARED_MEAL}),
    VenueKind.CANTEEN: frozenset({ContactSetting.CANTEEN, ContactSetting.SHARED_MEAL}),
    VenueKind.ENTERTAINMENT: frozenset({ContactSetting.ENTERTAINMENT, ContactSetting.SOCIAL_ACTIVITY}),
    VenueKind.CINEMA: frozenset({ContactSetting.ENTERTAINMENT, ContactSetting.SOCIAL_ACTIVITY}),
    VenueKind.GYM: frozenset({ContactSetting.ENTERTAINMENT, ContactSetting.SOCIAL_ACTIVITY}),
    VenueKind.LIFT: frozenset({ContactSetting.LIFT}),
    VenueKind.BUS: frozenset({ContactSetting.VEHICLE}),
}
"""The contact settings a venue kind stands for (场所类型对应的接触情形): a profile's contact rules name settings,
the register names venue kinds; shops, markets and hubs stand for no close-contact setting."""


class TransferCategory(StrEnum):
    """Who rides to central quarantine or hospital (转运人员类别): never two categories in one vehicle."""

    CONFIRMED = "confirmed"  # 确诊病例、无症状感染者: to a designated hospital
    CLOSE_CONTACT = "close_contact"  # 密接
    SECONDARY_CONTACT = "secondary_contact"  # 次密接
    INBOUND = "inbound"  # 入境人员
    COMPANION = "companion"  # 时空伴随者 (only where a profile sends them to central quarantine)
    GENERAL_CONTACT = "general_contact"
    SEALED_RESIDENT = "sealed_resident"


class DestinationKind(StrEnum):
    """Where a transfer ends (转运目的地)."""

    DESIGNATED_HOSPITAL = "designated_hospital"  # 定点医院
    CENTRAL_QUARANTINE = "central_quarantine"  # 集中隔离点


class NeighbourRule(StrEnum):
    """Who counts as a neighbour of a case found inside a site (交叉感染调查)."""

    SAME_ROOM = "same_room"  # shares the case's room (a carer, a household)
    ADJACENT_ROOM = "adjacent_room"  # within `adjacent_rooms` doors on the corridor, or the room above or below
    SAME_FLOOR = "same_floor"  # anyone else on the case's floor
