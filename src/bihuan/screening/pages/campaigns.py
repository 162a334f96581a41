"""Pages of fast testing: campaigns."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
