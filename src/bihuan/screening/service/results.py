"""Lab results (检测结果): recorded idempotently, held until their tube is known, then followed up."""

from __future__ import annotations

from bihuan.core.context import Ctx
from bihuan.screening.models import Tube


def on_tubes_opened(ctx: Ctx, tubes: list[Tube]) -> None:
    """Match results that arrived before their tube (held results) to these new tubes, and follow them up."""
    raise NotImplementedError("implemented with lab results ingest")
