"""Fan-out benchmark: one story to N chats through the Bot API emulator.

The emulator runs in its own process (its CPU is not counted against the sender).

herald_default:   emulator enforcing --rate msg/s (burst 3) and 1 msg/s per chat; Herald's
                  Sender at its default delivery.global_rate (25, under Telegram's 30).
herald_tight:     the same with Herald's global_rate = the emulator's limit (--rate).
                  Figures: sustained rate, its share of Herald's configured rate and of
                  the emulator's limit, 429s, lost, duplicated.
herald_unlimited: emulator limits off; Herald's Sender as fast as it goes (msg/s), over
                  bot.delivery.transport.LeanRequest (herald_unlimited_httpx: over PTB's
                  default HTTPXRequest, at most 3,000 chats).
ptb_gather:       the same fan-out with python-telegram-bot's AIORateLimiter (defaults:
                  30 msg/s, no retries) and asyncio.gather, against the limited emulator.

    .venv/bin/python bench/bench_fanout.py [--chats 3000] [--fast-chats 10000] [--rate 30]
        [--only herald_default,herald_tight,herald_unlimited,herald_unlimited_httpx,ptb_gather]

Prints one JSON line of figures at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psutil
from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import BaseRequest, HTTPXRequest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.sender import Sender
from bot.delivery.transport import LeanRequest
from bot.domain import DeliveryKind, OutgoingMessage
from bot.testing.botapi import DEFAULT_TOKEN
from storage.store import Store

FIRST_CHAT = 10_000_000
ALERT = ('<b>Evacuation buses leave Kherson</b>\n'
         'Regional authorities said buses depart from the railway station every hour.\n'
         '<a href="https://example.org/news/kherson-evacuation">Source</a> · +2 sources\n'
         '#Kherson #humanitarian')


class Emulator:
    """The emulator in a child process, with its control endpoints."""

    def __init__(self, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.testing.botapi", "--port", "0", *extra],
            stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1])
        assert self.proc.stdout is not None
        self.base_url = json.loads(self.proc.stdout.readline())["base_url"]
        # The emulator judges rates by when it gets to a request; on a busy host a stall
        # of its own would bunch arrivals into "bursts" nobody sent. Give it priority.
        with contextlib.suppress(psutil.Error, OSError):
            psutil.Process(self.proc.pid).nice(-5)
        self.control = self.base_url.removesuffix("/bot") + "/_emulator/"

    async def get(self, what: str) -> Any:
        async with httpx.AsyncClient(timeout=60) as client:
            return (await client.get(self.control + what)).json()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def figures(emu: Emulator, chats: int, limit: float | None, wall: float, cpu: float,
                  configured: float | None = None) -> dict[str, Any]:
    """Delivery figures from the emulator's own record of what it accepted."""
    sent = await emu.get("sent")
    stats = await emu.get("stats")
    per_chat = Counter(m["chat_id"] for m in sent)
    times = sorted(m["time"] for m in sent)
    # Sustained rate: between 5% and 95% of the run, so start-up and the tail don't count.
    rate = 0.0
    if len(times) >= 20:
        lo, hi = times[len(times) // 20], times[len(times) * 19 // 20]
        rate = (len(times) * 19 // 20 - len(times) // 20) / max(hi - lo, 1e-9)
    out: dict[str, Any] = {
        "chats": chats,
        "delivered": len(per_chat),
        "lost": chats - len(per_chat),
        "duplicated": sum(n - 1 for n in per_chat.values()),
        "http_429": stats["rate_limited"],
        "requests": stats["requests"],
        "sustained_rate": round(rate, 2),
        "wall_seconds": round(wall, 2),
        "sender_cpu_ms_per_message": round(cpu / max(len(sent), 1) * 1000, 3),
    }
    if limit:
        out["emulator_limit"] = limit
        out["share_of_limit"] = round(rate / limit, 4)
    if configured:
        out["configured_rate"] = configured
        out["share_of_configured"] = round(rate / configured, 4)
    return out


async def run_herald(emu: Emulator, chats: int, cfg: DeliveryConfig,
                     max_in_flight: int, lean: bool = True) -> tuple[float, float]:
    """Enqueue the fan-out and drain it with Herald's Sender; (wall, cpu) seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(f"sqlite+aiosqlite:///{tmp}/fanout.db")
        await store.outbox.enqueue([
            OutgoingMessage(chat_id=FIRST_CHAT + i, kind=DeliveryKind.ALERT, text=ALERT,
                            story_id=1, dedup_key="story:1") for i in range(chats)])
        request: BaseRequest = (
            LeanRequest(max_in_flight, read_timeout=30) if lean
            else HTTPXRequest(connection_pool_size=max_in_flight, read_timeout=30))
        bot = Bot(DEFAULT_TOKEN, base_url=emu.base_url, request=request)
        async with bot:
            sender = Sender(store, bot, cfg, Clock(), worker_id="bench",
                            max_in_flight=max_in_flight)
            t0, c0 = time.monotonic(), cpu_seconds()
            await sender.drain(timeout=chats / min(cfg.global_rate, 50.0) * 4 + 120)
            wall, cpu = time.monotonic() - t0, cpu_seconds() - c0
        await store.close()
    return wall, cpu


async def run_ptb_gather(emu: Emulator, chats: int) -> tuple[float, float, dict[str, int]]:
    """The same fan-out with AIORateLimiter and asyncio.gather; (wall, cpu, errors)."""
    bot = ExtBot(DEFAULT_TOKEN, base_url=emu.base_url, rate_limiter=AIORateLimiter(),
                 request=HTTPXRequest(connection_pool_size=32, read_timeout=30,
                                      pool_timeout=600))
    errors: Counter[str] = Counter()

    async def one(chat_id: int) -> None:
        try:
            await bot.send_message(chat_id, ALERT, parse_mode="HTML")
        except TelegramError as exc:
            errors[type(exc).__name__] += 1

    async with bot:
        t0, c0 = time.monotonic(), cpu_seconds()
        await asyncio.gather(*(one(FIRST_CHAT + i) for i in range(chats)))
        wall, cpu = time.monotonic() - t0, cpu_seconds() - c0
    return wall, cpu, dict(errors)


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chats", type=int, default=3000, help="chats in the rate-limited runs")
    p.add_argument("--fast-chats", type=int, default=10000, help="chats with limits off")
    p.add_argument("--rate", type=float, default=30.0, help="emulator's global limit, msg/s")
    p.add_argument("--herald-rate", type=float, default=None,
                   help="Herald's delivery.global_rate (default: --rate)")
    p.add_argument("--in-flight", type=int, default=32, help="sender's concurrent requests")
    p.add_argument("--only", default="herald_default,herald_tight,herald_unlimited,"
                   "herald_unlimited_httpx,ptb_gather")
    args = p.parse_args()
    logging.getLogger("herald").setLevel(logging.ERROR)  # 429s are counted, not logged
    herald_rate = args.herald_rate or args.rate
    only = set(args.only.split(","))
    limited = ["--global-rate", str(args.rate), "--global-burst", "3"]
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(),
                                          "load_avg_1m": round(os.getloadavg()[0], 2)}}

    for name, rate in (("herald_default", DeliveryConfig().global_rate),
                       ("herald_tight", herald_rate)):
        if name not in only:
            continue
        emu = Emulator(*limited)
        try:
            cfg = DeliveryConfig(global_rate=rate)
            wall, cpu = await run_herald(emu, args.chats, cfg, args.in_flight)
            result[name] = await figures(emu, args.chats, args.rate, wall, cpu, rate)
        finally:
            emu.close()
        print(name, json.dumps(result[name]), file=sys.stderr)

    for name, lean, chats in (("herald_unlimited", True, args.fast_chats),
                              ("herald_unlimited_httpx", False, min(args.fast_chats, 3000))):
        if name not in only:
            continue
        emu = Emulator("--no-limits")
        try:
            cfg = DeliveryConfig(global_rate=1_000_000.0, batch_size=500)
            wall, cpu = await run_herald(emu, chats, cfg, args.in_flight, lean)
            result[name] = await figures(emu, chats, None, wall, cpu)
        finally:
            emu.close()
        print(name, json.dumps(result[name]), file=sys.stderr)

    if "ptb_gather" in only:
        emu = Emulator(*limited)
        try:
            wall, cpu, errors = await run_ptb_gather(emu, args.chats)
            result["ptb_gather"] = await figures(emu, args.chats, args.rate, wall, cpu,
                                                 args.rate)
            result["ptb_gather"]["errors"] = errors
        finally:
            emu.close()
        print("ptb_gather", json.dumps(result["ptb_gather"]), file=sys.stderr)

    result["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
