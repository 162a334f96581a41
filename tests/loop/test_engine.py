"""The loop engine on hand-built event lists: each test one person's story through the five links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bihuan.core.choices import EventKind as K
from bihuan.core.events import EventRecord
from bihuan.loop.choices import Link, Stage
from bihuan.loop.engine import BOUNDS, LoopRules, Timeline, timeline
from bihuan.protocol import LoopStage, load_profile

EIGHTH = LoopRules.of(load_profile("cn-8th-2021"))
NINTH = LoopRules.of(load_profile("cn-9th-2022"))
T0 = datetime(2021, 12, 10, 0, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ev(kind: K, hours: float, subject: tuple[str, int] | None = None, **facts: Any) -> EventRecord:
    subject_type, subject_id = subject or (None, None)
    return EventRecord(kind, at(hours), person_id=1, subject_type=subject_type, subject_id=subject_id, **facts)


def delays(t: Timeline) -> dict[LoopStage, tuple[float | None, bool | None]]:
    return {d.stage: (d.hours, d.met) for d in t.delays}


def contact(hours: float, category: str = "close_contact") -> EventRecord:
    return ev(K.CONTACT_IDENTIFIED, hours, ("contact", 5), refs={"case": 1}, payload={"category": category})


def transferred(start: float) -> list[EventRecord]:
    """Queued at `start`, then planned, dispatched, picked up, arrived and in a room, half an hour apart."""
    batch = {"refs": {"batch": 3, "site": 2}}
    return [
        ev(K.TRANSFER_QUEUED, start, ("transfer_request", 4), payload={"category": "close_contact"}),
        ev(K.BATCH_PLANNED, start + 0.5, ("batch", 3), **batch),
        ev(K.DISPATCHED, start + 1, ("batch", 3), **batch),
        ev(K.PICKED_UP, start + 1.5, ("batch", 3), **batch),
        ev(K.ARRIVED, start + 2, ("batch", 3), **batch),
        ev(K.ISOLATION_STARTED, start + 2.5, ("stay", 9), payload={"category": "close_contact"}),
    ]


def test_every_timed_stage_of_the_profile_is_bounded_by_two_stages() -> None:
    assert set(BOUNDS) == set(LoopStage)


def test_a_case_from_its_positive_pool_to_the_hospital_with_each_stage_against_its_target() -> None:
    events = [
        ev(K.SAMPLED, 0, ("tube", 7)),
        ev(K.POOL_POSITIVE, 10, ("tube", 7), refs={"retest": 1}),
        ev(K.CONTROLLED_IN_PLACE, 10, ("tube", 7), refs={"retest": 1}),
        ev(K.RETEST_SAMPLED, 11, ("retest", 1), refs={"tube": 8}),
        ev(K.TEST_RESULTED, 14, ("tube", 8), refs={"retest": 1}, payload={"result": "positive"}),
        ev(K.CASE_CONFIRMED, 15, ("case", 1)),
        ev(K.INVESTIGATION_OPENED, 15, ("investigation", 1)),
        ev(K.TRANSFER_QUEUED, 15, ("transfer_request", 2), payload={"category": "confirmed"}),
        ev(K.BATCH_PLANNED, 15.5, ("batch", 3)),
        ev(K.DISPATCHED, 16, ("batch", 3)),
        ev(K.PICKED_UP, 16.5, ("batch", 3)),
        ev(K.ARRIVED, 17.5, ("batch", 3)),
        ev(K.ISOLATION_STARTED, 17.75, ("stay", 4), payload={"category": "confirmed"}),
        ev(K.INVESTIGATION_CLOSED, 41, ("investigation", 1)),
    ]

    t = timeline(events, EIGHTH, at(48), first_findings=at(17))

    assert t.in_loop and t.is_case and t.closed
    assert (t.end, t.ended_at) == (Stage.HOSPITAL, at(17.75))
    assert delays(t) == {
        LoopStage.SAMPLE_TO_RESULT: (10.0, True),
        LoopStage.POOL_POSITIVE_TO_CONTROLLED: (0.0, True),
        LoopStage.RESULT_TO_CONFIRMED: (5.0, True),
        LoopStage.REPORT_AFTER_DIAGNOSIS: (1.0, True),
        LoopStage.FIRST_TRACING_FINDINGS: (2.0, True),
        LoopStage.COUNTY_CASE_INVESTIGATION: (26.0, False),
        LoopStage.CONFIRMED_TO_TRANSFERRED: (2.75, False),
        LoopStage.QUEUED_TO_ARRIVED: (2.5, True),
        LoopStage.ARRIVED_TO_ISOLATED: (0.25, True),
    }
    assert [r.stage for r in t.reached][:4] == [Stage.SAMPLED, Stage.POOL_POSITIVE, Stage.CONTROLLED, Stage.DIAGNOSED]


def test_a_close_contact_traced_moved_isolated_released_and_past_the_home_phase_is_closed() -> None:
    released = [
        *[contact(0)],
        *transferred(3),
        ev(K.SITE_TEST_SAMPLED, 30, ("site_test", 1), refs={"tubes": [11]}),
        ev(K.SITE_TEST_RESULTED, 40, ("site_test", 1), payload={"result": "negative"}),
        ev(K.RELEASED, 24 * 14, ("stay", 9), payload={"home_phase": {"id": 1, "ends_on": "2021-12-31"}}),
    ]
    in_home_phase = timeline(released, EIGHTH, at(24 * 15))
    ended = timeline([*released, ev(K.HOME_MONITORING_ENDED, 24 * 21, ("home_monitoring", 1))], EIGHTH, at(24 * 22))

    assert not in_home_phase.closed
    assert (in_home_phase.stuck_at, in_home_phase.link, in_home_phase.waiting_on) == (
        Stage.RELEASED,
        Link.ISOLATION,
        None,
    )
    assert not in_home_phase.overdue
    assert ended.closed and (ended.end, ended.ended_at) == (Stage.HOME_ENDED, at(24 * 21))
    assert delays(ended) == {
        LoopStage.CONTACTS_UNDER_CONTROL: (5.5, True),
        LoopStage.IDENTIFIED_TO_QUEUED: (3.0, True),
        LoopStage.QUEUED_TO_ARRIVED: (2.0, True),
        LoopStage.ARRIVED_TO_ISOLATED: (0.5, True),
    }


def test_a_release_without_home_phase_closes_the_loop() -> None:
    events = [contact(0), *transferred(1), ev(K.RELEASED, 24 * 7, ("stay", 9), payload={"home_phase": None})]

    t = timeline(events, EIGHTH, at(24 * 8))

    assert t.closed and t.end is Stage.RELEASED


def test_a_contact_queued_but_never_planned_is_open_at_the_queue_and_overdue_after_the_target() -> None:
    events = [contact(0), ev(K.TRANSFER_QUEUED, 1, ("transfer_request", 4), payload={"category": "close_contact"})]

    before = timeline(events, EIGHTH, at(12.5))
    after = timeline(events, EIGHTH, at(13.5))

    for t in (before, after):
        assert not t.closed
        assert (t.stuck_at, t.since, t.waiting_on, t.link) == (
            Stage.QUEUED,
            at(1),
            LoopStage.QUEUED_TO_ARRIVED,
            Link.TRANSFER,
        )
        assert t.due_at == at(13)  # queued_to_arrived = 12 h in cn-8th
    assert not before.overdue and after.overdue
    running = {d.stage: d.overdue for d in after.delays if d.pending}
    assert running == {LoopStage.QUEUED_TO_ARRIVED: True, LoopStage.CONTACTS_UNDER_CONTROL: False}  # 24 h


def test_a_contact_returned_to_the_queue_waits_there_on_the_clock_of_their_first_queueing() -> None:
    events = [
        contact(0),
        *transferred(1)[:3],  # queued, planned, dispatched
        ev(K.RETURNED_TO_QUEUE, 3, ("transfer_request", 4), payload={"reason": "not at home"}),
    ]

    t = timeline(events, EIGHTH, at(13.5))

    assert (t.stuck_at, t.since) == (Stage.QUEUED, at(3))
    assert t.overdue  # 12.5 h since first queued, though only 10.5 h since the return


def test_a_contact_who_moved_out_has_a_recorded_end_and_nothing_left_running() -> None:
    events = [
        contact(0),
        ev(K.TRANSFER_QUEUED, 1, ("transfer_request", 4)),
        ev(K.MOVED_OUT, 2, ("person", 1)),
    ]

    t = timeline(events, EIGHTH, at(48))

    assert t.closed and (t.end, t.ended_at) == (Stage.MOVED_OUT, at(2))
    assert not any(d.pending for d in t.delays)


def test_a_contact_the_profile_does_not_move_is_not_in_the_loop() -> None:
    assert not timeline([contact(0, "general_contact")], EIGHTH, at(1)).in_loop
    assert not timeline([contact(0, "secondary_contact")], NINTH, at(1)).in_loop  # cn-9th: home isolation
    assert timeline([contact(0, "secondary_contact")], EIGHTH, at(1)).in_loop


def test_a_pool_member_cleared_by_a_negative_re_test_is_closed() -> None:
    events = [
        ev(K.SAMPLED, 0, ("tube", 7)),
        ev(K.POOL_POSITIVE, 6, ("tube", 7), refs={"retest": 1}),
        ev(K.CONTROLLED_IN_PLACE, 6, ("tube", 7), refs={"retest": 1}),
    ]
    waiting = timeline(events, EIGHTH, at(13))
    cleared = timeline(
        [*events, ev(K.TEST_RESULTED, 10, ("tube", 8), refs={"retest": 1}, payload={"result": "negative"})],
        EIGHTH,
        at(13),
    )

    assert (waiting.stuck_at, waiting.waiting_on, waiting.link) == (
        Stage.CONTROLLED,
        LoopStage.RESULT_TO_CONFIRMED,
        Link.TESTING,
    )
    assert waiting.overdue  # 7 h since the pool's result, target 6 h
    assert cleared.closed and cleared.end is Stage.CLEARED
    assert delays(cleared) == {
        LoopStage.SAMPLE_TO_RESULT: (6.0, True),
        LoopStage.POOL_POSITIVE_TO_CONTROLLED: (0.0, True),
    }


def test_a_contact_found_positive_in_quarantine_waits_on_confirmation_then_on_the_hospital() -> None:
    in_quarantine = [
        contact(0),
        *transferred(1),
        ev(K.SITE_TEST_SAMPLED, 24, ("site_test", 1), refs={"tubes": [20]}),
        ev(K.TEST_RESULTED, 30, ("tube", 20), payload={"result": "positive"}),
    ]
    positive = timeline(in_quarantine, EIGHTH, at(31))
    confirmed = timeline([*in_quarantine, ev(K.CASE_CONFIRMED, 31, ("case", 2))], EIGHTH, at(34))

    assert (positive.stuck_at, positive.waiting_on, positive.link) == (
        Stage.DIAGNOSED,
        LoopStage.REPORT_AFTER_DIAGNOSIS,
        Link.TESTING,
    )
    assert delays(positive)[LoopStage.SAMPLE_TO_RESULT] == (6.0, True)
    assert confirmed.is_case and not confirmed.closed
    assert (confirmed.stuck_at, confirmed.waiting_on, confirmed.link) == (
        Stage.CONFIRMED,
        LoopStage.CONFIRMED_TO_TRANSFERRED,
        Link.TRANSFER,
    )
    assert confirmed.overdue  # 3 h since confirmed, target 2 h
    late = {d.stage for d in confirmed.delays if d.overdue}
    assert late == {LoopStage.CONFIRMED_TO_TRANSFERRED}  # the investigation has 4 h and 24 h


def test_a_hospitalised_case_whose_investigation_found_nobody_is_closed_with_its_tracing_still_overdue() -> None:
    events = [
        ev(K.CASE_CONFIRMED, 0, ("case", 1)),
        ev(K.INVESTIGATION_OPENED, 0, ("investigation", 1)),
        ev(K.HOSPITALISED, 3, ("case", 1)),
    ]

    t = timeline(events, EIGHTH, at(30))

    assert t.closed and (t.end, t.ended_at) == (Stage.HOSPITAL, at(3))
    running = {d.stage: (d.started_at, d.overdue) for d in t.delays if d.pending}
    assert running == {
        LoopStage.FIRST_TRACING_FINDINGS: (at(0), True),  # 4 h
        LoopStage.COUNTY_CASE_INVESTIGATION: (at(0), True),  # 24 h
    }
    assert delays(t)[LoopStage.CONFIRMED_TO_TRANSFERRED] == (3.0, False)


def test_a_pool_cleared_by_its_re_test_and_found_positive_later_is_timed_from_the_later_positive() -> None:
    events = [
        ev(K.SAMPLED, 0, ("tube", 7)),
        ev(K.POOL_POSITIVE, 10, ("tube", 7), refs={"retest": 1}),
        ev(K.TEST_RESULTED, 14, ("tube", 8), refs={"retest": 1}, payload={"result": "negative"}),
        ev(K.SAMPLED, 100, ("tube", 20)),
        ev(K.TEST_RESULTED, 110, ("tube", 20), payload={"result": "positive"}),
        ev(K.CASE_CONFIRMED, 111, ("case", 1)),
    ]

    t = timeline(events, EIGHTH, at(112))

    measured = delays(t)
    assert measured[LoopStage.RESULT_TO_CONFIRMED] == (1.0, True)
    assert measured[LoopStage.REPORT_AFTER_DIAGNOSIS] == (1.0, True)
    assert LoopStage.POOL_POSITIVE_TO_CONTROLLED not in measured  # cleared before anyone controlled it


def test_a_person_whose_only_event_is_hospitalised_is_in_the_loop_and_closed_at_the_hospital() -> None:
    t = timeline([ev(K.HOSPITALISED, 5, ("case", 1))], EIGHTH, at(6))

    assert t.in_loop and t.closed
    assert (t.end, t.ended_at) == (Stage.HOSPITAL, at(5))
