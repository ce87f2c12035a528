"""Benchmark: Ukraine's administrative units (bot/news/admin_units.py).

Measures, each in a fresh interpreter: the load time of data/ukraine.bin.gz, its memory
(tracemalloc: what stays allocated, and the peak while loading; RSS before and after),
and the same for the whole gazetteer (the city gazetteer and the units together, the
targets of issue 11: <= 300 ms, <= 60 MB). Then `find` per item on the real feeds in
../shared/feeds (title and summary of every item; skipped when the folder is absent).
Prints one JSON line.

    .venv/bin/python bench/bench_admin_units.py [--runs 20]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT.parent / "shared" / "feeds"

_LOAD = """
import json, time, tracemalloc, psutil
proc = psutil.Process()
import bot.news.admin_units, bot.news.gazetteer  # imports are not the data's cost
rss0 = proc.memory_info().rss
tracemalloc.start()
t = time.perf_counter()
{load}
elapsed = time.perf_counter() - t
current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
rss1 = proc.memory_info().rss
print(json.dumps({{"ms": elapsed * 1000, "traced_mb": current / 1e6, "peak_mb": peak / 1e6,
                  "rss_delta_mb": (rss1 - rss0) / 1e6}}))
"""
_UNITS = "units = bot.news.admin_units.AdminUnits.load()"
_BOTH = _UNITS + "; cities = bot.news.gazetteer.Gazetteer.load()"
_UNITS_UNTRACED = _LOAD.replace("tracemalloc.start()", "").replace(
    "current, peak = tracemalloc.get_traced_memory()", "current = peak = 0").replace(
    "tracemalloc.stop()", "")


def measure(code: str, runs: int) -> dict[str, float]:
    """Median of `runs` fresh interpreters (time without tracemalloc, memory with it)."""
    times, traced, peaks, rss = [], [], [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _UNITS_UNTRACED.format(load=code)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        got = json.loads(out.stdout)
        times.append(got["ms"])
        rss.append(got["rss_delta_mb"])
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", _LOAD.format(load=code)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        got = json.loads(out.stdout)
        traced.append(got["traced_mb"])
        peaks.append(got["peak_mb"])
    return {"load_ms": round(statistics.median(times), 1),
            "load_ms_max": round(max(times), 1),
            "traced_mb": round(statistics.median(traced), 2),
            "peak_mb": round(statistics.median(peaks), 2),
            "rss_delta_mb": round(statistics.median(rss), 2)}


def feed_texts() -> list[str]:
    import feedparser

    texts = []
    for path in sorted(FEEDS.glob("*.xml")):
        for e in feedparser.parse(str(path)).entries:
            summary = re.sub(r"<[^>]+>", " ", html.unescape(e.get("summary", "")))
            texts.append(f"{e.get('title', '')}\n{summary}")
    return texts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from bot.news.admin_units import AdminUnits
    from bot.news.text import Tokens

    result: dict[str, object] = {"bench": "admin_units"}
    data = ROOT / "bot" / "news" / "data" / "ukraine.bin.gz"
    result["file_kb"] = round(data.stat().st_size / 1024)
    result["units"] = measure(_UNITS, args.runs)
    result["gazetteer_and_units"] = measure(_BOTH, args.runs)
    units = AdminUnits.load()
    result["n_units"] = units.n
    result["n_forms"] = len(units.names.hi) + len(units.adjs.hi)
    if not FEEDS.exists():
        result["feeds"] = "absent"
    else:
        texts = feed_texts()
        tokens = [Tokens(t) for t in texts]
        for t, tok in zip(texts, tokens, strict=True):  # warm: offsets, stem caches
            units.find(t, tok)
        rounds = 20
        t0 = time.perf_counter()
        found = 0
        for _ in range(rounds):
            found = 0
            for t in texts:
                found += len(units.find(t))
        per_item = (time.perf_counter() - t0) / rounds / len(texts)
        t0 = time.perf_counter()
        for _ in range(rounds):
            for t in texts:
                Tokens(t)
        tokenize = (time.perf_counter() - t0) / rounds / len(texts)
        result["feeds"] = {"items": len(texts),
                           "chars_per_item": round(statistics.mean(len(t) for t in texts)),
                           "find_us_per_item": round(per_item * 1e6, 1),
                           "tokenize_us_per_item": round(tokenize * 1e6, 1),
                           "mentions": found}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
