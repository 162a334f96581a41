"""Results of site tests (隔离点检测结果): a tube's result comes back to its site test and the person's stay."""

from __future__ import annotations

from collections.abc import Sequence

from bihuan.core.context import Ctx
from bihuan.core.events import EventRecord


def results_came_back(ctx: Ctx, events: Sequence[EventRecord]) -> None:
    """Each ``test_resulted`` of a tube taken at a site settles that tube and, with all its tubes, the test."""
    # Written in the next step; sites' tubes have no results to take yet.
