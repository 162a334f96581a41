"""Pages of fast testing (快检测): campaigns, sampling, lab upload, follow-up, metrics."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
