"""Distances on the ground, for geofences and walking speed."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def outside_fence(lat: float, lon: float, accuracy_m: float | None, centre: tuple[float, float],
                  radius_m: float) -> float | None:
    """How far beyond the fence the fix certainly is (metres), or None when it may be inside.
    The reported accuracy is given to the guard: only a fix whose whole error circle lies outside counts."""
    distance = haversine_m(lat, lon, centre[0], centre[1])
    beyond = distance - radius_m - (accuracy_m or 0.0)
    return beyond if beyond > 0 else None
