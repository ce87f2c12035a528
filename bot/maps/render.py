"""Drawing the maps with Pillow: Ukraine's oblasts filled, outlined and labelled.

Drawn from bot/maps/data/oblasts.json, no network. Polygons are drawn at twice the size and
reduced (anti-aliased edges at a fraction of a resampling filter's cost), labels at full
size with a white halo, placed by bot.maps.layout so that none overlap. Labels use the
bundled DejaVu Sans Condensed Bold: Pillow's own scalable font (Aileron) has no Cyrillic.
bot.maps.pictures encodes and caches the pictures.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

from bot.i18n import translator
from bot.maps.geodata import Oblast, oblast_codes, oblasts
from bot.maps.layout import Box, LabelRequest, place_labels
from bot.maps.projection import Frame, Point, project
from bot.maps.style import ALERT_COLORS, MARK, AlertLevel, Color, story_bins, story_color

__all__ = ["WIDTH", "MapPicture", "compose_alerts_map", "compose_stories_map", "frame",
           "map_height"]

WIDTH = 1280
MARGIN = 16
SUPERSAMPLE = 2
FONT_FILE = "DejaVuSansCondensed-Bold.ttf"
BACKGROUND: Color = (246, 248, 250)
BORDER: Color = (255, 255, 255)
TEXT: Color = (20, 24, 31)
HALO: Color = (255, 255, 255)
NAME_SIZE, COUNT_SIZE, LEGEND_SIZE, LEGEND_TITLE_SIZE = 19, 24, 19, 22
HALO_WIDTH = 3
LABEL_PAD = 2  # pixels around a label's ink that no other label may take


@dataclass(frozen=True)
class MapPicture:
    """A composed map before encoding: the image, where each label went, the legend box."""

    image: Image.Image
    labels: dict[str, Box]
    legend: Box

    def png(self) -> bytes:
        """The picture as PNG bytes."""
        buf = io.BytesIO()
        self.image.save(buf, "PNG", compress_level=3)
        return buf.getvalue()


# --- fixed geometry ------------------------------------------------------------------------

@cache
def _geometry() -> tuple[Frame, int]:
    pts = [project(*p) for o in oblasts() for poly in o.polygons for p in poly[0]]
    xs, ys = [x for x, _y in pts], [y for _x, y in pts]
    scale = (WIDTH - 2 * MARGIN) / (max(xs) - min(xs))
    height = round(scale * (max(ys) - min(ys))) + 2 * MARGIN
    return Frame.fit(pts, WIDTH, height, MARGIN), height


def frame() -> Frame:
    """The projection of the map onto the picture (the same for every picture)."""
    return _geometry()[0]


def map_height() -> int:
    """The picture's height in pixels (WIDTH wide, the country's aspect kept)."""
    return _geometry()[1]


@cache
def _pixel_polygons() -> dict[str, tuple[tuple[tuple[Point, ...], ...], ...]]:
    f = frame()
    return {o.code: tuple(tuple(tuple(f.ring(r)) for r in poly) for poly in o.polygons)
            for o in oblasts()}


def _area(ring: Sequence[Point]) -> float:
    return abs(sum(ring[i][0] * ring[i - 1][1] - ring[i - 1][0] * ring[i][1]
                   for i in range(len(ring)))) / 2


@cache
def _draw_order() -> tuple[Oblast, ...]:
    """Largest first, so that a unit inside another (Kyiv in Kyiv oblast) is drawn on top."""
    polys = _pixel_polygons()
    return tuple(sorted(oblasts(), key=lambda o: -max(_area(p[0]) for p in polys[o.code])))


@cache
def _font_bytes() -> bytes:
    return resources.files("bot.maps").joinpath("data", FONT_FILE).read_bytes()


@cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """The bundled label font at a pixel size."""
    return ImageFont.truetype(io.BytesIO(_font_bytes()), size)


# --- drawing -------------------------------------------------------------------------------

def _check_codes(codes: Collection[str], what: str) -> None:
    unknown = sorted(set(codes) - oblast_codes())
    if unknown:
        raise ValueError(f"{what}: not the KATOTTG code of an oblast, Crimea, Kyiv or "
                         f"Sevastopol: {', '.join(unknown[:5])}")


def _shapes(fills: Mapping[str, Color], marked: Collection[str]) -> Image.Image:
    """The oblasts filled, with borders and marks, anti-aliased, at full size."""
    s = SUPERSAMPLE
    img = Image.new("RGB", (WIDTH * s, map_height() * s), BACKGROUND)
    draw = ImageDraw.Draw(img)
    polys = _pixel_polygons()

    def scaled(ring: Sequence[Point]) -> list[Point]:
        return [(x * s, y * s) for x, y in ring]

    for o in _draw_order():
        for poly in polys[o.code]:
            draw.polygon(scaled(poly[0]), fill=fills[o.code])
            for hole in poly[1:]:
                draw.polygon(scaled(hole), fill=BACKGROUND)
    for o in _draw_order():
        for poly in polys[o.code]:
            for ring in poly:
                pts = scaled(ring)
                draw.line([*pts, pts[0]], fill=BORDER, width=2 * s, joint="curve")
    for code in sorted(marked):
        for poly in polys[code]:
            pts = scaled(poly[0])
            draw.line([*pts, pts[0]], fill=MARK, width=5 * s, joint="curve")
    return img.reduce(s)


def _text_size(text: str, size: int) -> tuple[float, float]:
    left, top, right, bottom = font(size).getbbox(text, stroke_width=HALO_WIDTH)
    return right - left, bottom - top


def _label_lines(o: Oblast, lang: str, count: int | None) -> list[tuple[str, int]]:
    lines = [(o.label(lang), NAME_SIZE)]
    if count:
        lines.append((str(count), COUNT_SIZE))
    return lines


@cache
def _label_candidates(code: str) -> tuple[Point, ...]:
    f = frame()
    o = next(x for x in oblasts() if x.code == code)
    return tuple(f.pixel(*p) for p in o.label_points)


def _bbox(rings: Sequence[Sequence[Point]]) -> Box:
    xs = [x for r in rings for x, _y in r]
    ys = [y for r in rings for _x, y in r]
    return min(xs), min(ys), max(xs), max(ys)


def _beside(unit: Box, w: float, h: float) -> tuple[Point, ...]:
    """Label centres around a unit too small to hold its label: right, left, above, below,
    then the corners, GAP pixels clear of it."""
    gap = 4
    cx, cy = (unit[0] + unit[2]) / 2, (unit[1] + unit[3]) / 2
    right, left = unit[2] + gap + w / 2, unit[0] - gap - w / 2
    above, below = unit[1] - gap - h / 2, unit[3] + gap + h / 2
    return ((right, cy), (left, cy), (cx, above), (cx, below),
            (right, above), (left, above), (right, below), (left, below))


def _layout(label_lines: Mapping[str, list[tuple[str, int]]], legend: Box) -> dict[str, Box]:
    polys = _pixel_polygons()
    requests = []
    small: list[Box] = []  # units labelled beside them: no other label may cover them
    for code, lines in label_lines.items():
        sizes = [_text_size(t, s) for t, s in lines]
        w = max(w for w, _h in sizes) + 2 * LABEL_PAD
        h = sum(h for _w, h in sizes) + 2 * LABEL_PAD
        main = max(polys[code], key=lambda p: _area(p[0]))
        unit = _bbox(main)
        candidates = _label_candidates(code)
        area = sum(_area(p[0]) for p in polys[code])
        if area < w * h:  # Kyiv, Sevastopol: a label would hide the unit
            candidates = _beside(unit, w, h)
            small.append(unit)
        requests.append(LabelRequest(code, w, h, candidates, main, area))
    return place_labels(requests, (0, 0, WIDTH, map_height()), [legend, *small])


def _draw_labels(img: Image.Image, label_lines: Mapping[str, list[tuple[str, int]]],
                 boxes: Mapping[str, Box]) -> None:
    draw = ImageDraw.Draw(img)
    for code, lines in label_lines.items():
        x0, y0, x1, _y1 = boxes[code]
        y = y0 + LABEL_PAD
        for text, size in lines:
            left, top, right, bottom = font(size).getbbox(text, stroke_width=HALO_WIDTH)
            x = (x0 + x1) / 2 - (right - left) / 2 - left
            draw.text((x, y - top), text, font=font(size), fill=TEXT,
                      stroke_width=HALO_WIDTH, stroke_fill=HALO)
            y += bottom - top


@dataclass(frozen=True)
class _Row:
    text: str
    fill: Color | None  # a swatch filled with this colour
    outline: Color | None = None


def _legend_box(title: str, rows: Sequence[_Row]) -> Box:
    """Bottom-left, over Moldova and Romania, which the map leaves empty."""
    w = max([_text_size(title, LEGEND_TITLE_SIZE)[0]]
            + [46 + _text_size(r.text, LEGEND_SIZE)[0] for r in rows]) + 28
    h = 16 + 32 + len(rows) * 30 + 8
    left, bottom = MARGIN, map_height() - MARGIN
    return left, bottom - h, left + w, bottom


def _draw_legend(img: Image.Image, box: Box, title: str, rows: Sequence[_Row]) -> None:
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle(box, radius=10, fill=(255, 255, 255), outline=(190, 196, 204),
                           width=1)
    x, y = box[0] + 14, box[1] + 14
    draw.text((x, y), title, font=font(LEGEND_TITLE_SIZE), fill=TEXT)
    y += 36
    for row in rows:
        swatch = (x, y + 2, x + 32, y + 22)
        draw.rectangle(swatch, fill=row.fill or (255, 255, 255), outline=(150, 156, 164))
        if row.outline is not None:
            draw.rectangle(swatch, outline=row.outline, width=4)
        draw.text((x + 44, y), row.text, font=font(LEGEND_SIZE), fill=TEXT)
        y += 30


def _compose(fills: Mapping[str, Color], marked: Collection[str],
             label_lines: Mapping[str, list[tuple[str, int]]], title: str,
             rows: Sequence[_Row]) -> MapPicture:
    img = _shapes(fills, marked)
    legend = _legend_box(title, rows)
    boxes = _layout(label_lines, legend)
    _draw_labels(img, label_lines, boxes)
    _draw_legend(img, legend, title, rows)
    return MapPicture(img, dict(boxes), legend)


def compose_stories_map(counts: Mapping[str, int], marked: Collection[str],
                        lang: str) -> MapPicture:
    """The stories map, not yet encoded (render_stories_map encodes and caches it)."""
    _check_codes(counts.keys(), "counts")
    _check_codes(marked, "marked")
    if any(n < 0 for n in counts.values()):
        raise ValueError("counts: a story count cannot be negative")
    _ = translator(lang)
    fills = {o.code: story_color(counts.get(o.code, 0)) for o in oblasts()}
    labels = {o.code: _label_lines(o, lang, counts.get(o.code, 0)) for o in oblasts()}
    rows = []
    for low, high, color in story_bins():
        if low == 0:
            text = _("no stories")
        elif high is None:
            text = _("{n} or more").format(n=low)
        elif high == low:
            text = str(low)
        else:
            text = f"{low}–{high}"
        rows.append(_Row(text, color))
    if marked:
        rows.append(_Row(_("your places"), None, MARK))
    return _compose(fills, marked, labels, _("Stories in the last 24 hours"), rows)


def compose_alerts_map(levels: Mapping[str, AlertLevel], lang: str) -> MapPicture:
    """The alerts map, not yet encoded (render_alerts_map encodes and caches it)."""
    _check_codes(levels.keys(), "levels")
    parsed = {code: AlertLevel(level) for code, level in levels.items()}
    _ = translator(lang)
    fills = {o.code: ALERT_COLORS[parsed.get(o.code, AlertLevel.NONE)] for o in oblasts()}
    labels = {o.code: _label_lines(o, lang, None) for o in oblasts()}
    rows = [_Row(_("alert in the whole oblast"), ALERT_COLORS[AlertLevel.FULL]),
            _Row(_("alerts in parts of the oblast"), ALERT_COLORS[AlertLevel.PARTIAL]),
            _Row(_("no alert"), ALERT_COLORS[AlertLevel.NONE])]
    return _compose(fills, (), labels, _("Air-raid alerts now"), rows)
