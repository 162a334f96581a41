"""Small pieces the queue's modules share."""

from __future__ import annotations

from collections.abc import Iterable

from bihuan.grouping.choices import OPEN_STATUSES

CHUNK = 1000
OPEN = [s.value for s in OPEN_STATUSES]


def chunks(ids: Iterable[int]) -> list[list[int]]:
    """Sorted, distinct ids in slices small enough for one ``IN (...)`` on any database."""
    keys = sorted(set(ids))
    return [keys[i : i + CHUNK] for i in range(0, len(keys), CHUNK)]
