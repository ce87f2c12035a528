"""Benchmark: 100,000 subscriptions in the alert index.

Measures the whole process's resident memory with the index loaded (goal: <= 300 MB),
the time to build the index from the database, the latency of matching one story that
5,000 chats follow, and (when the outbox exists) the full fan-out of that story into
the outbox. Prints one JSON line of figures at the end.

    .venv/bin/python bench/bench_subscriptions.py [--subscriptions 100000] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.alerts.match import SubscriptionIndex
from bot.clock import FakeClock
from bot.domain import Story
from storage.store import Store
from storage.tables import chats, subscriptions

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
HOT_CITY = "kherson"
HOT_FOLLOWERS = 5000
CITIES = [HOT_CITY] + [f"city_{i}" for i in range(400)]
TOPICS = ["sanctions", "humanitarian", "war_crimes", "energy", "economy"] + [
    f"topic_{i}" for i in range(40)]
WORDS = ("blackout drone grain corridor evacuation ceasefire frontline reservoir shelling "
         "mobilization refinery pipeline bridge tariff inflation harvest border").split()


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 1e6


def load_classifier() -> Any:
    """H1's classifier when it exists (its data counts in the process RSS); else None."""
    try:
        from bot.news.classify import get_classifier
    except ImportError:
        return None
    return get_classifier()


def hot_places() -> list[tuple[str, str]]:
    """The hot story's city and every unit above it, as follows: a chat of the 5,000 follows
    one of them (the city itself, its hromada, its raion or its oblast)."""
    from bot.news.admin_units import get_admin_units

    units = get_admin_units()
    town = units.for_city(HOT_CITY)
    assert town is not None
    return [("city", HOT_CITY)] + [("place", code) for code in units.ancestors(town.code)]


def all_place_codes() -> list[str]:
    """Every unit of the codifier: random follows are spread over all levels."""
    from bot.news.admin_units import get_admin_units

    units = get_admin_units()
    return [c for level in ("oblast", "raion", "hromada", "settlement")
            for c in units.codes_of_level(level)]


async def fill(store: Store, n_subs: int, seed: int = 7) -> tuple[int, int]:
    """Write n_subs subscriptions over realistic chats: 5,000 follow the hot story's city or
    a unit that contains it; a fifth of the rest follow places of every level."""
    rng = random.Random(seed)
    hot = hot_places()
    codes = all_place_codes()
    chat_rows: list[dict[str, Any]] = []
    sub_rows: list[dict[str, Any]] = []
    chat_id = 100_000_000
    while len(sub_rows) < n_subs:
        chat_id += rng.randint(1, 5000)
        chat_rows.append(dict(id=chat_id, type="private", title=None, language="en",
                              timezone="UTC", status="active", briefing_times=[],
                              created_at=NOW, updated_at=NOW))
        keys: set[tuple[str, str]] = set()
        if len(chat_rows) <= HOT_FOLLOWERS:
            keys.add(hot[len(chat_rows) % len(hot)])
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            r = rng.random()
            if r < 0.2:
                keys.add(("place", rng.choice(codes)))
            elif r < 0.6:
                keys.add(("city", rng.choice(CITIES[1:])))
            elif r < 0.9:
                keys.add(("topic", rng.choice(TOPICS)))
            else:
                keys.add(("phrase", " ".join(rng.sample(WORDS, rng.randint(1, 3)))))
        for kind, key in keys:
            sub_rows.append(dict(chat_id=chat_id, kind=kind, key=key,
                                 label=key.replace("_", " ").title(), mode="instant",
                                 created_at=NOW))
    sub_rows = sub_rows[:n_subs]
    async with store.session.begin() as s:
        for i in range(0, len(chat_rows), 5000):
            await s.execute(insert(chats), chat_rows[i:i + 5000])
        for i in range(0, len(sub_rows), 5000):
            await s.execute(insert(subscriptions), sub_rows[i:i + 5000])
    return len(chat_rows), len(sub_rows)


def hot_story(story_id: int = 1, *, phrases: bool = False) -> Story:
    """A story 5,000 chats follow by city; with phrases=True its text also names followed
    phrases ("blackout", "grain corridor"), which adds their followers."""
    extra = ("The blackout continues across the region. Officials said the grain corridor "
             "was not affected. ") if phrases else "Officials said schools stay open. "
    return Story(id=story_id, title="Evacuation buses leave Kherson as the city waits",
                 url="https://example.com/news/kherson-evacuation", summary="",
                 published_at=NOW, first_seen_at=NOW, updated_at=NOW, source_count=3,
                 cities=(HOT_CITY,), places=tuple(k for kind, k in hot_places()
                                                  if kind == "place"),
                 topics=("humanitarian",), text=("Buses left Kherson at 8 am. " + extra) * 20)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    classifier = load_classifier()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        store = await Store.open(url)
        try:
            n_chats, n_subs = await fill(store, args.subscriptions)
            gc.collect()
            rss_before = rss_mb()

            from bot.alerts.service import AlertService

            service = AlertService(store, classifier, FakeClock(NOW))
            t0 = time.perf_counter()
            await service.load()
            build_s = time.perf_counter() - t0
            gc.collect()
            rss_after = rss_mb()
            index: SubscriptionIndex = service.index

            story = hot_story()
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                matched = index.match(story)
                times.append(time.perf_counter() - t0)
            hot_chats = sum(1 for subs in matched.values() if any(
                s.key == HOT_CITY or (s.kind == "place" and s.key in story.places)
                for s in subs))

            phrase_story = hot_story(2, phrases=True)
            text = f"{phrase_story.title}\n{phrase_story.text}"
            phrase_times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                phrase_matches = index.matching_phrases(text)
                phrase_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with_phrases = index.match(phrase_story)
            full_ms = (time.perf_counter() - t0) * 1000

            fanout: dict[str, Any] = {}
            if hasattr(store.outbox, "enqueue"):
                t0 = time.perf_counter()
                enqueued = await service.on_new_stories([story])
                fanout = {"fanout_enqueued": enqueued,
                          "fanout_s": round(time.perf_counter() - t0, 3)}
        finally:
            await store.close()
    return {
        "bench": "subscriptions",
        "subscriptions": n_subs,
        "chats": n_chats,
        "indexed": len(index),
        "classifier": classifier is not None,
        "rss_mb_before_load": round(rss_before, 1),
        "rss_mb_loaded": round(rss_after, 1),
        "index_mb": round(rss_after - rss_before, 1),
        "rss_goal_mb": 300,
        "rss_ok": rss_after <= 300,
        "build_s": round(build_s, 3),
        "match_chats": len(matched),
        "match_hot_city_chats": hot_chats,
        "match_ms_median": round(statistics.median(times) * 1000, 3),
        "match_ms_p95": round(sorted(times)[int(len(times) * 0.95) - 1] * 1000, 3),
        "phrase_match_ms_median": round(statistics.median(phrase_times) * 1000, 3),
        "phrases_matched": len(phrase_matches),
        "match_with_phrases_chats": len(with_phrases),
        "match_with_phrases_ms": round(full_ms, 3),
        **fanout,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--db", default="", help="database URL (default: a temp SQLite file)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
