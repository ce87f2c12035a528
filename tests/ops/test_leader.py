"""Leader election: SQLite leads at once; on PostgreSQL exactly one process holds the lock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bot.clock import Clock
from bot.ops.leader import Leader
from storage.store import Store


class Events:
    """Records the hooks' calls in order."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.elected = asyncio.Event()
        self.lost = asyncio.Event()

    async def on_elected(self) -> None:
        self.log.append("elected")
        self.elected.set()

    async def on_lost(self) -> None:
        self.log.append("lost")
        self.lost.set()


class LockAttempts:
    """Counts a store's pg_try_advisory_lock queries: a standby's tries, seen by the database
    driver (no timing: a test waits for tries, then checks who leads)."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        event.listen(store.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "pg_try_advisory_lock" in statement:
            self.count += 1

    async def more(self, n: int, timeout: float = 30.0) -> None:
        """Wait for n more attempts."""
        target = self.count + n
        deadline = asyncio.get_running_loop().time() + timeout
        while self.count < target:
            assert asyncio.get_running_loop().time() < deadline, f"{self.count} < {target}"
            await asyncio.sleep(0.01)


async def _start(leader: Leader, events: Events) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(leader.run(stop, events.on_elected, events.on_lost))
    return stop, task


async def test_sqlite_leads_at_once_and_steps_down_on_stop(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    try:
        leader, ev = Leader(store, Clock()), Events()
        stop, task = await _start(leader, ev)
        await asyncio.wait_for(ev.elected.wait(), 30)
        assert leader.is_leader and leader.status()["role"] == "leader"
        stop.set()
        await asyncio.wait_for(task, 30)
        assert ev.log == ["elected", "lost"] and not leader.is_leader
    finally:
        await store.close()


async def test_postgres_one_leader_and_handover_on_stop(pg_url: str) -> None:
    a_store, b_store = await Store.open(pg_url), await Store.open(pg_url, migrate=False)
    try:
        a, b = Leader(a_store, Clock(), retry_seconds=0.1), Leader(b_store, Clock(),
                                                                  retry_seconds=0.1)
        ea, eb = Events(), Events()
        b_tries = LockAttempts(b_store)
        stop_a, task_a = await _start(a, ea)
        await asyncio.wait_for(ea.elected.wait(), 30)
        stop_b, task_b = await _start(b, eb)
        await b_tries.more(3)  # several retries of b, each refused
        assert a.is_leader and not b.is_leader and eb.log == []
        stop_a.set()
        await asyncio.wait_for(task_a, 30)
        assert ea.log == ["elected", "lost"]
        await asyncio.wait_for(eb.elected.wait(), 30)
        assert b.is_leader
        stop_b.set()
        await asyncio.wait_for(task_b, 30)
    finally:
        await a_store.close()
        await b_store.close()


async def test_postgres_leader_whose_connection_dies_steps_down_and_other_takes_over(
        pg_url: str) -> None:
    a_store, b_store = await Store.open(pg_url), await Store.open(pg_url, migrate=False)
    try:
        a, b = Leader(a_store, Clock(), retry_seconds=0.1), Leader(b_store, Clock(),
                                                                  retry_seconds=0.1)
        ea, eb = Events(), Events()
        a_tries, b_tries = LockAttempts(a_store), LockAttempts(b_store)
        stop_a, task_a = await _start(a, ea)
        await asyncio.wait_for(ea.elected.wait(), 30)
        stop_b, task_b = await _start(b, eb)
        await b_tries.more(1)  # b campaigns
        assert a._conn is not None
        pid = await a._conn.scalar(text("SELECT pg_backend_pid()"))
        # What kill -9 of the leader does to its session, seen from PostgreSQL.
        async with b_store.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        await asyncio.wait_for(ea.lost.wait(), 30)
        await asyncio.wait_for(eb.elected.wait(), 30)
        assert b.is_leader and not a.is_leader
        await a_tries.more(3)  # a keeps campaigning but cannot take the lock back
        assert not a.is_leader and ea.log == ["elected", "lost"]
        stop_a.set()
        stop_b.set()
        await asyncio.wait_for(asyncio.gather(task_a, task_b), 30)
    finally:
        await a_store.close()
        await b_store.close()
