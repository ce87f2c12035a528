"""A channel following Kherson gets each matching story once and in order, while `herald run`
is killed with SIGKILL at the crash points (bot.ops.faults) between stories.

Each restart is a new leader term (the sender takes over rows claimed before the kill), as
after a leader change. Only a kill right after Telegram accepted a post (before it was
recorded) may repeat that one post: a channel has one post in flight at a time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import select

from bot.domain import TagKind
from bot.testing.botapi import BotApiEmulator
from bot.testing.feed_server import FeedServer
from bot.testing.process import HeraldProcess, config_toml
from storage.store import Store
from storage.tables import stories

CHANNEL = -1001000000777
STORIES = [
    ("c1", "Kherson school damaged by overnight shelling",
     "Russian artillery shelled Kherson overnight, damaging a school and two houses."),
    ("c2", "Kherson water supply restored after repairs",
     "Utility crews in Kherson restored the water supply to the city centre on Friday."),
    ("c3", "Kherson market reopens after a month",
     "The central market in Kherson reopened on Sunday with forty stalls trading."),
    ("c4", "Kherson hospital receives new generators",
     "Two hospitals in Kherson received diesel generators donated by Denmark."),
    ("c5", "Kherson ferry to the left bank suspended",
     "The ferry service across the Dnipro near Kherson was suspended after drone attacks."),
    ("c6", "Kherson schools move lessons underground",
     "Three schools in Kherson will teach in basement shelters from next week."),
    ("c7", "UN convoy brings food to Kherson villages",
     "A United Nations convoy delivered food and medicine to eleven villages near Kherson."),
]
# (crash point, stories published while the process runs with it)
RUNS = [("alerts_queued", 2), ("claimed", 2), ("sent:2", 2), (None, 1)]


def rss(items: list[tuple[str, str, str]]) -> bytes:
    now = format_datetime(datetime.now(UTC))
    body = "".join(
        f"<item><title>{title}</title><link>https://local.example/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>{now}</pubDate><description>{text}</description></item>"
        for guid, title, text in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
            f"<link>https://local.example/</link>{body}</channel></rss>").encode()


async def _prepare(db_url: str) -> None:
    store = await Store.open(db_url)
    now = datetime.now(UTC)
    try:
        await store.channels.register(CHANNEL, username="kherson_news", title="Kherson News",
                                      admin_id=7, language="en", timezone="UTC", now=now)
        await store.chats.subscribe(CHANNEL, TagKind.CITY, "kherson", "Kherson", now=now)
    finally:
        await store.close()


async def _story_order(db_url: str) -> list[str]:
    store = await Store.open(db_url)
    try:
        async with store.session.begin() as s:
            return list((await s.execute(select(stories.c.title)
                                         .order_by(stories.c.id))).scalars())
    finally:
        await store.close()


def _posts(emu: BotApiEmulator) -> list[str]:
    titles = {t for _g, t, _x in STORIES}
    return [next(t for t in titles if t in m.plain) for m in emu.sent(CHANNEL)
            if not m.edited and any(t in m.plain for t in titles)]


async def test_channel_gets_each_story_once_in_order_across_kill_9(tmp_path: Path,
                                                                  db_url: str) -> None:
    """SQLite: one process started again after each kill; PostgreSQL: each new process
    takes the leader lock the killed one held (a leader change)."""
    await _prepare(db_url)
    emu = BotApiEmulator(enforce_limits=False)
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    emu.add_channel(CHANNEL, username="kherson_news", title="Kherson News", by_user_id=None)
    feeds.set_feed("/local.xml", rss([]))
    cfg = tmp_path / "herald.toml"
    cfg.write_text(config_toml(
        {"database": {"url": db_url},
         "telegram": {"polling_timeout": 1},
         "poller": {"tick_seconds": 0.2, "min_interval": 0, "max_interval": 0,
                    "allow_private_addresses": True, "timeout": 5.0, "cpu_workers": 0},
         # posts to one channel 0.1 s apart, so the test takes seconds, not minutes
         "delivery": {"global_rate": 1000.0, "private_chat_rate": 100.0,
                      "group_per_minute": 600}},
        [{"name": "Local News", "url": feeds.url("/local.xml"), "poll_interval": 30}]))
    herald = HeraldProcess(cfg, base_url)
    published: list[tuple[str, str, str]] = []
    repeats_allowed = 0
    try:
        for point, count in RUNS:
            # New stories, then a process that dies at its crash point (on them, or on
            # what the previous one left in the outbox).
            published = STORIES[:len(published) + count]
            feeds.set_feed("/local.xml", rss(list(reversed(published))))
            await herald.start(crash_at=point)
            if point is None:
                break
            assert await herald.wait(90) == -9, herald.stderr()
            repeats_allowed += point.startswith("sent")

        deadline = asyncio.get_running_loop().time() + 90
        while len(set(_posts(emu))) < len(published):
            assert asyncio.get_running_loop().time() < deadline, (
                f"the channel got {sorted(set(_posts(emu)))}\n{herald.stderr()[-3000:]}")
            await asyncio.sleep(0.05)
        assert await herald.stop() == 0, herald.stderr()

        posts = _posts(emu)
        once = [t for i, t in enumerate(posts) if i == 0 or posts[i - 1] != t]
        assert once == await _story_order(db_url)  # each story, in the order Herald stored them
        assert len(once) == len(published) == len(set(once))
        assert len(posts) - len(once) <= repeats_allowed  # only the post in flight at a kill
    finally:
        herald.kill()
        await feeds.stop()
        await emu.stop()
