"""Points at known distances from a place, for search tests (rows come from factories)."""

from __future__ import annotations

from geopy.distance import geodesic


def point_at(
    origin: tuple[float, float], miles: float, bearing: float = 0.0
) -> tuple[float, float]:
    """The point ``miles`` (geodesic) from ``origin`` along ``bearing`` degrees."""
    p = geodesic(miles=miles).destination(origin, bearing)
    return (p.latitude, p.longitude)
