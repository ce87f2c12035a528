"""Map coordinates: lon/lat to a flat plane and to image pixels (pure functions).

Ukraine spans 44°–52.5° N, so a plate carrée with its x scaled by cos(48.5°) keeps shapes
within a few per cent of true over the whole country, like the official alert maps; no
projection library is needed for one country at phone size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Point = tuple[float, float]
COS_LAT0 = math.cos(math.radians(48.5))


def project(lon: float, lat: float) -> Point:
    """A lon/lat point on the plane (units: degrees of latitude; y grows southwards)."""
    return lon * COS_LAT0, -lat


@dataclass(frozen=True, slots=True)
class Frame:
    """The affine map from the plane to an image's pixels: x' = (x - x0) * scale + left."""

    x0: float
    y0: float
    scale: float
    left: float
    top: float

    @classmethod
    def fit(cls, points: Iterable[Point], width: int, height: int, margin: int) -> Frame:
        """The frame that fits the projected points into width x height inside a margin,
        centred, aspect kept."""
        xs, ys = zip(*points, strict=True)
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        scale = min((width - 2 * margin) / (x1 - x0), (height - 2 * margin) / (y1 - y0))
        left = (width - (x1 - x0) * scale) / 2
        top = (height - (y1 - y0) * scale) / 2
        return cls(x0, y0, scale, left, top)

    def pixel(self, lon: float, lat: float) -> Point:
        """Where a lon/lat point lands in the image."""
        x, y = project(lon, lat)
        return (x - self.x0) * self.scale + self.left, (y - self.y0) * self.scale + self.top

    def ring(self, ring: Sequence[Sequence[float]]) -> list[Point]:
        """A lon/lat ring in pixels."""
        return [self.pixel(p[0], p[1]) for p in ring]


def point_in_ring(x: float, y: float, ring: Sequence[Point]) -> bool:
    """Even-odd rule: whether (x, y) is inside the closed ring."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def point_in_polygon(x: float, y: float, rings: Sequence[Sequence[Point]]) -> bool:
    """Inside the exterior ring (rings[0]) and outside every hole."""
    return point_in_ring(x, y, rings[0]) and not any(point_in_ring(x, y, h) for h in rings[1:])


def segment_distance(px: float, py: float, a: Point, b: Point) -> float:
    """Distance from (px, py) to the segment a-b."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)
