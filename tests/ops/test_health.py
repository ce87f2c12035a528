"""The ops endpoint: /health says 200 or 503 from real checks, /metrics serves Prometheus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from telegram import Bot

from bot.ops.health import HealthChecks, HealthServer, is_healthy
from bot.ops.metrics import Metrics
from bot.testing.botapi import BotApiEmulator
from storage.store import Store


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def test_is_healthy_reads_bools_and_dicts() -> None:
    assert is_healthy({"bot": True, "database": {"ok": True}, "leader": {"role": "standby"}})
    assert not is_healthy({"bot": True, "database": {"ok": False}})
    assert not is_healthy({"sender": False})


async def test_health_and_metrics_endpoints(sqlite_store: Store,
                                            emulator: BotApiEmulator) -> None:
    bot = Bot(emulator.token, base_url=emulator.base_url)
    await bot.initialize()
    alive = [True]
    metrics = Metrics(CollectorRegistry())
    metrics.set_queue_depth(3)
    checks = HealthChecks(sqlite_store, bot=bot, sender_alive=lambda: alive[0], metrics=metrics,
                          last_sent_at=lambda: metrics.last_sent_at, get_me_ttl=0)
    server = HealthServer("127.0.0.1", 0, checks.check, registry=metrics.registry)
    port = await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            r = await http.get("/health")
            body = r.json()
            assert r.status_code == 200, body
            assert body["status"] == "ok"
            assert body["database"]["ok"] and body["bot"]["ok"] and body["sender"]["alive"]
            assert body["process"]["rss_mb"] > 10
            r = await http.get("/metrics")
            assert r.status_code == 200 and "herald_outbox_pending 0.0" in r.text  # refreshed

            alive[0] = False  # the leader's sender task died
            r = await http.get("/health")
            assert r.status_code == 503 and r.json()["sender"]["ok"] is False
            alive[0] = True

            await emulator.stop()  # Telegram unreachable: getMe fails
            r = await http.get("/health")
            assert r.status_code == 503
            assert r.json()["bot"]["ok"] is False and r.json()["database"]["ok"] is True
    finally:
        await server.stop()
        await bot.shutdown()


async def test_health_fails_when_the_database_is_gone(tmp_path: object) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path}/h.db")
    checks = HealthChecks(store)
    assert (await checks.check())["status"] == "ok"
    await store.close()
    # A closed engine reconnects for SQLite; a missing database path is a real failure.
    broken = await Store.open("sqlite+aiosqlite:////nonexistent-dir/x.db", migrate=False)
    report = await HealthChecks(broken).check()
    assert report["database"]["ok"] is False and report["status"] == "fail"
    await broken.close()
