"""Benchmark: `/kherson` with one million stored items, inside the process.

Builds a SQLite file with 1,000,000 items, one story each, tagged with cities and topics
(bulk executemany in big transactions, straight into the migrated schema), then times the
path the /kherson handler runs: the latest-by-tag query, focused summaries and the HTML
reply (bot.telegram.handlers.news.latest_about). Prints one JSON line of figures.

    .venv/bin/python bench/bench_query.py [--items 1000000] [--runs 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.domain import TagKind
from bot.news.classify import get_classifier
from bot.services import Services
from bot.telegram.handlers.news import latest_about
from storage.store import Store

CITIES = ["kyiv", "kharkiv", "odesa", "dnipro", "zaporizhzhia", "lviv", "mykolaiv", "sumy",
          "poltava", "chernihiv", "kherson", "vinnytsia", "zhytomyr", "rivne", "lutsk",
          "ternopil", "uzhhorod", "chernivtsi", "kropyvnytskyi", "cherkasy"]
TOPICS = ["sanctions", "humanitarian", "energy", "shelling", "war_crimes", "diplomacy"]
SENTENCES = [
    "Officials said the situation in {city} remained tense overnight.",
    "Volunteers in {city} delivered food, water and medicine to the residents.",
    "The regional administration reported repairs to the power grid.",
    "Schools moved classes online after the latest air raid alerts.",
    "Engineers restored heating to several districts by the morning.",
]
BATCH = 50_000
_TS = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite


def build(db: Path, n_items: int, seed: int = 7) -> float:
    """Fill the migrated database with n_items items/stories/tags; seconds it took."""
    rnd = random.Random(seed)
    start = time.perf_counter()
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    con.execute("INSERT INTO sources (id, name, url, language, cities, topics, poll_interval,"
                " paused, origin, failure_count, created_at) VALUES (1, 'Bench', "
                "'https://bench.example/rss', 'en', '[]', '[]', 600, 0, 'config', 0, ?)",
                (now.strftime(_TS),))
    for lo in range(1, n_items + 1, BATCH):
        stories, items, tags = [], [], []
        for i in range(lo, min(lo + BATCH, n_items + 1)):
            # Older ids are older stories: a year of news, newest last.
            seen = now - timedelta(seconds=(n_items - i) * 31.5)
            ts = seen.strftime(_TS)
            # Kherson is in ~5% of stories (a busy city), the rest spread out.
            cities = ["kherson"] if rnd.random() < 0.05 else [rnd.choice(CITIES)]
            if rnd.random() < 0.2:
                cities.append(rnd.choice(CITIES))
            cities = list(dict.fromkeys(cities))
            topics = [rnd.choice(TOPICS)] if rnd.random() < 0.5 else []
            city = cities[0].title()
            title = f"Story {i}: news from {city}"
            text = " ".join(s.format(city=city) for s in rnd.sample(SENTENCES, 3))
            url = f"https://bench.example/news/{i}"
            stories.append((i, title, url, text[:200], text, ts, ts, ts, 1 + (i % 3 == 0),
                            json.dumps(cities), json.dumps(topics)))
            items.append((i, 1, i, f"bench:{i}", f"bench:{i}", url, title, text, text[:200],
                          ts, ts, "en", json.dumps({"cities": cities, "topics": topics})))
            tags += [(i, "city", c, ts) for c in cities] + [(i, "topic", t, ts) for t in topics]
        with con:
            con.executemany("INSERT INTO stories (id, title, url, summary, text, published_at,"
                            " first_seen_at, updated_at, source_count, cities, topics) VALUES "
                            "(?,?,?,?,?,?,?,?,?,?,?)", stories)
            con.executemany("INSERT INTO items (id, source_id, story_id, key, guid, url, title,"
                            " text, summary, published_at, fetched_at, language, tags) VALUES"
                            " (?,?,?,?,?,?,?,?,?,?,?,?,?)", items)
            con.executemany("INSERT INTO story_tags (story_id, kind, key, published_at)"
                            " VALUES (?,?,?,?)", tags)
    con.execute("ANALYZE")
    con.close()
    return time.perf_counter() - start


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(url: str, runs: int) -> dict[str, float]:
    """Time latest_about() for /kherson, and for a mix of cities and topics."""
    store = await Store.open(url)
    services = Services(config=Config(), store=store, clock=Clock(),
                        classifier=get_classifier())
    try:
        text = await latest_about(services, TagKind.CITY, "kherson", lang="en")  # warm-up
        assert "Kherson" in text and "Story" in text, text[:200]
        kherson: list[float] = []
        for _ in range(runs):
            t = time.perf_counter()
            await latest_about(services, TagKind.CITY, "kherson", lang="en")
            kherson.append((time.perf_counter() - t) * 1000)
        mixed: list[float] = []
        keys = [(TagKind.CITY, c) for c in CITIES] + [(TagKind.TOPIC, t) for t in TOPICS]
        for i in range(runs):
            kind, key = keys[i % len(keys)]
            t = time.perf_counter()
            await latest_about(services, kind, key, lang="uk" if i % 2 else "en")
            mixed.append((time.perf_counter() - t) * 1000)
    finally:
        await store.close()
    return {
        "kherson_p50_ms": round(statistics.median(kherson), 2),
        "kherson_p95_ms": round(percentile(kherson, 95), 2),
        "kherson_p99_ms": round(percentile(kherson, 99), 2),
        "mixed_p50_ms": round(statistics.median(mixed), 2),
        "mixed_p95_ms": round(percentile(mixed, 95), 2),
        "reply_chars": len(text),
    }


async def prepare(url: str) -> None:
    store = await Store.open(url)  # creates the schema (migrations)
    await store.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--keep", help="build the database in this folder and keep it")
    args = p.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="herald-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench-query.db"
    url = f"sqlite+aiosqlite:///{db}"
    built = 0.0
    if not db.exists():
        asyncio.run(prepare(url))
        built = build(db, args.items)
    figures = asyncio.run(measure(url, args.runs))
    if not args.keep:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
    print(json.dumps({"bench": "query", "items": args.items, "runs": args.runs,
                      "build_seconds": round(built, 1), **figures,
                      "target_p95_ms": 100}))


if __name__ == "__main__":
    main()
