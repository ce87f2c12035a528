"""Official air-raid alerts in a channel, end to end: off until the operator turns them on,
pinned while active and unpinned at the all-clear when the operator allows it and Herald
has the right, pinning turned off (and the admins told once) when Telegram refuses it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from e2e_harness import ALERT_TIMEOUT, Harness, running

from bot.config import AlertsConfig, DeliveryConfig
from bot.news.admin_units import get_admin_units
from bot.testing.alerts_api import AlertsApiEmulator
from bot.testing.alerts_day import api_location
from bot.testing.botapi import BotApiEmulator

ADMIN = 900  # e2e_config's admin
KHERSON = -1001000000001
READER = 821  # a private chat following Kherson: hears every alert (the positive event)
PER_MINUTE = 120


def _kherson_oblast() -> str:
    units = get_admin_units()
    unit = units.for_city("kherson")
    assert unit is not None
    return units.codes[units.parent_oblast(units.index(unit.code))]


async def _until(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + ALERT_TIMEOUT
    while not check():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


async def _admin_says(bot: Harness, text: str) -> str:
    return (await bot.say(ADMIN, text)).plain


async def test_channel_alerts_are_pinned_while_active_when_the_operator_allows(
        tmp_path: Path) -> None:
    api = AlertsApiEmulator(limit=10_000, block_at=100_000)
    base = await api.start()
    sirens = AlertsConfig(token=api.token, base_url=base, requests_per_minute=600)
    emu = BotApiEmulator(chat_burst=20.0, group_per_minute=PER_MINUTE)
    delivery = DeliveryConfig(global_rate=30.0, private_chat_rate=1.0,
                              group_per_minute=PER_MINUTE)
    oblast = api_location(get_admin_units(), _kherson_oblast())
    try:
        async with running(tmp_path, emulator=emu, delivery=delivery, alerts=sirens) as bot:
            bot.emu.add_channel(KHERSON, username="kherson_news", title="Kherson News",
                                can_edit=False, by_user_id=None)
            assert "Herald posts to" in await _admin_says(
                bot, "/channel add @kherson_news kherson")
            listed = await _admin_says(bot, "/channel list")
            assert "Air-raid alerts off · pinned while active off" in listed, listed
            await bot.say(READER, "/subscribe Kherson")

            # 1. Off by default: the reader hears the alert, the channel does not.
            api.start_alert({"id": 1, **oblast, "alert_type": "air_raid"})
            await bot.emu.wait_for(lambda m: m.chat_id == READER and "🔴" in m.plain,
                                   ALERT_TIMEOUT, since=0)
            api.end_alert(1)
            await bot.emu.wait_for(lambda m: m.chat_id == READER and "🟢" in m.plain,
                                   ALERT_TIMEOUT, since=0)
            await bot.settled()
            assert not [m for m in bot.emu.sent(KHERSON) if "🔴" in m.plain]

            # 2. Pinning needs the right to edit messages: Herald says so and changes
            #    nothing; with the right given, both switches go on.
            refused = await _admin_says(bot, "/channel set @kherson_news pin on")
            assert "may not pin messages in @kherson_news" in refused, refused
            assert "Edit Messages of Others" in refused
            assert not (await bot.services.store.channels.get(KHERSON)).pin_alerts
            bad = await _admin_says(bot, "/channel set @kherson_news sirens maybe")
            assert "Write sirens on or sirens off" in bad
            bot.emu.set_bot_member(KHERSON, "administrator", by_user_id=None)
            await _admin_says(bot, "/channel set @kherson_news sirens on")
            listed = await _admin_says(bot, "/channel set @kherson_news pin on")
            assert "Air-raid alerts on · pinned while active on" in listed, listed

            # 3. An alert is posted and pinned; its all-clear is posted and unpins it.
            api.start_alert({"id": 2, **oblast, "alert_type": "air_raid"})
            post = await bot.emu.wait_for(lambda m: m.chat_id == KHERSON and "🔴" in m.plain,
                                          ALERT_TIMEOUT, since=0)
            await _until(lambda: bot.emu.pinned.get(KHERSON) == [post.message_id],
                         "the alert was not pinned")
            api.end_alert(2)
            await bot.emu.wait_for(lambda m: m.chat_id == KHERSON and "🟢" in m.plain,
                                   ALERT_TIMEOUT, since=0)
            await _until(lambda: bot.emu.pinned.get(KHERSON) == [], "not unpinned")

            # 4. The right is taken away: the pin is refused, pinning goes off and the
            #    admin is told once; the channel goes on posting alerts.
            bot.emu.set_bot_member(KHERSON, "administrator", can_edit=False, by_user_id=None)
            api.start_alert({"id": 3, **oblast, "alert_type": "air_raid"})
            notice = await bot.emu.wait_for(
                lambda m: m.chat_id == ADMIN and "could not pin" in m.plain,
                ALERT_TIMEOUT, since=0)
            assert "@kherson_news" in notice.plain and "pin on" in notice.plain
            assert not (await bot.services.store.channels.get(KHERSON)).pin_alerts
            api.end_alert(3)
            clears = lambda: [m for m in bot.emu.sent(KHERSON) if "🟢" in m.plain]  # noqa: E731
            await _until(lambda: len(clears()) == 2, "the second all-clear was not posted")
            await bot.settled()
            assert bot.emu.pinned.get(KHERSON) == []
            assert len([m for m in bot.emu.sent(ADMIN) if "could not pin" in m.plain]) == 1
            stats = await _admin_says(bot, "/stats")
            assert "Channels: 1 posting" in stats
            # two alerts and their all-clears; a pin and an unpin are no posts
            listed = await _admin_says(bot, "/channel list")
            assert "4 posts in 24 h" in listed, listed
    finally:
        await api.stop()
