"""Supervised background tasks: restarted after errors, and the process gives up when one
cannot run for ops.fatal_after (exit code 70, so its own supervisor restarts it)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from e2e_harness import item, running

from bot.clock import FakeClock
from bot.ops.supervisor import Supervisor
from bot.testing.botapi import BotApiEmulator
from bot.testing.process import HeraldProcess, config_toml


async def test_a_task_that_keeps_failing_stops_the_process() -> None:
    clock = FakeClock()
    fatal: list[tuple[str, str]] = []
    sup = Supervisor(clock, fatal_after=300, on_fatal=lambda t, e: fatal.append((t, e)))
    runs = 0

    async def broken() -> None:
        nonlocal runs
        runs += 1
        raise OSError("disk I/O error")

    stop = asyncio.Event()
    await asyncio.wait_for(sup.spawn("sender", broken, stop), 10)
    assert fatal and fatal[0][0] == "sender" and "disk I/O error" in fatal[0][1]
    # restarted with a growing backoff (1, 2, 4 ... 60 s) for 300 s, not in a busy loop
    assert 6 <= runs <= 15
    assert sup.status()["sender"]["restarts"] == runs


async def test_a_task_that_recovers_runs_on() -> None:
    clock = FakeClock()
    fatal: list[tuple[str, str]] = []
    sup = Supervisor(clock, fatal_after=300, on_fatal=lambda t, e: fatal.append((t, e)))
    stop = asyncio.Event()
    started = asyncio.Event()
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 3:
            raise RuntimeError("database is locked")
        started.set()
        await stop.wait()

    task = sup.spawn("poller", flaky, stop)
    await asyncio.wait_for(started.wait(), 10)
    assert sup.running("poller") and not fatal
    assert sup.status()["poller"]["restarts"] == 3
    stop.set()
    await asyncio.wait_for(task, 10)
    assert not sup.running("poller")


def _break_outbox(db: Path, broken: bool) -> None:
    """A real database fault: the outbox table disappears (and comes back)."""
    with sqlite3.connect(db, timeout=30) as conn:
        if broken:
            conn.execute("ALTER TABLE outbox RENAME TO outbox_gone")
        else:
            conn.execute("ALTER TABLE outbox_gone RENAME TO outbox")


async def test_sender_and_matcher_come_back_after_database_errors(tmp_path: Path) -> None:
    """The outbox cannot be written: the sender crashes and is restarted, the story's alert
    stays owed; once the database works again the follower gets it, exactly once."""
    async with running(tmp_path) as bot:
        await bot.say(601, "/subscribe kherson")
        runtime = bot.runtime
        assert runtime is not None
        await asyncio.to_thread(_break_outbox, tmp_path / "herald.db", True)
        await bot.publish("alpha", item("x1", "Shelling in Kherson damages a school",
                                        "Russian artillery shelled Kherson overnight."))
        deadline = asyncio.get_running_loop().time() + 60
        while runtime.supervisor.status().get("sender", {}).get("restarts", 0) < 1:
            assert asyncio.get_running_loop().time() < deadline, runtime.supervisor.status()
            await asyncio.sleep(0.05)
        owed, _oldest = await bot.services.store.news.pending_alerts_since()
        assert owed == 1  # stored, its alert owed, nothing lost
        await asyncio.to_thread(_break_outbox, tmp_path / "herald.db", False)
        alert = await bot.wait_alert(601, lambda m: "Kherson" in m.plain, timeout=60)
        # a later story must come after any repeat of the first: then count
        await bot.publish("alpha", item("x2", "Kherson water supply restored",
                                        "Crews restored the water supply in Kherson."))
        await bot.wait_alert(601, lambda m: "water supply" in m.plain, timeout=60)
        assert [m.plain for m in bot.alerts(601)].count(alert.plain) == 1
        assert (await bot.services.store.news.pending_alerts_since())[0] == 0
        assert runtime.sender_alive()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_herald_run_exits_70_when_the_sender_cannot_run(tmp_path: Path) -> None:
    db = tmp_path / "herald.db"
    emu = BotApiEmulator(enforce_limits=False)
    base_url = await emu.start()
    cfg = tmp_path / "herald.toml"
    cfg.write_text(config_toml({"database": {"url": f"sqlite+aiosqlite:///{db}"},
                                "telegram": {"polling_timeout": 1},
                                "poller": {"enabled": False},
                                "ops": {"fatal_after": 10.0}}))
    herald = HeraldProcess(cfg, base_url)
    try:
        await herald.start()
        # The sender has begun its leader term: start-up is over, the leader work runs.
        while not _sender_started(db):
            assert herald.running(), herald.stderr()
            await asyncio.sleep(0.1)
        _break_outbox(db, True)
        code = await herald.wait(120)
        assert code == 70, herald.stderr()
        assert "sender could not run for 10 s" in herald.stderr()
    finally:
        herald.kill()
        await emu.stop()


def _sender_started(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM counters WHERE name = 'leader_term'"
                                ).fetchone()[0] == 1
    except sqlite3.Error:  # not migrated yet
        return False
