"""The map pictures: size, the colour of known oblasts, labels that never overlap, the cache."""

from __future__ import annotations

import io
import math
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot.maps import AlertLevel, alert_levels, oblast_codes, oblasts
from bot.maps.layout import Box, overlaps
from bot.maps.pictures import render_alerts_map, render_stories_map
from bot.maps.projection import segment_distance
from bot.maps.render import (
    WIDTH,
    MapPicture,
    compose_alerts_map,
    compose_stories_map,
    frame,
    map_height,
)
from bot.maps.style import ALERT_COLORS, MARK, story_color

KHARKIV, KHERSON, LVIV = "UA63000000000041885", "UA65000000000030969", "UA46000000000026241"
ODESA, KYIV_CITY, SEVASTOPOL = "UA51000000000030770", "UA80000000000093317", "UA85000000000065278"
NOW = datetime(2026, 12, 7, 10, 0, 30, tzinfo=UTC)


def probe(picture: MapPicture, code: str) -> tuple[int, int]:
    """A pixel well inside the oblast that no label or legend covers: the first of its
    label points at least 6 px from any border and clear of every box."""
    f = frame()
    unit = next(o for o in oblasts() if o.code == code)
    edges = [(f.pixel(*r[i]), f.pixel(*r[i + 1])) for poly in unit.polygons for r in poly
             for i in range(len(r) - 1)]
    boxes = [*picture.labels.values(), picture.legend]
    for lon, lat in unit.label_points:
        x, y = f.pixel(lon, lat)
        clear = not any(b[0] - 3 <= x <= b[2] + 3 and b[1] - 3 <= y <= b[3] + 3 for b in boxes)
        if clear and min(segment_distance(x, y, a, b) for a, b in edges) >= 6:
            return round(x), round(y)
    raise AssertionError(f"no free pixel in {code}")


def decode(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img.convert("RGB")


def assert_labels_disjoint(picture: MapPicture) -> None:
    boxes: list[Box] = list(picture.labels.values())
    assert set(picture.labels) == oblast_codes()
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and 0 <= a[1] and a[2] <= WIDTH and a[3] <= map_height(), a
        assert not overlaps(a, picture.legend), a
        for b in boxes[i + 1:]:
            assert not overlaps(a, b), (a, b)


def test_alerts_map_size_and_colours() -> None:
    levels = {KHARKIV: AlertLevel.FULL, KHERSON: AlertLevel.PARTIAL, LVIV: AlertLevel.NONE}
    picture = compose_alerts_map(levels, "uk")
    img = decode(picture.png())
    assert img.size == (WIDTH, map_height()) and WIDTH >= 1280
    assert 700 <= img.size[1] <= 1000
    for code, level in [(KHARKIV, AlertLevel.FULL), (KHERSON, AlertLevel.PARTIAL),
                        (LVIV, AlertLevel.NONE), (ODESA, AlertLevel.NONE)]:
        assert img.getpixel(probe(picture, code)) == ALERT_COLORS[level], code
    assert_labels_disjoint(picture)


def test_stories_map_colours_and_marks() -> None:
    counts = {KHARKIV: 12, ODESA: 1, KHERSON: 3}
    picture = compose_stories_map(counts, {KHARKIV}, "en")
    img = decode(picture.png())
    assert img.size == (WIDTH, map_height())
    for code, n in [(KHARKIV, 12), (ODESA, 1), (KHERSON, 3), (LVIV, 0)]:
        assert img.getpixel(probe(picture, code)) == story_color(n), code
    # Different counts, different shades; no stories is the same grey as no alert.
    assert len({story_color(n) for n in (0, 1, 3, 7, 12, 40)}) == 6
    assert story_color(0) == ALERT_COLORS[AlertLevel.NONE]
    # The marked oblast's outline is orange at its vertices; an unmarked one's is not.
    f = frame()
    kharkiv = next(o for o in oblasts() if o.code == KHARKIV)
    lviv = next(o for o in oblasts() if o.code == LVIV)
    boxes = list(picture.labels.values())

    def vertex_colours(unit: object) -> list[tuple[int, int, int]]:
        out = []
        for lon, lat in unit.polygons[0][0][:-1]:  # type: ignore[attr-defined]
            x, y = f.pixel(lon, lat)
            if not any(b[0] - 3 <= x <= b[2] + 3 and b[1] - 3 <= y <= b[3] + 3 for b in boxes):
                out.append(img.getpixel((round(x), round(y))))
        return out

    def orange(c: tuple[int, int, int]) -> bool:
        return math.dist(c, MARK) < 60

    marked = vertex_colours(kharkiv)
    assert sum(map(orange, marked)) >= 0.8 * len(marked)
    assert not any(map(orange, vertex_colours(lviv)))
    assert_labels_disjoint(picture)


@pytest.mark.parametrize("lang", ["en", "uk"])
def test_labels_never_overlap_even_with_big_numbers(lang: str) -> None:
    every = sorted(oblast_codes())
    for counts in ({}, {c: 1 for c in every}, {c: 1000 + i for i, c in enumerate(every)}):
        picture = compose_stories_map(counts, every[::3], lang)
        assert_labels_disjoint(picture)
    assert_labels_disjoint(compose_alerts_map({c: AlertLevel.FULL for c in every}, lang))


def test_small_units_are_labelled_beside_themselves() -> None:
    picture = compose_stories_map({KYIV_CITY: 25}, (), "uk")
    f = frame()
    for code in (KYIV_CITY, SEVASTOPOL):
        unit = next(o for o in oblasts() if o.code == code)
        x, y = f.pixel(*unit.label_points[0])
        box = picture.labels[code]
        assert not (box[0] <= x <= box[2] and box[1] <= y <= box[3]), code
        assert math.dist((x, y), ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)) < 120


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="UA63040000000023521"):
        compose_stories_map({"UA63040000000023521": 1}, (), "en")  # a raion, not an oblast
    with pytest.raises(ValueError, match="negative"):
        compose_stories_map({KHARKIV: -1}, (), "en")
    with pytest.raises(ValueError, match="marked"):
        compose_stories_map({}, {"kherson"}, "en")
    with pytest.raises(ValueError):
        compose_alerts_map({KHARKIV: "red"}, "en")  # type: ignore[dict-item]


def test_alert_levels_from_active_alerts() -> None:
    levels = alert_levels([(KHARKIV, False), (KHARKIV, True), (KHERSON, False),
                           (KHERSON, False), (LVIV, True), (LVIV, False)])
    assert levels == {KHARKIV: AlertLevel.FULL, KHERSON: AlertLevel.PARTIAL,
                      LVIV: AlertLevel.FULL}


def test_cache_per_minute_and_inputs() -> None:
    a = render_alerts_map({KHARKIV: AlertLevel.FULL}, "en", now=NOW)
    same_minute = NOW + timedelta(seconds=20)
    assert render_alerts_map({KHARKIV: AlertLevel.FULL}, "en", now=same_minute) is a
    # NONE entries change nothing: the same picture.
    assert render_alerts_map({KHARKIV: AlertLevel.FULL, LVIV: AlertLevel.NONE}, "en",
                             now=NOW) is a
    other = render_alerts_map({KHARKIV: AlertLevel.PARTIAL}, "en", now=NOW)
    assert other != a
    s = render_stories_map({KHARKIV: 2}, [KHARKIV], "uk", now=NOW)
    assert render_stories_map({KHARKIV: 2, LVIV: 0}, {KHARKIV}, "uk", now=NOW) is s
    assert render_stories_map({KHARKIV: 2}, {KHARKIV}, "en", now=NOW) != s
    # A new minute: drawn again (the same picture); the old minute's entries are gone.
    later = render_alerts_map({KHARKIV: AlertLevel.FULL}, "en", now=NOW + timedelta(minutes=1))
    assert later is not a and later == a


def test_concurrent_requests_draw_once() -> None:
    when = NOW + timedelta(hours=5)
    levels = {KHERSON: AlertLevel.FULL, LVIV: AlertLevel.PARTIAL}
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _i: render_alerts_map(levels, "uk", now=when), range(6)))
    assert all(r is results[0] for r in results)
