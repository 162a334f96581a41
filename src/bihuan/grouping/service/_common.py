"""Small pieces the queue's modules share."""

from __future__ import annotations

from bihuan.core.db import id_chunks as chunks
from bihuan.grouping.choices import OPEN_STATUSES

OPEN = [s.value for s in OPEN_STATUSES]
__all__ = ["OPEN", "chunks"]
