"""Where the news pipeline's CPU work runs: worker processes, or one thread when there are none.

Parsing, cleaning, classifying, summarizing and fingerprinting are pure Python (about 0.3 ms
an item). In a thread of the main process they hold the GIL against the event loop (users'
commands wait) and against the database writes; in a worker process they run on another
core while the main process links and stores the previous feed. The functions given to
`run` must be module-level (they are pickled by name); the worker processes are started
from a fork server, never forked from the threaded main process.

Workers die with the main process, however it ends. A kill -9 gives the pool no chance to
stop them, and nothing else would: a worker's parent is the fork server, not the main
process (so a parent-death signal does not fire), and the worker itself holds the pipes
that would tell the fork server and multiprocessing's resource tracker to exit. So each
worker watches the main process from a thread and exits the moment it is gone; the fork
server and the resource tracker then see their pipes close and exit too.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def _warm(main_pid: int) -> None:
    """A worker's start: it dies with the main process (see the module docstring), Ctrl-C
    is for the main process (it stops the workers), and the classifier's data is loaded
    once, before the first batch."""
    watch_main_process(main_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from bot.news.stages import worker_classifier

    worker_classifier()


def wait_for_exit(pid: int, *, use_pidfd: bool = True, poll_seconds: float = 1.0) -> None:
    """Return once process `pid` has ended.

    On Linux a pidfd becomes readable when the process ends: no polling, and no mistaking
    a newer process that reuses the number. Elsewhere (or on a kernel without pidfds) the
    process is looked for every `poll_seconds`.
    """
    pidfd_open = getattr(os, "pidfd_open", None)
    if use_pidfd and pidfd_open is not None:
        try:
            fd = pidfd_open(pid)
        except ProcessLookupError:
            return
        except OSError:
            pass  # no pidfds here (old kernel, seccomp): poll below
        else:
            try:
                select.select([fd], [], [])
            finally:
                os.close(fd)
            return
    while True:
        try:
            os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except ProcessLookupError:
            return
        except PermissionError:
            pass  # it exists (under another user: the number was reused; keep waiting)
        time.sleep(poll_seconds)


def watch_main_process(main_pid: int) -> threading.Thread | None:
    """In a worker: end this process as soon as `main_pid` has ended (a daemon thread)."""
    if os.name == "nt":
        return None  # os.kill(pid, 0) would terminate the process there; no watch

    def watch() -> None:
        wait_for_exit(main_pid)
        os._exit(0)  # at once: no atexit, no pool shutdown, nobody is waiting for us

    thread = threading.Thread(target=watch, name="herald-watch-main", daemon=True)
    thread.start()
    return thread


def _default_start_method() -> str:
    # Never fork the threaded main process; where there is no fork server (Windows), spawn.
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class CpuRunner:
    """`await runner.run(fn, *args)`: in a worker process when `workers` > 0, else a thread.

    Where worker processes cannot start (no semaphores in a sandbox, a broken install),
    the runner says so once in the log and runs everything in a thread from then on.
    """

    def __init__(self, workers: int = 0, *, start_method: str | None = None) -> None:
        self.workers = max(0, workers)
        self.start_method = start_method or _default_start_method()
        self._pool: ProcessPoolExecutor | None = None
        self._starting: asyncio.Lock | None = None

    @property
    def in_processes(self) -> bool:
        return self.workers > 0

    async def start(self) -> None:
        """Start the workers now and wait until they have loaded their data."""
        await self._ready_pool()

    async def _ready_pool(self) -> ProcessPoolExecutor | None:
        """The started pool; None when there are no workers (or they cannot start here)."""
        if self._pool is not None or not self.in_processes:
            return self._pool
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._pool is not None or not self.in_processes:
                return self._pool
            pool: ProcessPoolExecutor | None = None
            try:
                ctx = multiprocessing.get_context(self.start_method)
                pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_warm,
                                           initargs=(os.getpid(),))
                await asyncio.gather(*(asyncio.wrap_future(pool.submit(int))
                                       for _ in range(self.workers)))
            except Exception as exc:
                log.error("pipeline worker processes cannot start here; parsing and tagging "
                          "run in a thread instead", extra={"error": repr(exc)})
                if pool is not None:
                    pool.shutdown(wait=False, cancel_futures=True)
                self.workers = 0
                return None
            self._pool = pool
            return pool

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        pool = await self._ready_pool()
        if pool is None:
            return await asyncio.to_thread(fn, *args)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this call fails like any other error
            # of the batch, and the next call starts a fresh pool.
            log.error("a pipeline worker process died; starting new ones")
            if self._pool is pool:
                self._discard()
            raise

    def _discard(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
