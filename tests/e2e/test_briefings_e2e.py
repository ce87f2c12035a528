"""Briefings end to end: the real runtime and handlers against the Bot API emulator.

A user sets Europe/Kyiv, a briefing two minutes ahead and Ukrainian, follows Kherson; a
story about Kherson is published; at the briefing time exactly one briefing arrives, in
Ukrainian; a restart at that minute does not send a second one. The clock is driven by
the test (the poller and sender run in real time; only "now" is the test's).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from e2e_harness import ALERT_TIMEOUT, Harness, e2e_config, item

from bot.clock import FakeClock
from bot.domain import DeliveryKind
from bot.runtime import Runtime
from bot.telegram.runner import serve
from bot.testing.botapi import BotApiEmulator, SentMessage
from bot.testing.feed_server import FeedServer

USER = 501
START = datetime(2026, 11, 26, 5, 50, tzinfo=UTC)  # 07:50 in Kyiv


class HandClock(FakeClock):
    """Now moves only when the test says; sleeping takes real time (the loops keep going)."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.5))


@contextlib.asynccontextmanager
async def bot_running(h: Harness, clock: HandClock) -> AsyncIterator[Harness]:
    """Run the bot (runner.serve) on the harness's emulator, feeds and database."""
    h.stop = asyncio.Event()
    ready = asyncio.Event()

    async def on_ready(runtime: Runtime) -> None:
        h.runtime = runtime
        ready.set()

    task = asyncio.create_task(serve(h.cfg, clock=clock, stop=h.stop, ready=on_ready))
    try:
        done, _ = await asyncio.wait([task, asyncio.create_task(ready.wait())], timeout=60,
                                     return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        assert ready.is_set(), "the bot did not start within 60 s"
        yield h
    finally:
        h.stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 20)


def briefings(emu: BotApiEmulator) -> list[SentMessage]:
    return [m for m in emu.sent(USER) if "Брифінг Herald" in m.text or "Herald briefing"
            in m.text]


async def test_briefing_in_ukrainian_once_across_a_restart(tmp_path: Path) -> None:
    emu = BotApiEmulator(chat_burst=5.0)
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    clock = HandClock(START)
    h = Harness(emu, feeds, e2e_config(tmp_path / "herald.db", base_url, feeds))
    h.serve_feeds()
    try:
        async with bot_running(h, clock):
            reply = await h.say(USER, "/timezone Europe/Kyiv")
            assert "Europe/Kyiv" in reply.text
            reply = await h.say(USER, "/schedule 07:52")
            assert "07:52" in reply.text
            reply = await h.say(USER, "/language uk")
            assert "Українська" in reply.text
            reply = await h.say(USER, "/subscribe Kherson")
            assert "Kherson" in reply.text or "Херсон" in reply.text
            settings = await h.say(USER, "/settings")
            assert "Налаштування" in settings.text and "07:52" in settings.text

            await h.publish("alpha", item("k1", "Evacuation buses leave Kherson",
                                          "Evacuation buses left Kherson on Tuesday morning."))
            assert briefings(emu) == []
            state = await h.services.store.briefings.get(USER)
            assert state.next_briefing_at == START + timedelta(minutes=2)

            clock.set(START + timedelta(minutes=2, seconds=20))  # 07:52:20 in Kyiv
            assert await h.services.briefings.run_due() == 1
            await emu.wait_for(lambda m: m.chat_id == USER and "Брифінг Herald" in m.text,
                               ALERT_TIMEOUT, since=0)
            # The same minute again: nothing enqueued, and nothing left to send.
            assert await h.services.briefings.run_due() == 0
            await h.settled()
            assert await h.outbox_rows(USER, DeliveryKind.BRIEFING) == 1
            [brief] = briefings(emu)
            assert "Evacuation buses leave Kherson" in brief.text
            assert "Херсон" in brief.text or "Kherson" in brief.text
            assert "1 новина" in brief.plain

        # Restart within the same minute: the start-up catch-up pass finds nothing due.
        clock.advance(seconds=20)
        async with bot_running(h, clock):
            # The start-up pass reads the same state at the same "now" as this one.
            assert await h.services.briefings.run_due() == 0
            await h.settled()
            assert await h.outbox_rows(USER, DeliveryKind.BRIEFING) == 1
            assert len(briefings(emu)) == 1
            state = await h.services.store.briefings.get(USER)
            assert state.next_briefing_at == START + timedelta(days=1, minutes=2)

            # A new user's language comes from Telegram's language_code.
            other = await h.say(USER + 1, "/settings", language_code="uk-UA")
            assert "Налаштування" in other.text and "Мова: Українська" in other.text

            # In a group only administrators change settings, by command or by button.
            group, member, admin = -7001, 8001, 8002
            emu.set_admin(group, admin)
            refused = await h.say(group, "/cap 5", user_id=member, chat_type="group")
            assert "administrators" in refused.text
            done = await h.say(group, "/cap 5", user_id=admin, chat_type="group")
            assert "5" in done.text
            panel = await h.say(group, "/settings", user_id=member, chat_type="group")
            cap_menu_query = await h.press(group, panel, "set:cap", user_id=member)
            await h.answer_of(cap_menu_query)  # opening a menu is fine for anyone
            query = await h.press(group, panel, "set:skip", user_id=member)
            assert "administrators" in (await h.answer_of(query) or "")
            group_settings = await h.services.store.chats.settings(group)
            assert group_settings.alerts_per_hour == 5
            assert group_settings.skip_empty_briefing is False

            # /briefing sends one now, covering the time since the last one (nothing new).
            await h.say(USER, "/briefing")
            await emu.wait_for(lambda m: m.chat_id == USER and len(briefings(emu)) == 2,
                               ALERT_TIMEOUT, since=0)
            assert "Нічого нового" in briefings(emu)[-1].text
    finally:
        await feeds.stop()
        await emu.stop()
