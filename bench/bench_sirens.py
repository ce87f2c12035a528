"""Official air-raid alerts benchmark, with emulators at both ends: the alerts API emulator
(bot/testing/alerts_api.py, in this process) and the Bot API emulator (another process).

latency:  the real poller (SirenService.run at alerts.requests_per_minute, default 8: one
          request every 7.5 s), the Sender and a few followed places; the list changes
          --changes times at random moments. Figure: from the change to the first message
          of it the Bot API emulator accepted, p50 / p95 / max (target p95 <= poll
          interval + 2 s).
fanout:   --chats chats following places in the Kharkiv oblast (towns, hromadas, raions,
          the oblast, the city of Kharkiv); an oblast-wide alert. Herald's Sender at
          delivery.global_rate = --rate, the emulator's limit --rate x 1.2 (Herald's 25
          against Telegram's 30 in production). Figures: change -> last message, against
          ceil(chats / rate) x 1.05 s; 429s; lost; duplicated; the API's requests per minute.

    .venv/bin/python bench/bench_sirens.py [--changes 20] [--chats 10000] [--rate 100]
        [--only latency,fanout]

Prints one JSON line of figures at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_fanout import Emulator
from sqlalchemy import insert
from telegram import Bot

from bot.alerts.service import AlertService
from bot.clock import Clock
from bot.config import AlertsConfig, DeliveryConfig, PollerConfig
from bot.delivery.sender import Sender
from bot.delivery.transport import LeanRequest
from bot.news.admin_units import get_admin_units
from bot.news.classify import get_classifier
from bot.news.fetch import guarded_client
from bot.sirens.client import AlertsApi
from bot.sirens.pacing import interval_s
from bot.sirens.service import SirenService
from bot.testing.alerts_api import AlertsApiEmulator
from bot.testing.alerts_day import api_location
from bot.testing.botapi import DEFAULT_TOKEN
from storage.store import Store
from storage.tables import chats, subscriptions

FIRST_CHAT = 20_000_000
KHARKIV_OBLAST = "UA63000000000041885"


async def add_followers(store: Store, follows: list[tuple[str, str]]) -> None:
    """One chat per (kind, key), straight into the tables (as users would over time)."""
    now = Clock().now()
    async with store.session.begin() as s:
        for start in range(0, len(follows), 2000):
            part = follows[start:start + 2000]
            await s.execute(insert(chats), [
                {"id": FIRST_CHAT + start + i, "type": "private", "language": "en",
                 "timezone": "Europe/Kyiv", "status": "active", "briefing_times": [],
                 "created_at": now, "updated_at": now} for i in range(len(part))])
            await s.execute(insert(subscriptions), [
                {"chat_id": FIRST_CHAT + start + i, "kind": kind, "key": key, "label": key,
                 "mode": "instant", "created_at": now} for i, (kind, key) in enumerate(part)])


class Rig:
    """Store, followers, alerts API emulator, SirenService and Sender, all running."""

    def __init__(self, tmp: str, bot_emu: Emulator, rate: float, rpm: float) -> None:
        self.tmp, self.bot_emu, self.rate, self.rpm = tmp, bot_emu, rate, rpm
        self.api = AlertsApiEmulator(time_fn=time.time)
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self, follows: list[tuple[str, str]]) -> None:
        self.store = await Store.open(f"sqlite+aiosqlite:///{self.tmp}/sirens.db")
        await add_followers(self.store, follows)
        clock = Clock()
        base = await self.api.start()
        self.bot = Bot(DEFAULT_TOKEN, base_url=self.bot_emu.base_url,
                       request=LeanRequest(32, read_timeout=30))
        await self.bot.initialize()
        self.sender = Sender(self.store, self.bot, DeliveryConfig(global_rate=self.rate), clock,
                             worker_id="bench")
        self.alerts = AlertService(self.store, get_classifier(), clock)
        await self.alerts.load()
        cfg = AlertsConfig(token=self.api.token, base_url=base, requests_per_minute=self.rpm)
        api = AlertsApi(guarded_client(PollerConfig(allow_private_addresses=True)), base,
                        cfg.token)
        self.sirens = SirenService(self.store, clock, cfg, self.alerts, api,
                                   on_enqueued=self.sender.wake)
        self.tasks = [asyncio.create_task(self.sender.run(self.stop)),
                      asyncio.create_task(self.sirens.run(self.stop))]

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.sirens.aclose()
        await self.bot.shutdown()
        await self.api.stop()
        await self.store.close()

    def declare(self, alert_id: int, code: str) -> float:
        """Start an air-raid alert at `code` now; the time of the change."""
        self.api.start_alert({"id": alert_id, **api_location(get_admin_units(), code),
                              "alert_type": "air_raid"})
        return time.time()


async def sent_since(emu: Emulator, since: int) -> list[dict[str, Any]]:
    return list(await emu.get(f"sent?since={since}"))


async def run_latency(args: argparse.Namespace) -> dict[str, Any]:
    units = get_admin_units()
    raions = units.codes_of_level("raion")
    rng = random.Random(5)
    places = rng.sample(raions, args.changes)
    emu = Emulator("--global-rate", "30", "--global-burst", "3")
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(tmp, emu, 25.0, args.rpm)
        try:
            await rig.start([("place", code) for code in places])
            await asyncio.sleep(2 * 60 / args.rpm)  # the first list read
            latencies = []
            for n, code in enumerate(places):
                await asyncio.sleep(rng.uniform(2.0, 12.0))
                mark = len(await sent_since(emu, 0))
                changed = rig.declare(1000 + n, code)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    got = [m for m in await sent_since(emu, mark) if "🔴" in m["text"]]
                    if got:
                        latencies.append(min(m["time"] for m in got) - changed)
                        break
                    await asyncio.sleep(0.05)
                else:
                    latencies.append(float("inf"))
            stats = rig.api.stats
        finally:
            await rig.close()
            emu.close()
    latencies.sort()
    interval = interval_s(args.rpm)
    p95 = latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]
    return {"changes": len(latencies), "poll_interval_s": round(interval, 2),
            "p50_s": round(statistics.median(latencies), 3), "p95_s": round(p95, 3),
            "max_s": round(latencies[-1], 3), "target_p95_s": interval + 2,
            "met": p95 <= interval + 2, "api_requests": stats.requests,
            "api_max_per_minute": stats.max_per_minute, "api_429": stats.rate_limited}


async def run_fanout(args: argparse.Namespace) -> dict[str, Any]:
    units = get_admin_units()
    inside: list[str] = []  # every unit of the oblast (rows follow the oblast's, by code)
    i = units.index(KHARKIV_OBLAST)
    j = i
    while j + 1 < units.n and units.codes[j + 1].startswith("UA63"):
        j += 1
        inside.append(units.codes[j])
    rng = random.Random(3)
    follows = [("city", "kharkiv") if n % 10 == 0 else ("place", KHARKIV_OBLAST)
               if n % 10 == 1 else ("place", rng.choice(inside)) for n in range(args.chats)]
    limit = args.rate * 1.2
    emu = Emulator("--global-rate", str(limit), "--global-burst", "3")
    with tempfile.TemporaryDirectory() as tmp:
        rig = Rig(tmp, emu, args.rate, args.rpm)
        try:
            await rig.start(follows)
            await asyncio.sleep(2 * 60 / args.rpm)
            changed = rig.declare(1, KHARKIV_OBLAST)
            deadline = time.monotonic() + args.chats / args.rate * 3 + 120
            while time.monotonic() < deadline:
                # the counters only: a big answer would stall the emulator mid-run
                if (await emu.get("stats"))["sent"] >= args.chats:
                    break
                await asyncio.sleep(1.0)
            await asyncio.sleep(2.0)  # anything sent twice would arrive now
            sent = await sent_since(emu, 0)
            bot_stats = await emu.get("stats")
            api_stats = rig.api.stats
        finally:
            await rig.close()
            emu.close()
    per_chat = Counter(m["chat_id"] for m in sent)
    times = sorted(m["time"] for m in sent)
    target = math.ceil(args.chats / args.rate) * 1.05
    last = times[-1] - changed if times else float("inf")
    return {"chats": args.chats, "rate": args.rate, "emulator_limit": limit,
            "delivered": len(per_chat), "lost": args.chats - len(per_chat),
            "duplicated": sum(n - 1 for n in per_chat.values()),
            "http_429": bot_stats["rate_limited"],
            "first_message_s": round(times[0] - changed, 3) if times else None,
            "last_message_s": round(last, 2), "target_s": round(target, 2),
            "met": last <= target and bot_stats["rate_limited"] == 0
            and len(per_chat) == args.chats,
            "api_requests": api_stats.requests, "api_max_per_minute": api_stats.max_per_minute,
            "api_429": api_stats.rate_limited}


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--changes", type=int, default=20)
    p.add_argument("--chats", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=DeliveryConfig().global_rate,
                   help="Herald's delivery.global_rate (default: Herald's default)")
    p.add_argument("--rpm", type=float, default=8.0, help="alerts.requests_per_minute")
    p.add_argument("--only", default="latency,fanout")
    args = p.parse_args()
    logging.getLogger().setLevel(logging.ERROR)
    only = set(args.only.split(","))
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(),
                                          "load_avg_1m": round(os.getloadavg()[0], 2)}}
    if "latency" in only:
        result["latency"] = await run_latency(args)
        print("latency", json.dumps(result["latency"]), file=sys.stderr)
    if "fanout" in only:
        result["fanout"] = await run_fanout(args)
        print("fanout", json.dumps(result["fanout"]), file=sys.stderr)
    result["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
