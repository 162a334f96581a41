"""Synthetic district and outbreak (模拟): residents, venues, scan logs and ground-truth infections."""

from __future__ import annotations

from bihuan.sim._outbreak import OutbreakParams
from bihuan.sim._progress import ProgressCallback
from bihuan.sim.district import GENERATOR_VERSION, DistrictManifest, generate_district

__all__ = ["GENERATOR_VERSION", "DistrictManifest", "OutbreakParams", "ProgressCallback", "generate_district"]
