"""HTTP API of fast testing (快检测), mounted under /api/screening: one router per concept."""

from __future__ import annotations

from fastapi import APIRouter

from bihuan.screening.api import campaigns, metrics, results

router = APIRouter(prefix="/api/screening", tags=["screening"])
for _part in (campaigns, results, metrics):
    router.include_router(_part.router)
