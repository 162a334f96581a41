"""Enumerations of the closed loop (量化闭环), defined once for the engine, API and filters."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """A point a person's loop reaches, at the time of the event that reaches it (环节节点).

    Not to be confused with the profile's ``LoopStage``: a timed interval between two of these.
    """

    SAMPLED = "sampled"  # the sample that came back positive was taken
    POOL_POSITIVE = "pool_positive"  # the person's pool tube was positive
    CONTROLLED = "controlled"  # controlled in place (就地管控) after a positive pool
    DIAGNOSED = "diagnosed"  # a single-tube (individual) positive result
    CONFIRMED = "confirmed"  # case_confirmed: a confirmed case or asymptomatic infection
    CLEARED = "cleared"  # the pool's re-test negative, or the confirmation decided "not a case"
    INVESTIGATED = "investigated"  # the case's investigation opened
    FIRST_FINDINGS = "first_findings"  # the first contact the case's investigation found
    INVESTIGATION_CLOSED = "investigation_closed"
    IDENTIFIED = "identified"  # traced as a contact of a category the profile moves
    QUEUED = "queued"  # in the transfer queue (again, after a return)
    LEFT_QUEUE = "left_queue"  # taken off the queue by hand (e.g. home isolation): no recorded end
    PLANNED = "planned"
    DISPATCHED = "dispatched"
    PICKED_UP = "picked_up"
    ARRIVED = "arrived"
    ISOLATED = "isolated"  # a stay opened at a site (central quarantine or hospital)
    HOSPITAL = "hospital"  # at a designated hospital: admitted as a case, or hospitalised
    SITE_TESTED = "site_tested"  # a plan's test sampled at the site
    SITE_TEST_RESULTED = "site_test_resulted"
    RELEASED = "released"
    HOME_ENDED = "home_ended"  # the home phase after release ended
    DIED = "died"
    MOVED_OUT = "moved_out"  # moved out of the jurisdiction


class Link(StrEnum):
    """The link (and its task force, 专班) that answers for a stage."""

    TESTING = "testing"  # 检测专班
    TRACING = "tracing"  # 流调专班
    TRANSFER = "transfer"  # 转运专班 (grouping and transfer)
    ISOLATION = "isolation"  # 隔离专班 (sites and the home phase)


class FoundWhere(StrEnum):
    """Where a new case was when found: already under control (在管控中发现), or in the community (社会面)."""

    CENTRAL_SITE = "central_site"  # in an open stay at a central quarantine site
    CONTROLLED_IN_PLACE = "controlled_in_place"  # under in-place control (就地管控) from an earlier positive
    COMMUNITY = "community"
