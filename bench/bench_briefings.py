"""Benchmark: 10,000 chats whose briefing is due at the same moment (08:00 local).

Every briefing is composed by the real BriefingService from stories in the store, enqueued
in the outbox, and sent by the real Sender to the Bot API emulator, which enforces
Telegram-like limits (global rate, 1 message/s per chat, 429 with retry_after). Goal: all
sent within ceil(messages / rate) x 1.05 seconds, and composing one briefing <= 5 ms on
average. Herald's delivery.global_rate and the emulator's global rate are the same
(--rate; Telegram's real figure is about 30/s, which would make one run take ~6 minutes).
Prints one JSON line of figures at the end.

    .venv/bin/python bench/bench_briefings.py [--chats 10000] [--rate 500] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import insert
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.alerts.briefing_service import BriefingService
from bot.alerts.slots import next_slot, zone_for
from bot.clock import FakeClock
from bot.config import BriefingConfig, DeliveryConfig
from bot.delivery.sender import Sender
from bot.domain import CleanItem, SourceConfig, TagKind, Tags
from bot.news.classify import get_classifier
from bot.testing.botapi import DEFAULT_TOKEN
from storage.repos.news import NewItem
from storage.store import Store
from storage.tables import chats, subscriptions

ROOT = Path(__file__).resolve().parent.parent
TZ = "Europe/Kyiv"
SLOT = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 08:00 in Kyiv
CITIES = ["kherson", "kyiv", "kharkiv", "odesa", "dnipro", "lviv", "mykolaiv", "sumy",
          "zaporizhzhia", "chernihiv", "poltava", "vinnytsia"]
TOPICS = ["sanctions", "humanitarian", "energy", "economy", "air_raid"]
SENTENCES = [
    "Officials in {city} said evacuation buses would leave in the morning.",
    "The regional administration reported damage to power lines.",
    "Residents of {city} were asked to stay in shelters during the alert.",
    "Aid convoys reached the outskirts of {city} after the bridge reopened.",
    "Prices for bread rose again according to the statistics office.",
    "Engineers worked through the night to restore water supply.",
]


async def seed_news(store: Store, n_stories: int, rnd: random.Random) -> None:
    """Stories over the 24 hours before the slot, tagged with cities and topics."""
    src_ids = []
    for i in range(3):
        src = await store.sources.add(SourceConfig(name=f"Bench {i}",
                                                   url=f"https://bench{i}.example/rss"),
                                      now=SLOT - timedelta(days=2))
        src_ids.append(src.id)
    batch: list[NewItem] = []
    k = 0
    for i in range(n_stories):
        city = rnd.choice(CITIES)
        topics = tuple(rnd.sample(TOPICS, rnd.choice((0, 1, 1, 2))))
        when = SLOT - timedelta(minutes=rnd.randrange(10, 24 * 60))
        title = f"{city.title()}: story {i} about {' and '.join(topics) or 'the day'}"
        text = " ".join(s.format(city=city.title()) for s in rnd.sample(SENTENCES, 4))
        sources = rnd.choice((1, 1, 1, 2, 3))
        first = len(batch)
        for j in range(sources):
            k += 1
            item = CleanItem(source_id=src_ids[j], key=f"bench-{k}", guid=None,
                             url=f"https://bench{j}.example/{k}", title=title, text=text,
                             published_at=when, language="en")
            batch.append(NewItem(item=item, summary=text[:200],
                                 tags=Tags(cities=(city,), topics=topics), fetched_at=when,
                                 # later items join the lead's story (an index in the batch)
                                 same_as=first if j else None))
        if len(batch) >= 400:  # flushed between stories, so `first` stays a valid index
            await store.news.add_items(batch)
            batch = []
    if batch:
        await store.news.add_items(batch)


async def seed_chats(store: Store, n_chats: int, rnd: random.Random) -> None:
    """n chats in Kyiv with an 08:00 briefing due now, each following 1-3 cities/topics."""
    slot = next_slot(["08:00"], TZ, SLOT - timedelta(minutes=1))
    assert slot == SLOT
    created = SLOT - timedelta(days=3)
    chat_rows = [{"id": 10_000_000 + i, "type": "private", "title": None,
                  "language": "uk" if i % 2 else "en", "timezone": TZ, "status": "active",
                  "briefing_times": ["08:00"], "skip_empty_briefing": False,
                  "quiet_mode": "silent", "alerts_per_hour": 0, "next_briefing_at": slot,
                  "created_at": created, "updated_at": created} for i in range(n_chats)]
    sub_rows: list[dict[str, Any]] = []
    for row in chat_rows:
        picks = rnd.sample(CITIES, rnd.choice((1, 1, 2))) + rnd.sample(TOPICS, rnd.choice((0, 1)))
        for key in picks:
            kind = TagKind.CITY if key in CITIES else TagKind.TOPIC
            sub_rows.append({"chat_id": row["id"], "kind": kind.value, "key": key,
                             "label": key.replace("_", " ").title(),
                             "mode": rnd.choice(("instant", "instant", "briefing")),
                             "created_at": created})
    async with store.session.begin() as s:
        for i in range(0, len(chat_rows), 2000):
            await s.execute(insert(chats), chat_rows[i:i + 2000])
        for i in range(0, len(sub_rows), 2000):
            await s.execute(insert(subscriptions), sub_rows[i:i + 2000])


class Emulator:
    """The Bot API emulator in its own process (Telegram is not in our event loop either)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def start(self) -> str:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.testing.botapi", "--port", "0",
             "--global-rate", str(self.rate)],
            stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
        assert self.proc.stdout is not None
        self.base_url = json.loads(self.proc.stdout.readline())["base_url"]
        return self.base_url

    async def stats(self, client: httpx.AsyncClient) -> dict[str, Any]:
        root = self.base_url.rsplit("/bot", 1)[0]
        return dict((await client.get(f"{root}/_emulator/stats")).json())

    async def sent(self, client: httpx.AsyncClient) -> list[dict[str, Any]]:
        root = self.base_url.rsplit("/bot", 1)[0]
        return list((await client.get(f"{root}/_emulator/sent")).json())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rnd = random.Random(7)
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}"
    store = await Store.open(url)
    emu = Emulator(args.rate)
    base_url = emu.start()
    clock = FakeClock(SLOT + timedelta(seconds=20))  # 08:00:20 in Kyiv: the slot is due
    client = httpx.AsyncClient(timeout=30)
    try:
        t = time.perf_counter()
        await seed_news(store, args.stories, rnd)
        await seed_chats(store, args.chats, rnd)
        seed_s = time.perf_counter() - t

        delivery = DeliveryConfig(global_rate=args.rate, batch_size=args.batch)
        bot = Bot(DEFAULT_TOKEN, base_url=base_url,
                  request=HTTPXRequest(connection_pool_size=32, pool_timeout=30.0))
        await bot.initialize()
        sender = Sender(store, bot, delivery, clock, worker_id="bench", poll_interval=0.2)
        briefings = BriefingService(store, get_classifier(), clock, BriefingConfig(),
                                    on_enqueued=sender.wake)
        stop = asyncio.Event()
        sending = asyncio.create_task(sender.run(stop))

        t0 = time.perf_counter()
        messages = await briefings.run_due()
        enqueue_s = time.perf_counter() - t0
        budget = math.ceil(messages / args.rate) * 1.05
        deadline = t0 + max(budget * 3, 60)
        stats = await emu.stats(client)
        while stats["sent"] < messages and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
            stats = await emu.stats(client)
        elapsed = time.perf_counter() - t0
        stop.set()
        await sending
        await bot.shutdown()

        again = await BriefingService(store, None, clock, BriefingConfig()).run_due()
        sent = await emu.sent(client)
        per_chat = {m["chat_id"] for m in sent}
        compose_ms = briefings.compose_seconds / max(briefings.composed, 1) * 1000
        return {
            "bench": "briefings", "chats": args.chats, "stories": args.stories,
            "messages": messages, "delivered": stats["sent"],
            "chats_reached": len(per_chat), "rate": args.rate,
            "budget_s": round(budget, 2), "elapsed_s": round(elapsed, 2),
            "compose_and_enqueue_s": round(enqueue_s, 2),
            "compose_ms_avg": round(compose_ms, 3), "composed": briefings.composed,
            "rate_limited_429": stats["rate_limited"], "second_pass_messages": again,
            "seed_s": round(seed_s, 1),
            "db": "sqlite" if url.startswith("sqlite") else "postgresql",
            "local_slot": SLOT.astimezone(zone_for(TZ)).strftime("%H:%M"),
            "ok_time": elapsed <= budget and stats["sent"] == messages,
            "ok_compose": compose_ms <= 5.0,
        }
    finally:
        await client.aclose()
        emu.stop()
        await store.close()
        tmp.cleanup()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--chats", type=int, default=10_000)
    p.add_argument("--stories", type=int, default=150)
    p.add_argument("--rate", type=float, default=500.0,
                   help="delivery.global_rate and the emulator's global limit, msg/s")
    p.add_argument("--batch", type=int, default=1000, help="delivery.batch_size")
    p.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    figures = asyncio.run(run(p.parse_args()))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
