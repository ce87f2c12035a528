"""The alerts API emulator: the API's answers and limits, and a realistic day."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime

import httpx

from bot.testing.alerts_api import ACTIVE_PATH, AlertsApiEmulator
from bot.testing.alerts_day import active_at, make_day

AUTH = {"Authorization": "Bearer emulator-token"}


def test_a_day_has_hundreds_of_alerts_of_every_level() -> None:
    day = make_day(seed=1)
    assert 200 <= len(day) <= 400
    levels = Counter(a.entry["location_type"] for a in day)
    assert levels["oblast"] >= 20 and levels["raion"] >= 50 and levels["hromada"] >= 50
    assert {a.entry["location_oblast_uid"] for a in day} >= {16, 29, 22}  # Luhansk, Crimea ...
    assert any(a.entry["alert_type"] == "artillery_shelling" for a in day)
    assert any(a.end_s is not None and a.end_s - a.start_s < 10 for a in day)  # short ones
    origin = datetime(2026, 12, 7, tzinfo=UTC)
    at_noon = active_at(day, 12 * 3600, origin)
    assert len({(a["location_uid"], a["alert_type"]) for a in at_noon}) == len(at_noon)
    assert make_day(seed=1) == day  # deterministic


def test_limits_304_429_and_403() -> None:
    now = [0.0]
    emu = AlertsApiEmulator(limit=3, block_at=5, block_seconds=100, time_fn=lambda: now[0])
    emu.set_alerts([])
    status, headers, body = emu.answer(ACTIVE_PATH, AUTH)
    assert status == 200 and json.loads(body)["alerts"] == []
    assert emu.answer(ACTIVE_PATH, {**AUTH, "If-Modified-Since": headers["Last-Modified"]}
                      )[0] == 304
    assert emu.answer(ACTIVE_PATH, {})[0] == 401
    status, headers, _ = emu.answer(ACTIVE_PATH, AUTH)  # the 4th in a minute
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert emu.answer(ACTIVE_PATH, AUTH)[0] == 403  # the 5th: blocked
    now[0] += 61
    assert emu.answer(ACTIVE_PATH, AUTH)[0] == 403  # still blocked
    now[0] += 100
    assert emu.answer(ACTIVE_PATH, AUTH)[0] == 200
    assert emu.stats.rate_limited == 1 and emu.stats.blocked == 2


async def test_a_replay_changes_the_list_over_http() -> None:
    emu = AlertsApiEmulator()
    base = await emu.start()
    try:
        emu.replay(speed=3600.0, start_s=6 * 3600, tick=0.05)  # an hour a second
        async with httpx.AsyncClient() as client:
            first = (await client.get(base + ACTIVE_PATH, headers=AUTH)).json()["alerts"]
            await asyncio.sleep(1.0)
            second = (await client.get(base + ACTIVE_PATH, headers=AUTH)).json()["alerts"]
        assert first and second and first != second
        assert all(a["started_at"].endswith("Z") for a in second)
    finally:
        await emu.stop()
