"""Benchmark: answers to commands while an alert fans out, through the real bot.

The whole bot (runner.serve) against the Bot API emulator, which enforces Telegram's limits
(30 msg/s overall, 1 msg/s per chat with a burst of 3) and answers 429 to any excess. N chats
follow Kherson; one Kherson story is published; while its N alerts go out at Herald's
configured rate, U other users each send /kherson (one every `--gap` seconds), and one more
user sends "/subscribe Kyiv, Odesa, Lviv" and four other commands at once. Figures: how long
each answer took (from the user's message to the emulator accepting the answer), answers
lost, 429s, and the fan-out's rate. Prints one JSON line at the end.

    .venv/bin/python bench/bench_replies.py [--followers 600] [--users 20] [--gap 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from bot.config import Config, DeliveryConfig, LimitsConfig, PollerConfig, TelegramConfig
from bot.domain import SourceConfig, TagKind
from bot.runtime import Runtime
from bot.telegram.runner import serve
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator
from bot.testing.feed_server import FeedServer

FOLLOWER0 = 100_000
USER0 = 900_000
BUSY_USER = 999_999
BURST = ["/subscribe Kyiv, Odesa, Lviv", "/kherson", "/help", "/latest", "/list"]
STORY = ("<item><title>Evacuation buses leave Kherson</title>"
         "<link>https://alpha.example/news/1</link><guid>k-1</guid><pubDate>{date}</pubDate>"
         "<description>Four evacuation buses left Kherson with about 160 residents, the "
         "regional administration said.</description></item>")


def feed(items: str = "") -> bytes:
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>alpha</title>'
            f"<link>https://alpha.example/</link><description>a</description>{items}"
            "</channel></rss>").encode()


async def run(followers: int, users: int, gap: float) -> dict[str, object]:
    emu = BotApiEmulator()  # Telegram's limits, enforced
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    feeds.set_feed("/alpha.xml", feed())
    tmp = Path(tempfile.mkdtemp(prefix="herald-bench-replies-"))
    cfg = Config(
        telegram=TelegramConfig(token=DEFAULT_TOKEN, base_url=base_url,
                                base_file_url=base_url.replace("/bot", "/file/bot"),
                                polling_timeout=1),
        poller=PollerConfig(tick_seconds=0.2, min_interval=0, max_interval=0,
                            allow_private_addresses=True),
        delivery=DeliveryConfig(),  # Herald's defaults: 25 msg/s overall, 1 msg/s per chat
        limits=LimitsConfig(commands_per_minute=600),
        sources=(SourceConfig(name="Alpha", url=feeds.url("/alpha.xml"), poll_interval=30),),
    )
    cfg = replace(cfg, database=replace(cfg.database, url=f"sqlite+aiosqlite:///{tmp}/h.db"))
    stop = asyncio.Event()
    ready: asyncio.Future[Runtime] = asyncio.get_running_loop().create_future()

    async def on_ready(runtime: Runtime) -> None:
        ready.set_result(runtime)

    bot = asyncio.create_task(serve(cfg, stop=stop, ready=on_ready))
    runtime = await asyncio.wait_for(ready, 60)
    services = runtime.services
    assert services is not None
    now = services.clock.now()
    for chat in range(FOLLOWER0, FOLLOWER0 + followers):
        await services.store.chats.upsert(chat, type="private", title=None, now=now)
        await services.need_alerts().subscribe(chat, TagKind.CITY, "kherson", "Kherson")

    feeds.set_feed("/alpha.xml", feed(STORY.format(date=format_datetime(datetime.now(UTC)))))
    await emu.wait_for(lambda m: FOLLOWER0 <= m.chat_id < USER0, 60, since=0)
    sent_at: dict[int, float] = {}
    for chat in range(USER0, USER0 + users):
        if chat == USER0 + users // 2:
            for text in BURST:  # one user types five commands at once
                emu.user_message(BUSY_USER, text)
            sent_at[BUSY_USER] = time.time()
        emu.user_message(chat, "/kherson")
        sent_at[chat] = time.time()
        await asyncio.sleep(gap)

    def followers_done() -> bool:
        return len({m.chat_id for m in emu.sent() if FOLLOWER0 <= m.chat_id < USER0}) \
            >= followers

    for _ in range(int((followers / 10 + 120) / 0.1)):
        if followers_done():
            break
        await asyncio.sleep(0.1)
    times = [m.time for m in emu.sent() if FOLLOWER0 <= m.chat_id < USER0]
    await asyncio.sleep(max(5.0, len(BURST) * 1.5))  # the busy user's answers are paced
    latencies = []
    lost = 0
    for chat in range(USER0, USER0 + users):
        answer = next((m for m in emu.sent(chat) if "Latest: Kherson" in m.plain), None)
        if answer is None:
            lost += 1
        else:
            latencies.append(answer.time - sent_at[chat])
    busy = [m.plain for m in emu.sent(BUSY_USER)]
    busy_answered = sum(1 for text in busy if any(
        key in text for key in ("Following", "Latest: Kherson", "Herald tells you",
                                "Latest for what you follow", "This chat follows")))
    stop.set()
    await asyncio.wait_for(bot, 30)
    await feeds.stop()
    await emu.stop()
    alerts = len({m.chat_id for m in emu.sent() if FOLLOWER0 <= m.chat_id < USER0})
    return {
        "followers": followers, "alerts_delivered": alerts,
        "fan_out_seconds": round(max(times) - min(times), 2),
        "fan_out_rate": round(alerts / max(0.001, max(times) - min(times)), 1),
        "users": users, "answers_lost": lost + (len(BURST) - busy_answered),
        "answer_p50_ms": round(statistics.median(latencies) * 1000) if latencies else None,
        "answer_p95_ms": round(statistics.quantiles(latencies, n=20)[-1] * 1000)
        if len(latencies) >= 2 else None,
        "answer_max_ms": round(max(latencies) * 1000) if latencies else None,
        "busy_user_answers": f"{busy_answered} of {len(BURST)}",
        "rate_limited_429": emu.stats.rate_limited,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--followers", type=int, default=600)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--gap", type=float, default=0.5)
    args = p.parse_args()
    print(json.dumps(asyncio.run(run(args.followers, args.users, args.gap))))


if __name__ == "__main__":
    main()
