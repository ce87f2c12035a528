"""Item pipeline benchmark: parse, clean, dedup, classify, summarize, store into SQLite.

The corpus is built from the real feeds in ../shared/feeds: each round copies every feed
with new guids and links, and rewrites a share of the words (the same way for every item
of a round) so that copies are new stories, while stories that several outlets carried
within a round still merge as they do in the originals. The same bodies are parsed by plain
feedparser for comparison.

    .venv/bin/python bench/bench_pipeline.py [--items 20000] [--keep-db PATH]

Prints one JSON line of figures at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import io
import json
import os
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchutil import children_cpu_seconds  # noqa: E402

from bot.clock import FakeClock  # noqa: E402
from bot.config import PollerConfig  # noqa: E402
from bot.domain import SourceConfig, TagKind  # noqa: E402
from bot.news.classify import get_classifier  # noqa: E402
from bot.news.clean import clean_item  # noqa: E402
from bot.news.cpu import CpuRunner  # noqa: E402
from bot.news.dedup import StoryIndex, fingerprint  # noqa: E402
from bot.news.parse import parse_feed  # noqa: E402
from bot.news.pipeline import Pipeline  # noqa: E402
from bot.news.poller import tune_runtime  # noqa: E402
from bot.news.summarize import summarize  # noqa: E402
from storage.store import Store  # noqa: E402

FEEDS = ROOT.parent / "shared" / "feeds"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
_WORD = re.compile(r"\b\w{4,}\b")
_TAG = re.compile(r"(<[^>]*>)")


def _rewrite(text: str, rnd: int, vocab: list[str], share: int = 85) -> str:
    """Swap about `share`% of the words (chosen per round) for other words of the corpus."""
    def sub(m: re.Match[str]) -> str:
        w = m.group(0)
        h = int.from_bytes(hashlib.blake2b(f"{rnd}:{w.lower()}".encode(), digest_size=6).digest(),
                           "big")
        if h % 100 >= share:
            return w
        return vocab[(h // 100) % len(vocab)]
    parts = _TAG.split(text)
    return "".join(p if p.startswith("<") else _WORD.sub(sub, p) for p in parts)


def build_corpus(target: int) -> list[tuple[int, bytes]]:
    """[(feed number, RSS body)] with about `target` items in all."""
    originals = []
    for path in sorted(FEEDS.glob("*.xml")):
        parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
        originals.append(parsed.entries)
    per_round = sum(len(e) for e in originals)
    words: set[str] = set()
    for entries in originals:
        for e in entries:
            words.update(_WORD.findall(_TAG.sub(" ", e.get("title", "") + " "
                                                + e.get("summary", ""))))
    vocab = sorted(words)
    rounds = max(1, round(target / per_round))
    bodies: list[tuple[int, bytes]] = []
    for rnd in range(rounds):
        for n, entries in enumerate(originals):
            out = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                   f"<title>Feed {n} round {rnd}</title><link>https://f{n}.example.org/</link>"]
            for e in entries:
                title, desc = e.get("title", ""), e.get("summary", "")
                if rnd:
                    title, desc = _rewrite(title, rnd, vocab), _rewrite(desc, rnd, vocab)
                content = ""
                if e.get("content"):
                    value = e["content"][0].get("value", "")
                    value = value if rnd == 0 else _rewrite(value, rnd, vocab)
                    content = f"<content:encoded>{html.escape(value)}</content:encoded>"
                link = e.get("link", "https://x.example.org/")
                link = f"{link}{'&' if '?' in link else '?'}round={rnd}"
                out.append(
                    f"<item><title>{html.escape(title)}</title><link>{html.escape(link)}</link>"
                    f"<guid isPermaLink=\"false\">{html.escape(e.get('id', ''))}-{rnd}</guid>"
                    f"<pubDate>{e.get('published', '')}</pubDate>"
                    f"<description>{html.escape(desc)}</description>{content}</item>")
            out.append("</channel></rss>")
            body = "".join(out).replace(
                '<rss version="2.0">',
                '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">')
            bodies.append((n, body.encode("utf-8")))
    return bodies


def bench_feedparser(bodies: list[tuple[int, bytes]]) -> tuple[int, float, float]:
    """(items, wall seconds, CPU seconds) of plain feedparser over the bodies."""
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    for _, body in bodies:
        count += len(feedparser.parse(io.BytesIO(body)).entries)
    return count, time.perf_counter() - started, time.process_time() - cpu


def bench_stages(bodies: list[tuple[int, bytes]], sample: int = 40) -> dict[str, float]:
    """CPU milliseconds per item of each stage, on a sample of the bodies (no database)."""
    clf = get_classifier()
    chosen = bodies[:sample]
    t: dict[str, float] = dict.fromkeys(
        ("parse", "clean", "classify", "summarize", "fingerprint", "dedup_find"), 0.0)
    n = 0
    idx = StoryIndex()
    for src, body in chosen:
        s = time.thread_time()
        raw = parse_feed(body).items
        t["parse"] += time.thread_time() - s
        for r in raw:
            s = time.thread_time()
            c = clean_item(r, source_id=src, language="en", now=NOW)
            t["clean"] += time.thread_time() - s
            if c is None:
                continue
            n += 1
            s = time.thread_time()
            tags = clf.classify(c.title, c.text)
            t["classify"] += time.thread_time() - s
            s = time.thread_time()
            summarize(c.title, c.text)
            t["summarize"] += time.thread_time() - s
            s = time.thread_time()
            fp = fingerprint(c.title, c.text)
            t["fingerprint"] += time.thread_time() - s
            s = time.thread_time()
            if idx.find(fp, c.published_at, guard=tags.cities, source=src) is None:
                idx.add(n, fp, c.published_at, guard=tags.cities, source=src)
            t["dedup_find"] += time.thread_time() - s
    return {k: round(v / n * 1000, 4) for k, v in t.items()}


async def bench_pipeline(bodies: list[tuple[int, bytes]], db_path: Path, concurrency: int = 1,
                         workers: int = 0) -> dict[str, float]:
    store = await Store.open(f"sqlite+aiosqlite:///{db_path}")
    cpu_runner = CpuRunner(workers)
    try:
        clock = FakeClock(NOW)
        classifier = get_classifier()  # loaded before the clock starts: start-up cost
        pipe = Pipeline(store, classifier, clock, cpu=cpu_runner)
        await pipe.load()
        await cpu_runner.start()  # the workers load their data before the clock starts
        tune_runtime()  # as `herald ingest` and `herald run` do after start-up
        n_feeds = max(n for n, _ in bodies) + 1
        sources = [await store.sources.add(
            SourceConfig(name=f"bench {n}", url=f"https://f{n}.example.org/rss"), now=NOW)
            for n in range(n_feeds)]
        new_items = new_stories = merged = skipped = errors = 0
        # CPU time as well as wall time: on a shared machine the wall clock also measures
        # the neighbours; CPU time (all threads, and the worker processes) is what the
        # pipeline itself costs.
        started, cpu = time.perf_counter(), time.process_time() + children_cpu_seconds()
        results: list[Any] = []

        lane = asyncio.Semaphore(concurrency)

        async def one(n: int, body: bytes) -> None:
            # As the poller does: at most `concurrency` feeds in the pipeline at a time; each
            # parsed and cleaned in one call to the CPU runner, then linked and stored.
            async with lane:
                _, res = await pipe.process_body(sources[n], body)
            results.append(res)
            clock.advance(1)

        # The pipeline serializes only the near-duplicate decision and the store.
        await asyncio.gather(*(one(n, body) for n, body in bodies))
        for res in results:
            new_items += res.new_items
            new_stories += len(res.new_stories)
            merged += res.merged
            skipped += res.skipped
            errors += len(res.errors)
        elapsed = time.perf_counter() - started
        cpu_s = time.process_time() + children_cpu_seconds() - cpu
        # The same bodies again: everything is known, nothing is stored.
        s = time.perf_counter()
        again = 0
        for n, body in bodies[:50]:
            again += (await pipe.process_body(sources[n], body))[1].new_items
        repeat_s = time.perf_counter() - s
        lookups = time.perf_counter()
        await store.news.latest_by_tag(TagKind.CITY, "kyiv", limit=5)
        await store.news.search("drone strike", limit=5)
        lookups_ms = (time.perf_counter() - lookups) * 1000
    finally:
        cpu_runner.close()
        await store.close()
    return {"items": new_items, "seconds": elapsed, "cpu_seconds": cpu_s,
            "new_stories": new_stories, "merged": merged, "skipped": skipped,
            "errors": errors, "repeat_batches_seconds": repeat_s, "repeat_new_items": again,
            "lookups_ms": lookups_ms}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--keep-db", type=Path, default=None)
    p.add_argument("--workers", type=int, default=PollerConfig().cpu_workers,
                   help="worker processes for parsing and the CPU stages (0: one thread), "
                        "as poller.cpu_workers")
    p.add_argument("--concurrency", type=int, default=None,
                   help="feeds processed side by side (default: 2 x workers + 1, as the "
                        "poller)")
    args = p.parse_args()
    if args.concurrency is None:
        args.concurrency = 2 * args.workers + 1
    if not FEEDS.exists():
        print(json.dumps({"error": f"{FEEDS} not found"}))
        return 1
    bodies = build_corpus(args.items)
    fp_items, fp_seconds, fp_cpu = bench_feedparser(bodies)
    print(f"corpus: {len(bodies)} feeds, {fp_items} items, "
          f"{sum(len(b) for _, b in bodies) / 1e6:.1f} MB", file=sys.stderr)
    print(f"feedparser: {fp_items / fp_seconds:.0f} items/s", file=sys.stderr)
    stages = bench_stages(bodies)
    print(f"stages (CPU ms/item): {stages}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        db = args.keep_db or Path(tmp) / "bench.db"
        res = asyncio.run(bench_pipeline(bodies, db, args.concurrency, args.workers))
        res["db_mb"] = db.stat().st_size / 1e6
    rate = res["items"] / res["seconds"]
    fp_rate = fp_items / fp_seconds
    cpu_rate = res["items"] / res["cpu_seconds"]
    fp_cpu_rate = fp_items / fp_cpu
    print(f"pipeline: {rate:.0f} items/s wall, {cpu_rate:.0f} items per CPU second "
          f"({res['items']} items, {res['new_stories']} stories, {res['merged']} merged)",
          file=sys.stderr)
    print(json.dumps({
        "bench": "pipeline",
        "feeds": len(bodies),
        "concurrency": args.concurrency,
        "workers": args.workers,
        "items": res["items"],
        "pipeline_items_per_s": round(rate, 1),
        "feedparser_items_per_s": round(fp_rate, 1),
        "pipeline_vs_feedparser_time_ratio": round(res["seconds"] / fp_seconds, 2),
        "pipeline_items_per_cpu_s": round(cpu_rate, 1),
        "feedparser_items_per_cpu_s": round(fp_cpu_rate, 1),
        "pipeline_vs_feedparser_cpu_ratio": round(res["cpu_seconds"] / fp_cpu, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "pipeline_seconds": round(res["seconds"], 2),
        "new_stories": res["new_stories"],
        "merged": res["merged"],
        "skipped": res["skipped"],
        "errors": res["errors"],
        "repeat_50_feeds_seconds": round(res["repeat_batches_seconds"], 3),
        "repeat_new_items": res["repeat_new_items"],
        "lookups_ms": round(res["lookups_ms"], 1),
        "stage_cpu_ms_per_item": stages,
        "db_mb": round(res["db_mb"], 1),
        "target_items_per_s": 1000,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
