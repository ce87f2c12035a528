"""Benchmark: 50 channels get a burst of 100 stories each while private chats get alerts.

The real AlertService matches the stories and queues the posts (a channel's posts spaced in
the outbox), the real Sender sends them to the Bot API emulator in its own process, which
enforces Telegram's limits (30 messages/s, 1 per second per chat, 20 per minute per group or
channel; 429 with retry_after beyond). Meanwhile a story for the private chats arrives every
few seconds. Phase 1 measures the private alerts' latency alone (the usual latency), phase 2
with the channels' burst under way. Goals: 0 x 429, every post delivered once and in order,
private latency as in phase 1. Prints one JSON line of figures at the end.

    .venv/bin/python bench/bench_channels.py [--channels 50] [--stories 100]
        [--per-minute 20] [--private-chats 100] [--private-every 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.alerts.service import AlertService
from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.sender import Sender
from bot.domain import Story, TagKind
from bot.news.classify import get_classifier
from bot.testing.botapi import DEFAULT_TOKEN
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHANNEL0 = -1001000000001


class Emulator:
    """The Bot API emulator in its own process, with Telegram's limits."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.proc: subprocess.Popen[str] | None = None
        self.root = ""

    def start(self) -> str:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.testing.botapi", "--port", "0", "--global-rate", "30",
             "--group-per-minute", str(self.per_minute)],
            stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
        assert self.proc.stdout is not None
        base_url = str(json.loads(self.proc.stdout.readline())["base_url"])
        self.root = base_url.rsplit("/bot", 1)[0]
        return base_url

    async def get(self, client: httpx.AsyncClient, what: str) -> Any:
        return (await client.get(f"{self.root}/_emulator/{what}")).json()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def story(story_id: int, title: str, city: str, clock: Clock) -> Story:
    now = clock.now()
    text = (f"Officials in {city.title()} said evacuation buses would leave in the morning. "
            f"Engineers worked through the night to restore water supply in {city.title()}.")
    return Story(id=story_id, title=title, url=f"https://bench.example/{story_id}",
                 summary=text, published_at=now, first_seen_at=now, updated_at=now,
                 cities=(city,), text=text)


async def seed(store: Store, alerts: AlertService, channels: int, privates: int,
               clock: Clock) -> None:
    now = clock.now()
    for i in range(channels):
        chat_id = CHANNEL0 - i
        await store.channels.register(chat_id, username=f"bench_{i}", title=f"Bench {i}",
                                      admin_id=None, language="en", timezone="UTC", now=now)
        await alerts.subscribe(chat_id, TagKind.CITY, "kherson", "Kherson")
    for chat_id in range(1, privates + 1):
        await store.chats.upsert(chat_id, type="private", title=None, now=now)
        await alerts.subscribe(chat_id, TagKind.CITY, "kyiv", "Kyiv")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(latencies: list[float]) -> dict[str, float]:
    return {"n": len(latencies), "p50_s": round(percentile(latencies, 50), 2),
            "p95_s": round(percentile(latencies, 95), 2),
            "max_s": round(max(latencies, default=0.0), 2),
            "mean_s": round(statistics.fmean(latencies), 2) if latencies else 0.0}


class RateLimitLog(logging.Handler):
    """The sender's "rate limited" warnings: which kind of chat each 429 hit."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.hits: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "rate limited":
            self.hits.append(int(getattr(record, "chat_id", 0)))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    limited = RateLimitLog()
    logging.getLogger("herald.delivery").addHandler(limited)
    tmp = tempfile.TemporaryDirectory()
    store = await Store.open(f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}")
    emu = Emulator(args.per_minute)
    base_url = emu.start()
    client = httpx.AsyncClient(timeout=30)
    clock = Clock()
    try:
        delivery = DeliveryConfig(group_per_minute=args.per_minute)  # global 25/s, as shipped
        bot = Bot(DEFAULT_TOKEN, base_url=base_url,
                  request=HTTPXRequest(connection_pool_size=32, pool_timeout=30.0))
        await bot.initialize()
        sender = Sender(store, bot, delivery, clock, worker_id="bench", poll_interval=0.2)
        alerts = AlertService(store, get_classifier(), clock, on_enqueued=sender.wake,
                              channel_per_minute=args.per_minute)
        await seed(store, alerts, args.channels, args.private_chats, clock)
        stop = asyncio.Event()
        sending = asyncio.create_task(sender.run(stop))
        queued_at: dict[str, float] = {}  # private story title -> when its alerts were queued
        next_id = 1

        async def private_story(phase: str, n: int) -> None:
            nonlocal next_id
            title = f"Kyiv {phase} story #{n:04d}"  # no title is a prefix of another
            await alerts.on_new_stories([story(next_id, title, "kyiv", clock)])
            queued_at[title] = time.time()
            next_id += 1

        # Phase 1: private alerts alone.
        for n in range(args.baseline_stories):
            await private_story("baseline", n)
            await asyncio.sleep(args.private_every)

        # Phase 2: the burst, while private stories keep coming.
        burst = [story(next_id + i, f"Kherson burst story {i:03d}", "kherson", clock)
                 for i in range(args.stories)]
        next_id += args.stories
        t0 = time.perf_counter()
        await alerts.on_new_stories(burst)
        enqueue_s = time.perf_counter() - t0
        expected = args.channels * args.stories
        n = 0
        deadline = t0 + args.stories * 61.0 / args.per_minute * 3 + 120
        while True:
            stats = await emu.get(client, "stats")
            channel_posts = stats["sent"] - args.private_chats * len(queued_at)
            if channel_posts >= expected or time.perf_counter() > deadline:
                break
            await private_story("burst", n)
            n += 1
            await asyncio.sleep(args.private_every)
        burst_s = time.perf_counter() - t0
        await asyncio.sleep(args.private_every)  # the last private story's alerts go out
        stop.set()
        await sending
        await bot.shutdown()

        sent = await emu.get(client, "sent")
        stats = await emu.get(client, "stats")
        posts: dict[int, list[str]] = defaultdict(list)
        latency: dict[str, list[float]] = {"baseline": [], "burst": []}
        for m in sent:
            if m["chat_id"] < 0:
                posts[m["chat_id"]].append(m["plain"].split("\n", 1)[0])
            else:
                title = m["plain"].split("\n", 1)[0]
                if title in queued_at:
                    latency[title.split()[1]].append(m["time"] - queued_at[title])
        in_order = all(
            [t for t in p if "Kherson burst" in t] == sorted(t for t in p if "Kherson burst" in t)
            for p in posts.values())
        per_channel = [sum("Kherson burst" in t for t in p) for p in posts.values()]
        private_expected = args.private_chats * len(queued_at)
        return {
            "bench": "channels", "channels": args.channels, "stories": args.stories,
            "per_minute": args.per_minute, "herald_global_rate": delivery.global_rate,
            "emulator_global_rate": 30, "expected_posts": expected,
            "delivered_posts": sum(per_channel),
            "channels_complete": sum(1 for c in per_channel if c == args.stories),
            "duplicated_posts": sum(max(0, c - args.stories) for c in per_channel),
            "posts_in_order": in_order, "burst_s": round(burst_s, 1),
            "posts_per_s": round(sum(per_channel) / burst_s, 2),
            "enqueue_burst_s": round(enqueue_s, 2),
            "rate_limited_429": stats["rate_limited"],
            "rate_limited_channel_posts": sum(1 for c in limited.hits if c < 0),
            "private_expected": private_expected,
            "private_delivered": len(latency["baseline"]) + len(latency["burst"]),
            "private_latency_alone": summary(latency["baseline"]),
            "private_latency_during_burst": summary(latency["burst"]),
            "private_chats": args.private_chats, "private_every_s": args.private_every,
            "load_avg": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        await client.aclose()
        emu.stop()
        await store.close()
        tmp.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--channels", type=int, default=50)
    p.add_argument("--stories", type=int, default=100)
    p.add_argument("--per-minute", type=int, default=20,
                   help="posts per minute to one channel (Herald and the emulator)")
    p.add_argument("--private-chats", type=int, default=100)
    p.add_argument("--private-every", type=float, default=10.0,
                   help="seconds between two stories for the private chats")
    p.add_argument("--baseline-stories", type=int, default=6)
    print(json.dumps(asyncio.run(run(p.parse_args()))))


if __name__ == "__main__":
    main()
