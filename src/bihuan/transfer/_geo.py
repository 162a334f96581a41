"""Road distances and driving times of the transfer planner: haversine km times the profile's road factor."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from bihuan.grouping.engine import EARTH_RADIUS_KM, straight_km, straight_km_from

FloatArray = npt.NDArray[np.float64]
Point = tuple[float, float]


def road_km(a: Point, b: Point, road_factor: float) -> float:
    """Road km between two (lat, lon) points."""
    return straight_km(a[0], a[1], b[0], b[1]) * road_factor


def road_km_from(a: Point, lats: FloatArray, lons: FloatArray, road_factor: float) -> FloatArray:
    """Road km from one point to many."""
    return straight_km_from(a[0], a[1], lats, lons) * road_factor


def road_km_matrix(
    a_lats: FloatArray, a_lons: FloatArray, b_lats: FloatArray, b_lons: FloatArray, road_factor: float
) -> FloatArray:
    """Road km from every point of A (rows) to every point of B (columns)."""
    p1, p2 = np.radians(a_lats)[:, None], np.radians(b_lats)[None, :]
    dl = np.radians(b_lons)[None, :] - np.radians(a_lons)[:, None]
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))) * road_factor
    return np.asarray(km, dtype=np.float64)


def drive_minutes(km: float, speed_kmh: float) -> float:
    """Minutes to drive ``km`` at ``speed_kmh``."""
    return km / speed_kmh * 60.0
