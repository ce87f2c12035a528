"""Benchmark: drawing the /map and /alerts pictures (bot/maps).

Times, in this process: the first picture (data and font loading included), then pictures
drawn from scratch with random inputs (nothing cached: compose + PNG encoding), split into
drawing and encoding, and a cache hit. Also prints the data file's size, its vertices and
the PNG sizes. Target: a picture in <= 300 ms. Prints one JSON line of figures at the end.

    .venv/bin/python bench/bench_map.py [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from bot.maps import AlertLevel, oblast_codes, oblasts
from bot.maps.pictures import render_alerts_map, render_stories_map
from bot.maps.render import compose_alerts_map, compose_stories_map

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "geo" / "ukraine-oblasts.geojson"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"p50_ms": ms(statistics.median(values)),
            "p95_ms": ms(values[int(0.95 * (len(values) - 1))]), "max_ms": ms(values[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    rnd = random.Random(7)
    codes = sorted(oblast_codes())

    t0 = time.perf_counter()
    first = render_stories_map({codes[0]: 3}, {codes[1]}, "uk")
    cold = time.perf_counter() - t0

    draw: dict[str, list[float]] = {"stories": [], "alerts": []}
    encode: dict[str, list[float]] = {"stories": [], "alerts": []}
    total: dict[str, list[float]] = {"stories": [], "alerts": []}
    sizes: dict[str, list[int]] = {"stories": [], "alerts": []}
    for i in range(args.runs):
        lang = ("en", "uk")[i % 2]
        counts = {c: rnd.choice([0, 0, 1, 3, 7, 15, 40, 250]) for c in codes}
        marked = rnd.sample(codes, rnd.randint(0, 3))
        levels = {c: rnd.choice(list(AlertLevel)) for c in codes}
        for kind in ("stories", "alerts"):
            t1 = time.perf_counter()
            picture = (compose_stories_map(counts, marked, lang) if kind == "stories"
                       else compose_alerts_map(levels, lang))
            t2 = time.perf_counter()
            png = picture.png()
            t3 = time.perf_counter()
            draw[kind].append(t2 - t1)
            encode[kind].append(t3 - t2)
            total[kind].append(t3 - t1)
            sizes[kind].append(len(png))

    now = datetime.now(UTC)
    levels = {codes[3]: AlertLevel.FULL}
    render_alerts_map(levels, "en", now=now)
    t4 = time.perf_counter()
    for _ in range(1000):
        render_alerts_map(levels, "en", now=now)
    hit = (time.perf_counter() - t4) / 1000

    data = resources.files("bot.maps").joinpath("data/oblasts.json").read_bytes()
    figures = {
        "runs": args.runs,
        "first_picture_ms": ms(cold),
        "first_picture_bytes": len(first),
        **{f"{k}_total_{m}": v for k in total for m, v in summary(total[k]).items()},
        **{f"{k}_draw_p50_ms": ms(statistics.median(draw[k])) for k in draw},
        **{f"{k}_encode_p50_ms": ms(statistics.median(encode[k])) for k in encode},
        **{f"{k}_png_kb_p50": round(statistics.median(sizes[k]) / 1024, 1) for k in sizes},
        "cache_hit_us": round(hit * 1e6, 2),
        "data_bytes": len(data),
        "source_bytes": SOURCE.stat().st_size if SOURCE.is_file() else None,
        "vertices": sum(len(r) - 1 for o in oblasts() for p in o.polygons for r in p),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
