"""Cross-infection investigations (交叉感染调查): a case found inside a site, and its neighbours."""

from __future__ import annotations

from collections.abc import Sequence

from bihuan.core.context import Ctx
from bihuan.core.events import EventRecord
from bihuan.protocol import ProtocolProfile


def open_for_cases(ctx: Ctx, profile: ProtocolProfile, events: Sequence[EventRecord]) -> None:
    """Each case confirmed in a central quarantine stay opens an investigation of its neighbours."""
    # Written in the next step.
