"""kill -9 of `herald run` right after an alert's events are stored, before any message is
queued: the next process sends every follower the alert once, and keeps the API's pace
across the kill (its clock is in the database)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.domain import SubscriptionMode, TagKind
from bot.news.admin_units import get_admin_units
from bot.testing.alerts_api import AlertsApiEmulator
from bot.testing.alerts_day import api_location
from bot.testing.botapi import BotApiEmulator
from bot.testing.process import HeraldProcess, config_toml
from storage.store import Store

IZIUM_RAION = "UA63040000000023521"
FOLLOWERS = 20
CHAT0 = 6000
RPM = 11.0  # the fastest the config allows: one request every 5.45 s


async def _prepare(db: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    now = datetime.now(UTC)
    try:
        for chat in range(CHAT0, CHAT0 + FOLLOWERS):
            await store.chats.upsert(chat, type="private", title=None, now=now)
            await store.chats.subscribe(chat, TagKind.PLACE, IZIUM_RAION, "Izium raion",
                                        SubscriptionMode.INSTANT, now=now)
    finally:
        await store.close()


async def test_kill_9_after_the_events_are_stored_loses_and_doubles_nothing(
        tmp_path: Path) -> None:
    db = tmp_path / "herald.db"
    await _prepare(db)
    emu = BotApiEmulator(enforce_limits=False)
    api = AlertsApiEmulator(time_fn=time.monotonic)
    base_url = await emu.start()
    api_url = await api.start()
    api.start_alert({"id": 1, **api_location(get_admin_units(), IZIUM_RAION),
                     "alert_type": "air_raid"})
    cfg = tmp_path / "herald.toml"
    cfg.write_text(config_toml(
        {"database": {"url": f"sqlite+aiosqlite:///{db}"},
         "telegram": {"polling_timeout": 1},
         "poller": {"enabled": False, "allow_private_addresses": True, "cpu_workers": 0},
         "alerts": {"base_url": api_url, "requests_per_minute": RPM},
         "delivery": {"global_rate": 1000.0, "private_chat_rate": 100.0}}, []))
    herald = HeraldProcess(cfg, base_url, env={"ALERTS_IN_UA_TOKEN": api.token})
    try:
        await herald.start(crash_at="siren_events_stored")
        code = await herald.wait(60)
        assert code == -9, f"expected the crash point to kill it:\n{herald.stderr()}"
        assert api.stats.requests == 1 and emu.sent() == []
        await herald.start()
        deadline = asyncio.get_running_loop().time() + 60
        while len({m.chat_id for m in emu.sent()}) < FOLLOWERS:
            assert asyncio.get_running_loop().time() < deadline, herald.stderr()
            await asyncio.sleep(0.05)
        # the next request keeps the pace across the kill
        while api.stats.requests < 2:
            assert asyncio.get_running_loop().time() < deadline, herald.stderr()
            await asyncio.sleep(0.05)
        gap = api.request_times[1] - api.request_times[0]
        assert gap >= 60 / RPM - 0.05, gap
        sent = [m for m in emu.sent() if m.plain.startswith("🔴 Air-raid alert: Izium raion")]
        assert sorted(m.chat_id for m in sent) == list(range(CHAT0, CHAT0 + FOLLOWERS))
        assert "ALERTS_IN_UA_TOKEN" not in herald.stderr() and api.token not in herald.stderr()
        assert await herald.stop() == 0, herald.stderr()
    finally:
        herald.kill()
        await api.stop()
        await emu.stop()
