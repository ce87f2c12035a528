"""Generate bot/maps/data/oblasts.json: Ukraine's 27 first-level units for the map pictures.

Run:  .venv/bin/python scripts/build_map.py [--geo ../shared/geo] [--tolerance 0.01]
      .venv/bin/python scripts/build_map.py --check    (exit 1 if the committed file differs)

Input: ukraine-oblasts.geojson (OpenStreetMap boundaries, ODbL; see ../shared/geo/SOURCES.md):
the 24 oblasts, Crimea, Kyiv and Sevastopol with their KATOTTG code (`katotth`), the
alerts.in.ua id (`@location_uid`) and names.

What is written per unit: the KATOTTG code (the key Herald's admin units use), the
alerts.in.ua id, the ISO 3166-2 code, the Ukrainian and English name, a short label
("Харківська" / "Kharkiv"), the simplified polygons in lon/lat (4 decimals, ~10 m), and
label points: the first is the point inside the unit farthest from its border (the pole
of inaccessibility, found on a fine grid), then up to 11 more interior points, each the
farthest from the border among points at least LABEL_SPREAD from those chosen before,
for the renderer to try when a label does not fit at the first.

Simplification is Douglas–Peucker on the plane of bot/maps/projection.py, done per shared
arc so that neighbouring oblasts keep one common border (no slivers or gaps): each ring
is cut at the vertices where the set of rings sharing it changes (the junctions), each
arc is simplified once, in a canonical direction, and both neighbours reuse it. The
source is already coarse (828 distinct vertices), so the default tolerance, 0.01 plane
units (about 1 px at 1280 px), keeps the outline exact at phone size; the figures are
printed. The output is deterministic (same input -> same bytes).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.maps.projection import (  # noqa: E402 - after the path set-up above
    COS_LAT0,
    Point,
    point_in_polygon,
    project,
    segment_distance,
)

OUT = ROOT / "bot" / "maps" / "data" / "oblasts.json"
DEFAULT_GEO = ROOT.parent / "shared" / "geo"
DEFAULT_TOLERANCE = 0.01  # plane units (degrees of latitude): ~1 px at 1280 px wide
GRID_STEP = 0.04  # plane units between candidate label points (~4 px)
LABEL_SPREAD = 0.35  # plane units between label candidates
MAX_CANDIDATES = 12
DIGITS = 4
SHORT_UK = {"Автономна Республіка Крим": "Крим"}
SHORT_EN = {"Autonomous Republic of Crimea": "Crimea", "Kyiv Oblast": "Kyiv Oblast"}

Ring = list[tuple[float, float]]  # lon/lat, closed (first == last)


def short_name(name: str, lang: str) -> str:
    """The label on the map: "Харківська область" -> "Харківська", "Kharkiv Oblast" ->
    "Kharkiv"; cities stay as they are."""
    table = SHORT_UK if lang == "uk" else SHORT_EN
    if name in table:
        return table[name]
    suffix = " область" if lang == "uk" else " Oblast"
    return name.removesuffix(suffix)


# --- Douglas–Peucker over shared arcs ------------------------------------------------------

def douglas_peucker(points: Sequence[Point], tolerance: float) -> list[int]:
    """Indices of the points Douglas–Peucker keeps of an open polyline (both ends kept)."""
    keep = {0, len(points) - 1}
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        best, far = -1.0, -1
        for i in range(a + 1, b):
            d = segment_distance(points[i][0], points[i][1], points[a], points[b])
            if d > best:
                best, far = d, i
        if far >= 0 and best > tolerance:
            keep.add(far)
            stack += [(a, far), (far, b)]
    return sorted(keep)


def _canonical(arc: tuple[tuple[float, float], ...]) -> tuple[tuple[tuple[float, float], ...],
                                                              bool]:
    rev = arc[::-1]
    return (arc, False) if arc <= rev else (rev, True)


class ArcSimplifier:
    """Simplifies rings so that an arc two rings share is simplified the same for both."""

    def __init__(self, rings: Sequence[Ring], tolerance: float) -> None:
        self.tolerance = tolerance
        self.owners: dict[tuple[float, float], set[int]] = defaultdict(set)
        for r, ring in enumerate(rings):
            for p in ring[:-1]:
                self.owners[p].add(r)
        self.done: dict[tuple[tuple[float, float], ...], list[tuple[float, float]]] = {}

    def _simplify_arc(self, arc: list[tuple[float, float]]) -> list[tuple[float, float]]:
        key, reversed_ = _canonical(tuple(arc))
        if key not in self.done:
            pts = [project(*p) for p in key]
            self.done[key] = [key[i] for i in douglas_peucker(pts, self.tolerance)]
        out = self.done[key]
        return out[::-1] if reversed_ else list(out)

    def ring(self, ring: Ring) -> Ring:
        """The simplified ring (closed; at least a triangle)."""
        pts = ring[:-1]
        n = len(pts)
        owners = [frozenset(self.owners[p]) for p in pts]
        fixed = [i for i in range(n)
                 if owners[i] != owners[i - 1] or owners[i] != owners[(i + 1) % n]]
        if not fixed:  # a ring no other ring touches, or one shared whole (Kyiv and its hole)
            start = min(range(n), key=lambda i: pts[i])
            p0 = project(*pts[start])
            far = max(range(n), key=lambda i: math.dist(p0, project(*pts[i])))
            fixed = sorted({start, far})
        out: Ring = []
        for k, a in enumerate(fixed):
            b = fixed[(k + 1) % len(fixed)]
            arc = pts[a:b + 1] if b > a else pts[a:] + pts[:b + 1]
            out.extend(self._simplify_arc(arc)[:-1])
        if len(out) < 3:
            out = [pts[i] for i in sorted(set(fixed) | {0, n // 3, 2 * n // 3})]
        return [*out, out[0]]


# --- label points --------------------------------------------------------------------------

def label_points(polygons: Sequence[Sequence[Ring]]) -> list[Point]:
    """Interior points, the farthest from the border first, at least LABEL_SPREAD apart."""
    scored: list[tuple[float, Point]] = []
    for rings in polygons:
        plane = [[project(*p) for p in ring] for ring in rings]
        edges = [(r[i], r[i + 1]) for r in plane for i in range(len(r) - 1)]
        xs = [p[0] for p in plane[0]]
        ys = [p[1] for p in plane[0]]
        nx = int((max(xs) - min(xs)) / GRID_STEP) + 1
        ny = int((max(ys) - min(ys)) / GRID_STEP) + 1
        for i in range(nx + 1):
            x = min(xs) + i * GRID_STEP
            for j in range(ny + 1):
                y = min(ys) + j * GRID_STEP
                if point_in_polygon(x, y, plane):
                    d = min(segment_distance(x, y, a, b) for a, b in edges)
                    scored.append((d, (x, y)))
        if not scored:  # a sliver smaller than the grid: its first vertex's neighbourhood
            scored.append((0.0, plane[0][0]))
    scored.sort(key=lambda t: (-t[0], t[1]))
    chosen: list[Point] = []
    for _d, p in scored:
        if all(math.dist(p, q) >= LABEL_SPREAD for q in chosen):
            chosen.append(p)
            if len(chosen) == MAX_CANDIDATES:
                break
    return chosen


def _lonlat(p: Point) -> list[float]:
    return [round(p[0] / COS_LAT0, DIGITS), round(-p[1], DIGITS)]


def _round_ring(ring: Ring) -> list[list[float]]:
    out: list[list[float]] = []
    for lon, lat in ring:
        q = [round(lon, DIGITS), round(lat, DIGITS)]
        if not out or out[-1] != q:
            out.append(q)
    return out


def build(geo: Path, tolerance: float) -> tuple[dict, dict[str, int]]:
    """The data file's content and figures (vertices before and after)."""
    src = json.loads((geo / "ukraine-oblasts.geojson").read_text(encoding="utf-8"))
    features = sorted(src["features"], key=lambda f: f["properties"]["katotth"])
    shapes: list[list[list[Ring]]] = []
    for f in features:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        shapes.append([[[(float(p[0]), float(p[1])) for p in ring] for ring in poly]
                       for poly in polys])
    all_rings = [ring for polys in shapes for poly in polys for ring in poly]
    simplifier = ArcSimplifier(all_rings, tolerance)
    before = sum(len(r) - 1 for r in all_rings)
    after = 0
    units = []
    for f, polys in zip(features, shapes, strict=True):
        p = f["properties"]
        simple = [[simplifier.ring(ring) for ring in poly] for poly in polys]
        after += sum(len(r) - 1 for poly in simple for r in poly)
        points = label_points(simple)
        units.append({
            "katotth": p["katotth"],
            "location_uid": int(p["@location_uid"]),
            "iso": p["ISO3166-2"],
            "name_uk": p["name:uk"],
            "name_en": p["name:en"],
            "label_uk": short_name(p["name:uk"], "uk"),
            "label_en": short_name(p["name:en"], "en"),
            "label_points": [_lonlat(q) for q in points],
            "polygons": [[_round_ring(r) for r in poly] for poly in simple],
        })
    data = {
        "source": "ukraine-oblasts.geojson (OpenStreetMap contributors, ODbL), "
                  "simplified by scripts/build_map.py",
        "tolerance": tolerance,
        "oblasts": units,
    }
    return data, {"vertices_before": before, "vertices_after": after}


def dump(data: dict) -> str:
    """The file's text: one unit per line (reviewable diffs), deterministic."""
    head = {k: v for k, v in data.items() if k != "oblasts"}
    lines = [json.dumps(u, ensure_ascii=False, separators=(",", ":")) for u in data["oblasts"]]
    body = ",\n".join(lines)
    top = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return f'{top},"oblasts":[\n{body}\n]}}\n'


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--geo", type=Path, default=DEFAULT_GEO)
    ap.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed file instead of writing it")
    args = ap.parse_args(argv)
    if not (args.geo / "ukraine-oblasts.geojson").is_file():
        print(f"build_map: {args.geo / 'ukraine-oblasts.geojson'} not found", file=sys.stderr)
        return 2
    data, figures = build(args.geo, args.tolerance)
    text = dump(data)
    figures["bytes"] = len(text.encode())
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == text
        print(json.dumps({**figures, "up_to_date": same}))
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
