"""Results of site tests (隔离点检测结果): a tube's result comes back to its site test and the person's stay.

The lab's result reaches the tube through screening (``test_resulted``, after its commit); here each
tube taken for a site test takes its result, and a test with all its results is settled:

- any positive tube: the test is positive at once (the other tube cannot undo it; screening has
  already opened the confirmation of the case workflow);
- as many negative tubes as the test takes: negative;
- an invalid tube: the test is due again, and the sampler takes only the tubes it lacks (the invalid
  tube's row is kept, with its result).

A later result never weakens an earlier one (positive over negative over invalid), so the same results
sent again, or a re-run, change nothing they should not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from bihuan.core.choices import EventKind
from bihuan.core.context import Ctx
from bihuan.core.db import id_chunks
from bihuan.core.events import EventRecord, make_event, record_many
from bihuan.isolation.choices import SiteTestStatus
from bihuan.isolation.models import IsolationStay, SiteTest, SiteTestSample
from bihuan.screening.choices import TestResult

_STRENGTH = {TestResult.INVALID.value: 0, TestResult.NEGATIVE.value: 1, TestResult.POSITIVE.value: 2}


def results_came_back(ctx: Ctx, events: Sequence[EventRecord]) -> None:
    """Each ``test_resulted`` of a tube taken at a site settles that tube and, with all its tubes, the test."""
    results = _strongest(events)
    if not results:
        return
    touched: set[int] = set()
    for chunk in id_chunks(results):
        for tube in ctx.session.scalars(select(SiteTestSample).where(SiteTestSample.tube_id.in_(chunk))):
            result, at = results[tube.tube_id]
            if tube.result is None or _STRENGTH[result] > _STRENGTH.get(tube.result, -1):
                tube.result, tube.resulted_at = result, at
                touched.add(tube.test_id)
    if not touched:
        return
    ctx.session.flush()
    settled = [event for test in _tests(ctx, touched) if (event := _settle(ctx, *test)) is not None]
    ctx.session.flush()
    record_many(ctx, settled)


def _strongest(events: Sequence[EventRecord]) -> dict[int, tuple[str, datetime]]:
    """Each tube's strongest result among the events, with when it came."""
    found: dict[int, tuple[str, datetime]] = {}
    for event in events:
        result = str(event.payload.get("result", ""))
        if event.subject_type != "tube" or event.subject_id is None or result not in _STRENGTH:
            continue
        earlier = found.get(event.subject_id)
        if earlier is None or _STRENGTH[result] > _STRENGTH[earlier[0]]:
            found[event.subject_id] = (result, event.occurred_at)
    return found


def _tests(ctx: Ctx, test_ids: set[int]) -> list[tuple[SiteTest, list[SiteTestSample], bool]]:
    """The tests with their tubes, and whether each one's person is still at the site."""
    tubes: dict[int, list[SiteTestSample]] = {}
    tests: list[SiteTest] = []
    for chunk in id_chunks(test_ids):
        tests.extend(ctx.session.scalars(select(SiteTest).where(SiteTest.id.in_(chunk)).with_for_update()))
        for tube in ctx.session.scalars(select(SiteTestSample).where(SiteTestSample.test_id.in_(chunk))):
            tubes.setdefault(tube.test_id, []).append(tube)
    open_stays: set[int] = set()
    for chunk in id_chunks(t.stay_id for t in tests):
        stmt = select(IsolationStay.id).where(IsolationStay.id.in_(chunk), IsolationStay.open_person_id.is_not(None))
        open_stays.update(ctx.session.scalars(stmt))
    return [(test, tubes.get(test.id, []), test.stay_id in open_stays) for test in tests]


def _outcome(test: SiteTest, tubes: Sequence[SiteTestSample]) -> tuple[SiteTestStatus, str | None]:
    kept = [t for t in tubes if t.result != TestResult.INVALID]
    if any(t.result == TestResult.POSITIVE for t in kept):
        return SiteTestStatus.RESULTED, TestResult.POSITIVE.value
    if len(kept) < test.samples:
        return SiteTestStatus.DUE, None  # an invalid tube: taken again
    if all(t.result == TestResult.NEGATIVE for t in kept):
        return SiteTestStatus.RESULTED, TestResult.NEGATIVE.value
    return SiteTestStatus.SAMPLED, None


def _settle(ctx: Ctx, test: SiteTest, tubes: Sequence[SiteTestSample], stay_open: bool) -> EventRecord | None:
    """The test's new state from its tubes, with its event; None when nothing changes.

    A positive always counts, even on a test cancelled meanwhile (a plan that changed) or of a person who
    left; a test that would be taken again is cancelled instead when its person is no longer at the site.
    """
    status, result = _outcome(test, tubes)
    if test.status == SiteTestStatus.CANCELLED and result != TestResult.POSITIVE:
        return None
    if status is SiteTestStatus.DUE and not stay_open:
        status = SiteTestStatus.CANCELLED
    if (status.value, result) == (test.status, test.result):
        return None
    test.status, test.result = status.value, result
    test.resulted_at = ctx.clock.now() if status is SiteTestStatus.RESULTED else None
    return make_event(
        ctx,
        EventKind.SITE_TEST_RESULTED,
        person_id=test.person_id,
        jurisdiction_id=test.jurisdiction_id,
        subject_type="site_test",
        subject_id=test.id,
        refs={"stay": test.stay_id, "site": test.site_id, "tubes": sorted(t.tube_id for t in tubes)},
        payload={"result": result or TestResult.INVALID.value, "status": status.value, "release": test.release},
    )
