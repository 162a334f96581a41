"""HTTP API of fast testing: results."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
