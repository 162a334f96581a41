"""HTTP API of fast testing: metrics."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
