"""Replies and pushed alerts share one Telegram budget (issue 13, "Replies that vanish"):
commands sent while alerts fan out all get their answer, a multi-place /subscribe is one
transaction with one answer, and a flooding user gets one "slow down" and every answer
within the limit. The emulator enforces Telegram's per-chat and global rates throughout."""

from __future__ import annotations

import asyncio
from pathlib import Path

from e2e_harness import REPLY_TIMEOUT, item, running

from bot.config import LimitsConfig
from bot.domain import TagKind
from bot.testing.botapi import BotApiEmulator

USER = 701
FOLLOWERS = range(7100, 7130)  # 30 other chats that get the same alert
KHERSON = ("Four evacuation buses left Kherson on Tuesday with about 160 residents, the "
           "regional administration said.")
# The first words of each command's answer.
ANSWERS = {"/kherson": "Latest: Kherson", "/help": "Herald tells you", "/list":
           "This chat follows", "/latest": "Latest for what you follow", "/settings": "Settings"}


async def test_commands_during_a_fan_out_all_get_their_one_answer(tmp_path: Path) -> None:
    emu = BotApiEmulator()  # Telegram's limits: 30/s overall, 1/s per chat (burst 3)
    async with running(tmp_path, emulator=emu,
                       limits=LimitsConfig(commands_per_minute=100)) as bot:
        services = bot.services
        now = services.clock.now()
        for chat in (*FOLLOWERS, USER):
            await services.store.chats.upsert(chat, type="private", title=None, language="en",
                                              timezone="Europe/Kyiv", now=now)
            await services.need_alerts().subscribe(chat, TagKind.CITY, "kherson", "Kherson")
        since = emu.mark()
        await bot.publish("alpha", item("k-1", "Evacuation buses leave Kherson", KHERSON),
                          wait=False)
        await bot.emu.wait_for(lambda m: m.chat_id in FOLLOWERS, 30, since=since)
        # The fan-out is under way: the user types quickly.
        emu.user_message(USER, "/subscribe Kyiv, Kherson, Odesa")
        for command in ANSWERS:
            emu.user_message(USER, command)

        for answer in [*ANSWERS.values(), "Following"]:
            await emu.wait_for(lambda m, a=answer: m.chat_id == USER and a in m.plain,
                               4 * REPLY_TIMEOUT, since=since)
        await bot.settled()
        mine = [m.plain for m in emu.sent(USER) if not m.edited]
        for command, answer in ANSWERS.items():
            assert sum(answer in t for t in mine) == 1, (command, mine)
        # One answer for the three places, and all of them followed.
        follows = [t for t in mine if "Following" in t or "already follows" in t]
        assert len(follows) == 1, follows
        assert all(name in follows[0] for name in ("Kyiv", "Kherson", "Odesa")), follows
        subs = await services.store.chats.subscriptions(USER)
        assert {s.key for s in subs} >= {"kyiv", "kherson", "odesa"}
        # Every follower got its alert too: replies went first, alerts were not lost.
        assert all(bot.alerts(chat) for chat in (*FOLLOWERS, USER))


async def test_a_flooding_user_gets_one_notice_and_every_answer_within_the_limit(
        tmp_path: Path) -> None:
    limit = 5
    async with running(tmp_path, emulator=BotApiEmulator(),
                       limits=LimitsConfig(commands_per_minute=limit)) as bot:
        for _ in range(9):
            bot.emu.user_message(USER, "/help")
        notice = await bot.emu.wait_for(lambda m: "too fast" in m.plain, 4 * REPLY_TIMEOUT)
        assert notice.chat_id == USER
        # The commands within the limit go through every handler (their answers are sent
        # by then); the others stop at the throttle, where the one notice is sent.
        for _ in range(int(4 * REPLY_TIMEOUT / 0.05)):
            if len(bot.handled) >= limit:
                break
            await asyncio.sleep(0.05)
        texts = [m.plain for m in bot.emu.sent(USER)]
        assert sum("Herald tells you" in t for t in texts) == limit, texts
        assert sum("too fast" in t for t in texts) == 1, texts
