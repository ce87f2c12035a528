"""kill -9 while the edits of a grown story are being queued: after a restart every
follower's alert is edited once ("+1 source"), and nobody gets the story twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from bot.domain import SubscriptionMode, TagKind
from bot.testing.botapi import BotApiEmulator
from bot.testing.feed_server import FeedServer
from bot.testing.process import HeraldProcess, config_toml
from storage.store import Store

FOLLOWERS = 10
CHAT0 = 7000
TITLE = "Shelling in Kherson damages a school"
TEXT = "Russian artillery shelled Kherson overnight, damaging a school and two houses."


def rss(source: str, guid: str) -> bytes:
    now = format_datetime(datetime.now(UTC))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{source}</title>'
            f"<link>https://{source}.example/</link><item><title>{TITLE}</title>"
            f"<link>https://{source}.example/{guid}</link><guid>{guid}</guid>"
            f"<pubDate>{now}</pubDate><description>{TEXT}</description></item>"
            f"</channel></rss>").encode()


async def _wait(predicate, what: str, herald: HeraldProcess | None = None,  # type: ignore[no-untyped-def]
                timeout: float = 90.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if herald is not None and not herald.running():
            break
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


async def test_kill_9_while_queueing_edits_loses_none_and_repeats_none(tmp_path: Path) -> None:
    db = tmp_path / "herald.db"
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    now = datetime.now(UTC)
    try:
        for chat in range(CHAT0, CHAT0 + FOLLOWERS):
            await store.chats.upsert(chat, type="private", title=None, now=now)
            await store.chats.subscribe(chat, TagKind.CITY, "kherson", "Kherson",
                                        SubscriptionMode.INSTANT, now=now)
    finally:
        await store.close()
    emu = BotApiEmulator(enforce_limits=False)
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    feeds.set_feed("/one.xml", rss("one", "a1"))
    feeds.set_feed("/two.xml", empty)
    cfg = tmp_path / "herald.toml"
    cfg.write_text(config_toml(
        {"database": {"url": f"sqlite+aiosqlite:///{db}"},
         "telegram": {"polling_timeout": 1},
         "poller": {"tick_seconds": 0.2, "min_interval": 0, "max_interval": 0,
                    "allow_private_addresses": True, "timeout": 5.0, "cpu_workers": 0},
         "delivery": {"global_rate": 1000.0, "private_chat_rate": 100.0}},
        [{"name": "One", "url": feeds.url("/one.xml"), "poll_interval": 30},
         {"name": "Two", "url": feeds.url("/two.xml"), "poll_interval": 30}]))
    herald = HeraldProcess(cfg, base_url)

    def alerts() -> list[int]:
        return [m.chat_id for m in emu.sent() if TITLE in m.plain and not m.edited]

    def edited() -> list[int]:
        return [m.chat_id for m in emu.sent() if m.edited and "+1 source" in m.plain]

    try:
        # The second pass that queues alerts is the growth pass: killed right after it
        # put the edits in the outbox, before the story's mark was cleared.
        await herald.start(crash_at="alerts_queued:2")
        await _wait(lambda: len(alerts()) == FOLLOWERS, "the alerts", herald)
        feeds.set_feed("/two.xml", rss("two", "b1"))
        code = await herald.wait(90)
        assert code == -9, herald.stderr()
        await herald.start()
        await _wait(lambda: len(edited()) >= FOLLOWERS, "the edits")
        # A later story: each chat's messages go in order, so a repeated edit or alert
        # queued before it would have arrived by the time it has.
        later = ("Kherson water supply restored after repairs",
                 "Utility crews in Kherson restored the water supply on Friday.")
        feeds.set_feed("/one.xml", rss("one", "a1").replace(
            b"</channel>", f"<item><title>{later[0]}</title><link>https://one.example/a2"
                           f"</link><guid>a2</guid><description>{later[1]}</description>"
                           f"</item></channel>".encode()))
        await _wait(lambda: len({m.chat_id for m in emu.sent() if later[0] in m.plain})
                    == FOLLOWERS, "the later story")
        assert sorted(alerts()) == list(range(CHAT0, CHAT0 + FOLLOWERS))  # none twice
        assert sorted(edited()) == list(range(CHAT0, CHAT0 + FOLLOWERS))  # each edited once
        assert await herald.stop() == 0, herald.stderr()
    finally:
        herald.kill()
        await feeds.stop()
        await emu.stop()
