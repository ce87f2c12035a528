"""An air-raid alert overtakes the news a chat already has queued in the sender, in order,
and nothing is sent twice (the Bot API emulator, a real Sender and SQLite)."""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.sender import Sender
from bot.domain import DeliveryKind, OutgoingMessage
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator
from storage.store import Store


async def test_sirens_overtake_queued_news_without_duplicates(sqlite_store: Store) -> None:
    emu = BotApiEmulator(enforce_limits=False)
    url = await emu.start()
    bot = Bot(DEFAULT_TOKEN, base_url=url, request=HTTPXRequest(read_timeout=5))
    await bot.initialize()
    cfg = DeliveryConfig(global_rate=1000.0, private_chat_rate=5.0, batch_size=100)
    sender = Sender(sqlite_store, bot, cfg, Clock(), worker_id="t", poll_interval=0.05)
    stop = asyncio.Event()
    try:
        await sqlite_store.outbox.enqueue([OutgoingMessage(
            chat_id=1, kind=DeliveryKind.ALERT, text=f"news {i}") for i in range(8)])
        task = asyncio.create_task(sender.run(stop))
        await emu.wait_for(lambda m: m.plain == "news 0", timeout=20, since=0)
        await sqlite_store.outbox.enqueue([
            OutgoingMessage(chat_id=1, kind=DeliveryKind.SIREN, text=f"siren {i}",
                            dedup_key=f"siren:{i}") for i in (1, 2)])
        sender.wake()
        await emu.wait_for(lambda m: m.plain == "news 7", timeout=30, since=0)
        await asyncio.sleep(0.3)
        order = [m.plain for m in emu.sent(1)]
        assert sorted(order) == sorted([f"news {i}" for i in range(8)] + ["siren 1", "siren 2"])
        assert order.index("siren 1") < order.index("siren 2") < order.index("news 5")
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await bot.shutdown()
        await emu.stop()


async def test_pin_rows_pin_the_sent_alert_and_fail_when_it_was_not_sent(
        sqlite_store: Store) -> None:
    channel = -1001000000031
    emu = BotApiEmulator(enforce_limits=False)
    url = await emu.start()
    emu.add_channel(channel, username="izium_news", by_user_id=None)
    bot = Bot(DEFAULT_TOKEN, base_url=url, request=HTTPXRequest(read_timeout=5))
    await bot.initialize()
    cfg = DeliveryConfig(global_rate=1000.0, private_chat_rate=5.0, batch_size=100)
    sender = Sender(sqlite_store, bot, cfg, Clock(), worker_id="t", poll_interval=0.05)
    stop = asyncio.Event()
    store = sqlite_store
    try:
        await store.outbox.enqueue([
            OutgoingMessage(chat_id=channel, kind=DeliveryKind.SIREN, text="siren 1",
                            dedup_key="siren:1"),
            OutgoingMessage(chat_id=channel, kind=DeliveryKind.PIN, text="",
                            dedup_key="pin:1"),
            # the post of event 2 never existed: nothing to pin
            OutgoingMessage(chat_id=channel, kind=DeliveryKind.PIN, text="",
                            dedup_key="pin:2"),
            OutgoingMessage(chat_id=channel, kind=DeliveryKind.SIREN, text="siren 3",
                            dedup_key="siren:3")])
        task = asyncio.create_task(sender.run(stop))
        post = await emu.wait_for(lambda m: m.plain == "siren 3", timeout=20, since=0)
        first = emu.sent(channel)[0]
        assert emu.pinned[channel] == [first.message_id] != [post.message_id]
        await store.outbox.enqueue([OutgoingMessage(
            chat_id=channel, kind=DeliveryKind.UNPIN, text="", dedup_key="unpin:1")])
        sender.wake()
        deadline = asyncio.get_running_loop().time() + 20
        while emu.pinned[channel]:
            assert asyncio.get_running_loop().time() < deadline, "not unpinned"
            await asyncio.sleep(0.05)
        counts = await store.outbox.counts()
        assert counts.get("failed") == 1, counts
        assert [m.plain for m in emu.sent(channel)] == ["siren 1", "siren 3"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await bot.shutdown()
        await emu.stop()
