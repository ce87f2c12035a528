"""Where the news pipeline's CPU work runs: worker processes, or one thread when there are none.

Parsing, cleaning, classifying, summarizing and fingerprinting are pure Python (about 0.3 ms
an item). In a thread of the main process they hold the GIL against the event loop (users'
commands wait) and against the database writes; in a worker process they run on another
core while the main process links and stores the previous feed. The functions given to
`run` must be module-level (they are pickled by name); the worker processes are started
from a fork server, never forked from the threaded main process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def _warm() -> None:
    """Load the classifier's data once per worker, before its first batch."""
    from bot.news.stages import worker_classifier

    worker_classifier()


class CpuRunner:
    """`await runner.run(fn, *args)`: in a worker process when `workers` > 0, else a thread."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = max(0, workers)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def in_processes(self) -> bool:
        return self.workers > 0

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Never fork the threaded main process; where there is no fork server
            # (Windows), spawn.
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods
                                              else "spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_warm)
        return self._pool

    async def start(self) -> None:
        """Start the workers now and wait until they have loaded their data."""
        if self.in_processes:
            pool = self._executor()
            await asyncio.gather(*(asyncio.wrap_future(pool.submit(int))
                                   for _ in range(self.workers)))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if not self.in_processes:
            return await asyncio.to_thread(fn, *args)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), fn, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): this call fails like any other error
            # of the batch, and the next call gets a fresh pool.
            log.error("a pipeline worker process died; starting new ones")
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
