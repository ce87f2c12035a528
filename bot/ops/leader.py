"""Leader election: exactly one process runs the poller, the scheduler and the sender.

On SQLite the leader holds an exclusive lock on a file beside the database
(`<database>-leader.lock`, flock): the kernel drops it when the process ends, even by kill -9,
so a second process started on the same file by mistake stands by instead of sending the
same outbox twice. On PostgreSQL the leader holds a session-level
advisory lock on a dedicated connection that stays open; PostgreSQL releases the lock when
that connection ends (also after kill -9 of the process), and a standby that retries every
`retry_seconds` takes over. The leader checks its lock every `check_seconds` (shorter); when
the check fails it calls `on_lost` at once, so it stops leader work before a standby can
start it. A short overlap is harmless anyway: outbox claims skip locked rows, a claimed row
is taken over only after delivery.claim_timeout, and only new items trigger alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage.engine import sqlite_file

try:  # not on Windows: there a second process on one SQLite file is the operator's care
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock, wait_any
from storage.store import Store

log = logging.getLogger(__name__)

# "HERALD01" as a big-endian 64-bit integer: one lock per database, shared by all processes.
DEFAULT_LOCK_KEY = 0x4845_5241_4C44_3031

Hook = Callable[[], Awaitable[None]]


def worker_name() -> str:
    """A name for this process in logs and in the outbox's claimed_by column."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Leader:
    """Advisory-lock leader election; `run` until `stop` is set."""

    def __init__(self, store: Store, clock: Clock, *, lock_key: int = DEFAULT_LOCK_KEY,
                 retry_seconds: float = 5.0, check_seconds: float | None = None,
                 query_timeout: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.lock_key = lock_key
        self.retry_seconds = retry_seconds
        # The leader checks its lock more often than standbys retry: if its session was
        # ended, it stops leader work before a standby has had time to start it.
        self.check_seconds = check_seconds if check_seconds is not None else min(
            retry_seconds, 2.0)
        self.query_timeout = query_timeout
        self.is_leader = False
        self.since: datetime | None = None  # when this process became leader
        self.last_check: datetime | None = None  # last successful check of lock/connection
        self.elections = 0
        self._conn: AsyncConnection | None = None

    def status(self) -> dict[str, Any]:
        """A JSON-friendly summary for /health."""
        return {
            "role": "leader" if self.is_leader else "standby",
            "backend": "sqlite" if self.store.is_sqlite else "postgresql",
            "since": self.since.isoformat() if self.since else None,
            "last_check": self.last_check.isoformat() if self.last_check else None,
            "elections": self.elections,
        }

    async def run(self, stop: asyncio.Event, on_elected: Hook, on_lost: Hook) -> None:
        """Campaign until `stop`; call on_elected when this process leads, on_lost when it
        stops leading (connection lost, or `stop` set while leading)."""
        if self.store.is_sqlite:
            lock = FileLock.beside(sqlite_file(self.store.engine))
            warned = False
            while lock is not None and not lock.try_acquire():
                if not warned:
                    log.warning("another process leads on this SQLite database; standing by",
                                extra={"lock": str(lock.path)})
                    warned = True
                await wait_any(stop, timeout=self.retry_seconds)
                if stop.is_set():
                    return
            try:
                await self._become_leader(on_elected)
                await stop.wait()
                await self._step_down(on_lost, "stopping")
            finally:
                if lock is not None:
                    lock.release()
            return
        try:
            while not stop.is_set():
                if not self.is_leader:
                    if await self._try_acquire():
                        await self._become_leader(on_elected)
                elif not await self._still_held():
                    await self._step_down(on_lost, "lock connection lost")
                await wait_any(stop, timeout=(self.check_seconds if self.is_leader
                                              else self.retry_seconds))
        finally:
            if self.is_leader:
                await self._step_down(on_lost, "stopping")
            await self._release()

    async def _become_leader(self, on_elected: Hook) -> None:
        self.is_leader = True
        self.since = self.last_check = self.clock.now()
        self.elections += 1
        log.info("leader elected", extra={"worker": worker_name()})
        await on_elected()

    async def _step_down(self, on_lost: Hook, reason: str) -> None:
        self.is_leader = False
        self.since = None
        level = logging.INFO if reason == "stopping" else logging.WARNING
        log.log(level, "leader stepped down", extra={"worker": worker_name(), "reason": reason})
        try:
            await on_lost()
        except Exception:
            log.exception("on_lost hook failed")

    async def _try_acquire(self) -> bool:
        """One attempt: open the dedicated connection if needed and try the lock."""
        try:
            if self._conn is None:
                conn = await asyncio.wait_for(self.store.engine.connect(), self.query_timeout)
                # Autocommit: the lock is per session, and an idle-in-transaction connection
                # held for days would block vacuum.
                self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await asyncio.wait_for(self._conn.scalar(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": self.lock_key}),
                self.query_timeout)
        except Exception as exc:  # the database is down or unreachable: try again later
            log.warning("leader lock attempt failed", extra={"error": repr(exc)})
            await self._discard()
            return False
        return bool(got)

    async def _still_held(self) -> bool:
        """True when the dedicated connection answers and still holds the lock."""
        if self._conn is None:
            return False
        # The one-bigint form of the lock shows in pg_locks as classid/objid (high/low halves).
        q = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                 "AND pid = pg_backend_pid() AND objsubid = 1 "
                 "AND classid::bigint = (CAST(:k AS bigint) >> 32) & 4294967295 "
                 "AND objid::bigint = CAST(:k AS bigint) & 4294967295")
        try:
            n = await asyncio.wait_for(self._conn.scalar(q, {"k": self.lock_key}),
                                       self.query_timeout)
        except Exception as exc:
            log.warning("leader lock check failed", extra={"error": repr(exc)})
            await self._discard()
            return False
        if n:
            self.last_check = self.clock.now()
        return bool(n)

    async def _release(self) -> None:
        """Unlock and close the dedicated connection (graceful shutdown)."""
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._conn.execute(
                text("SELECT pg_advisory_unlock_all()")), self.query_timeout)
        await self._discard()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.invalidate()  # never return a possibly broken session to the pool
        with contextlib.suppress(Exception):
            await conn.close()


class FileLock:
    """An exclusive advisory lock on a file (flock), held until release or process exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def beside(cls, database: str | None) -> FileLock | None:
        """The leader lock of a SQLite file; None in memory or where flock does not exist."""
        if database is None or fcntl is None:
            return None
        return cls(Path(f"{database}-leader.lock"))

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        assert fcntl is not None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock
