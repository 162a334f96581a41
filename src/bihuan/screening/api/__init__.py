"""HTTP API of fast testing (快检测): one router per concept, mounted under /api/screening."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/screening", tags=["screening"])
# each concept's module adds its routes here: from bihuan.screening.api import campaigns  (see below)
