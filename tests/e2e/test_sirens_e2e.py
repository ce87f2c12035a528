"""Official air-raid alerts through the real bot: the alerts API emulator, the runtime's
poller task, the outbox and the Bot API emulator; /alerts, the one-time question, /sources."""

from __future__ import annotations

from pathlib import Path

from e2e_harness import running

from bot.config import AlertsConfig
from bot.news.admin_units import get_admin_units
from bot.testing.alerts_api import AlertsApiEmulator
from bot.testing.alerts_day import api_location

IZIUM_RAION = "UA63040000000023521"
POLTAVA_OBLAST = "UA53000000000028050"


async def test_followers_get_alert_and_all_clear_and_can_say_no(tmp_path: Path) -> None:
    api = AlertsApiEmulator(limit=10_000, block_at=100_000)
    base = await api.start()
    # The config is built without validation here: a test may poll 10 times a second.
    sirens = AlertsConfig(token=api.token, base_url=base, requests_per_minute=600)
    try:
        async with running(tmp_path, alerts=sirens) as bot:
            none = await bot.say(804, "/alerts")
            assert "follows no place in Ukraine" in none.plain
            follow = await bot.say(801, "/subscribe Балаклія")
            assert "Balakliia" in follow.plain
            ask = await bot.emu.wait_for(lambda m: m.chat_id == 801 and any(
                d == "sir:on" for _t, d in m.buttons()), timeout=20, since=0)
            assert "air-raid alerts" in ask.plain
            await bot.press(801, ask, "sir:on")
            await bot.emu.wait_for(lambda m: m.chat_id == 801 and m.edited, timeout=20, since=0)
            await bot.say(802, "/subscribe Izium raion")
            no = await bot.emu.wait_for(lambda m: m.chat_id == 802 and any(
                d == "sir:off" for _t, d in m.buttons()), timeout=20, since=0)
            await bot.press(802, no, "sir:off")
            await bot.emu.wait_for(lambda m: m.chat_id == 802 and m.edited, timeout=20, since=0)
            await bot.say(803, "/subscribe Poltava oblast")
            # a second place in Ukraine: no second question
            mark = bot.emu.mark()
            await bot.say(801, "/subscribe Kharkiv oblast")

            api.start_alert({"id": 1, **api_location(get_admin_units(), IZIUM_RAION),
                             "alert_type": "air_raid"})
            alert = await bot.emu.wait_for(lambda m: m.chat_id == 801 and "🔴" in m.plain,
                                           timeout=30, since=0)
            assert alert.plain.startswith("🔴 Air-raid alert: Izium raion, ")
            assert not alert.disable_notification
            status = await bot.say(801, "/alerts")
            assert "Izium raion" in status.plain and "since" in status.plain, status.plain
            # all of Ukraine: every alert is shown (none is pushed: hundreds a day)
            await bot.say(805, "/subscribe Ukraine")
            whole = await bot.say(805, "/alerts")
            assert "You follow all of Ukraine" in whole.plain, whole.plain
            assert "Izium raion" in whole.plain
            # ... then the map of the alerts active now: Kharkiv oblast in part of it
            picture = await bot.emu.wait_for(lambda m: m.chat_id == 801 and m.photo is not None,
                                             timeout=20, since=0)
            assert picture.photo is not None and picture.photo.startswith(b"\x89PNG")
            assert "whole oblast (0)" in picture.plain and "part of it (1)" in picture.plain
            api.end_alert(1)
            clear = await bot.emu.wait_for(lambda m: m.chat_id == 801 and "🟢" in m.plain,
                                           timeout=30, since=0)
            assert clear.plain.startswith("🟢 All clear: Izium raion, ")
            assert clear.plain.endswith("(0 min)")
            quiet = await bot.say(801, "/alerts")
            assert "No alerts for your places now" in quiet.plain
            maps = [m.message_id for m in bot.emu.sent(801) if m.photo is not None]
            await bot.settled()
            assert not [m for m in bot.emu.sent(802) if "🔴" in m.plain or "🟢" in m.plain]
            assert not [m for m in bot.emu.sent(803) if "🔴" in m.plain]
            assert not [m for m in bot.emu.sent(801)[mark:] if "sir:on" in str(m.buttons())]
            types = await bot.say(801, "/alerts types")
            assert ("✅ Air-raid alert", "sir:t:air_raid") in types.buttons()
            # no alert is active anywhere after the all-clear: no map with that answer
            assert [m.message_id for m in bot.emu.sent(801) if m.photo is not None] == maps
            await bot.press(801, types, "sir:t:air_raid")
            edited = await bot.emu.wait_for(lambda m: m.chat_id == 801 and m.edited and any(
                t == "▫️ Air-raid alert" for t, _d in m.buttons()), timeout=20, since=0)
            assert ("✅ Nuclear threat alert", "sir:t:nuclear") in edited.buttons()
            quiet = await bot.say(801, "/alerts quiet")
            assert "silent in quiet hours" in quiet.plain and "Air-raid" not in quiet.plain
            sources = await bot.say(900, "/sources")
            assert "Official air-raid alerts" in sources.plain, sources.plain
            assert "list read" in sources.plain or "no change" in sources.plain
    finally:
        await api.stop()


async def test_alerts_is_off_without_a_token(tmp_path: Path) -> None:
    async with running(tmp_path) as bot:
        follow = await bot.say(811, "/subscribe Kharkiv")
        assert "Following Kharkiv" in follow.plain  # and no question about official alerts
        answer = await bot.say(811, "/alerts")
        assert "not set up on this Herald" in answer.plain
        sources = await bot.say(900, "/sources")
        assert "ALERTS_IN_UA_TOKEN" in sources.plain
        bad = await bot.say(811, "/alerts sometimes")
        assert "Usage: /alerts" in bad.plain
