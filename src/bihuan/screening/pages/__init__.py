"""Pages of fast testing (快检测): campaigns and sampling, lab upload and follow-up, metrics."""

from __future__ import annotations

from fastapi import APIRouter

from bihuan.screening.pages import campaigns, metrics, results

router = APIRouter(include_in_schema=False)
for _part in (campaigns, results, metrics):
    router.include_router(_part.router)
