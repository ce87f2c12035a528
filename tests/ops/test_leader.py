"""Leader election: SQLite leads at once; on PostgreSQL exactly one process holds the lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

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


async def _start(leader: Leader, events: Events) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(leader.run(stop, events.on_elected, events.on_lost))
    return stop, task


async def test_sqlite_leads_at_once_and_steps_down_on_stop(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    try:
        leader, ev = Leader(store, Clock()), Events()
        stop, task = await _start(leader, ev)
        await asyncio.wait_for(ev.elected.wait(), 1)
        assert leader.is_leader and leader.status()["role"] == "leader"
        stop.set()
        await asyncio.wait_for(task, 1)
        assert ev.log == ["elected", "lost"] and not leader.is_leader
    finally:
        await store.close()


async def test_postgres_one_leader_and_handover_on_stop(pg_url: str) -> None:
    a_store, b_store = await Store.open(pg_url), await Store.open(pg_url, migrate=False)
    try:
        a, b = Leader(a_store, Clock(), retry_seconds=0.1), Leader(b_store, Clock(),
                                                                  retry_seconds=0.1)
        ea, eb = Events(), Events()
        stop_a, task_a = await _start(a, ea)
        await asyncio.wait_for(ea.elected.wait(), 2)
        stop_b, task_b = await _start(b, eb)
        await asyncio.sleep(0.5)  # several retries of b
        assert a.is_leader and not b.is_leader and eb.log == []
        stop_a.set()
        await asyncio.wait_for(task_a, 2)
        assert ea.log == ["elected", "lost"]
        await asyncio.wait_for(eb.elected.wait(), 2)
        assert b.is_leader
        stop_b.set()
        await asyncio.wait_for(task_b, 2)
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
        stop_a, task_a = await _start(a, ea)
        await asyncio.wait_for(ea.elected.wait(), 2)
        stop_b, task_b = await _start(b, eb)
        await asyncio.sleep(0.3)
        assert a._conn is not None
        pid = await a._conn.scalar(text("SELECT pg_backend_pid()"))
        # What kill -9 of the leader does to its session, seen from PostgreSQL.
        async with b_store.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        await asyncio.wait_for(ea.lost.wait(), 2)
        await asyncio.wait_for(eb.elected.wait(), 2)
        assert b.is_leader and not a.is_leader
        await asyncio.sleep(0.3)  # a keeps campaigning but cannot take the lock back
        assert not a.is_leader and ea.log == ["elected", "lost"]
        stop_a.set()
        stop_b.set()
        await asyncio.wait_for(asyncio.gather(task_a, task_b), 2)
    finally:
        await a_store.close()
        await b_store.close()
