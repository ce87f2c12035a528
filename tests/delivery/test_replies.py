"""ReplyGate: a reply meets a 429 from Telegram (here the emulator, whose per-chat budget was
used up behind the limiter's back) and goes out late instead of being lost."""

from __future__ import annotations

import time

import pytest
from telegram import Bot

from bot.delivery.limiter import RateLimiter
from bot.delivery.replies import ReplyGate
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
CHAT = 42


async def test_a_reply_waits_out_a_429_and_is_delivered() -> None:
    emu = BotApiEmulator(chat_rate=1.0, chat_burst=3.0)
    base_url = await emu.start()
    bot = Bot(DEFAULT_TOKEN, base_url=base_url)
    try:
        await bot.initialize()
        for i in range(3):  # another sender used the chat's burst; the limiter did not see it
            await bot.send_message(CHAT, f"elsewhere {i}")
        limiter = RateLimiter(30.0)
        gate = ReplyGate(limiter)
        started = time.monotonic()
        message = await gate.send(CHAT, lambda: bot.send_message(CHAT, "the answer"))
        assert message.text == "the answer"
        assert gate.rate_limited == 1 and emu.stats.rate_limited == 1
        assert time.monotonic() - started >= 0.9  # Telegram said: retry after 1 s
        assert [m.plain for m in emu.sent(CHAT)][-1] == "the answer"
    finally:
        await bot.shutdown()
        await emu.stop()


async def test_a_reply_gives_up_only_after_its_patience() -> None:
    emu = BotApiEmulator(chat_rate=0.01, chat_burst=1.0)  # the next slot in 100 s
    base_url = await emu.start()
    bot = Bot(DEFAULT_TOKEN, base_url=base_url)
    try:
        await bot.initialize()
        await bot.send_message(CHAT, "elsewhere")
        gate = ReplyGate(RateLimiter(30.0), patience=10.0)
        with pytest.raises(Exception, match="Flood control exceeded"):
            await gate.send(CHAT, lambda: bot.send_message(CHAT, "the answer"))
        assert gate.rate_limited == 1  # it did not sleep 100 s: that is beyond its patience
    finally:
        await bot.shutdown()
        await emu.stop()
