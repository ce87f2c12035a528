"""kill -9 of `herald run` at each crash point of the pipeline and the sender loses nothing.

Each test runs the real process (`python -m bot run`) against the Bot API emulator and the
local feed server, makes it kill itself at one named point (bot.ops.faults), starts it
again, and checks that every follower got the story: exactly once where nothing was in
flight at the kill, and at most once more for the sends in flight at a kill mid-send.
Then SIGTERM: a graceful stop exits 0.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.domain import SubscriptionMode, TagKind
from bot.testing.botapi import BotApiEmulator, SentMessage
from bot.testing.feed_server import FeedServer
from bot.testing.process import HeraldProcess, config_toml
from storage.store import Store

FOLLOWERS = 40
IN_FLIGHT = 32  # the sender's max_in_flight: what a kill mid-send may repeat
CHAT0 = 5000


def rss(items: list[tuple[str, str, str]]) -> bytes:
    now = format_datetime(datetime.now(UTC))
    body = "".join(
        f"<item><title>{title}</title><link>https://local.example/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>{now}</pubDate><description>{text}</description></item>"
        for guid, title, text in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title>'
            f"<link>https://local.example/</link>{body}</channel></rss>").encode()


STORY_1 = ("k1", "Shelling in Kherson damages a school",
           "Russian artillery shelled Kherson overnight, damaging a school and two houses.")
STORY_2 = ("k2", "Kherson water supply restored after repairs",
           "Utility crews in Kherson restored the water supply to the city centre on Friday.")


async def _prepare(db: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    now = datetime.now(UTC)
    try:
        for chat in range(CHAT0, CHAT0 + FOLLOWERS):
            await store.chats.upsert(chat, type="private", title=None, now=now)
            await store.chats.subscribe(chat, TagKind.CITY, "kherson", "Kherson",
                                        SubscriptionMode.INSTANT, now=now)
    finally:
        await store.close()


def _about(title: str):  # type: ignore[no-untyped-def]
    return lambda m: title in m.plain and CHAT0 <= m.chat_id < CHAT0 + FOLLOWERS


async def _all_got(emu: BotApiEmulator, title: str, timeout: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while len({m.chat_id for m in emu.sent() if _about(title)(m)}) < FOLLOWERS:
        if asyncio.get_running_loop().time() > deadline:
            got = len({m.chat_id for m in emu.sent() if _about(title)(m)})
            raise TimeoutError(f"{got} of {FOLLOWERS} chats got {title!r}")
        await asyncio.sleep(0.05)


def _copies(messages: list[SentMessage], title: str) -> dict[int, int]:
    out: dict[int, int] = {}
    for m in messages:
        if _about(title)(m) and not m.edited:
            out[m.chat_id] = out.get(m.chat_id, 0) + 1
    return out


@pytest.mark.parametrize("point", ["stored", "alerts_queued", "claimed", "sent"])
async def test_kill_9_at_each_point_loses_no_alert(tmp_path: Path, point: str) -> None:
    db = tmp_path / "herald.db"
    await _prepare(db)
    emu = BotApiEmulator(enforce_limits=False)
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    feeds.set_feed("/local.xml", rss([]))
    cfg = tmp_path / "herald.toml"
    cfg.write_text(config_toml(
        {"database": {"url": f"sqlite+aiosqlite:///{db}"},
         "telegram": {"polling_timeout": 1},
         "poller": {"tick_seconds": 0.2, "min_interval": 0, "max_interval": 0,
                    "allow_private_addresses": True, "timeout": 5.0, "cpu_workers": 0},
         "delivery": {"global_rate": 1000.0, "private_chat_rate": 100.0}},
        [{"name": "Local News", "url": feeds.url("/local.xml"), "poll_interval": 30}]))
    herald = HeraldProcess(cfg, base_url)
    try:
        # 1. The source is read once empty (nothing to alert), then the story appears.
        await herald.start(crash_at=point)
        target = feeds.request_count("/local.xml") + 1
        while feeds.request_count("/local.xml") < target:
            assert herald.running(), herald.stderr()
            await asyncio.sleep(0.05)
        feeds.set_feed("/local.xml", rss([STORY_1]))
        code = await herald.wait(90)
        assert code == -9, f"expected the crash point to kill it:\n{herald.stderr()}"
        before = sum(_copies(emu.sent(), STORY_1[1]).values())
        if point in ("stored", "alerts_queued", "claimed"):
            assert before == 0  # killed before anything was sent

        # 2. Started again: every follower gets the story.
        await herald.start()
        await _all_got(emu, STORY_1[1])
        # A later story, sent after any repeat of the first could have been: then count.
        feeds.set_feed("/local.xml", rss([STORY_2, STORY_1]))
        await _all_got(emu, STORY_2[1])
        copies = _copies(emu.sent(), STORY_1[1])
        assert set(copies) == set(range(CHAT0, CHAT0 + FOLLOWERS))
        repeated = sum(n - 1 for n in copies.values())
        if point == "sent":
            assert repeated <= IN_FLIGHT  # only the sends in flight at the kill
        else:
            assert repeated == 0
        assert all(n == 1 for n in _copies(emu.sent(), STORY_2[1]).values())

        # 3. SIGTERM is a graceful stop.
        assert await herald.stop() == 0, herald.stderr()
    finally:
        herald.kill()
        await feeds.stop()
        await emu.stop()
