"""Background tasks that restart after an error, and a process that gives up when one cannot run.

A background task (the sender, the poller, the broadcast fan-out) that dies on one error,
say a database write refused while the disk is full, would otherwise stay dead while the
process lives on: nothing is sent, and a service manager that restarts processes never
notices. Here every task runs in a loop: after an error it is logged and started again
with a growing backoff (1 s, 2 s, 4 s ... at most `max_backoff`); a task that then runs for
`healthy_after` seconds counts as recovered. When a task has been failing for
`fatal_after` seconds without recovering, `on_fatal` is called: the process stops and exits
non-zero so that systemd, Docker or the platform starts a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock

log = logging.getLogger(__name__)

TaskFactory = Callable[[], Awaitable[Any]]


@dataclass
class TaskState:
    """What /health reports about one supervised task."""

    name: str
    running: bool = False
    restarts: int = 0
    failing_since: float | None = None  # clock time of the first error of a streak
    last_error: str | None = None

    def status(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {"running": self.running, "restarts": self.restarts}
        if self.failing_since is not None:
            out["failing_for_s"] = round(now - self.failing_since, 1)
            out["last_error"] = self.last_error
        return out


class Supervisor:
    """Runs named tasks until their stop event is set, restarting them after errors."""

    def __init__(self, clock: Clock, *, fatal_after: float,
                 on_fatal: Callable[[str, str], None], base_backoff: float = 1.0,
                 max_backoff: float = 60.0, healthy_after: float | None = None) -> None:
        self.clock = clock
        self.fatal_after = fatal_after
        self.on_fatal = on_fatal
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        # Long enough that a task failing at once on every start never looks recovered.
        self.healthy_after = (healthy_after if healthy_after is not None
                              else min(60.0, max(base_backoff, fatal_after / 5)))
        self.states: dict[str, TaskState] = {}

    def time(self) -> float:
        """Seconds on the injected clock (a fake clock makes the backoff and give-up testable)."""
        return self.clock.now().timestamp()

    def spawn(self, name: str, factory: TaskFactory, stop: asyncio.Event) -> asyncio.Task[None]:
        """Start `factory()` as a supervised task named `name`."""
        state = self.states[name] = TaskState(name)
        return asyncio.create_task(self._supervise(state, factory, stop), name=name)

    def record(self, name: str, error: str | None) -> None:
        """The outcome of one run of a periodic job (the briefing pass): a job that has
        failed on every run for `fatal_after` seconds stops the process like a task."""
        state = self.states.setdefault(name, TaskState(name, running=True))
        if error is None:
            state.failing_since = None
            return
        now = self.time()
        if state.failing_since is None:
            state.failing_since = now
        state.last_error = error[:500]
        state.restarts += 1
        if now - state.failing_since >= self.fatal_after:
            log.critical("periodic job cannot run; stopping the process",
                         extra={"task": name, "error": state.last_error})
            self.on_fatal(name, state.last_error)

    def running(self, name: str) -> bool:
        state = self.states.get(name)
        return state is not None and state.running

    def status(self) -> dict[str, dict[str, Any]]:
        now = self.time()
        return {name: s.status(now) for name, s in self.states.items()}

    async def _supervise(self, state: TaskState, factory: TaskFactory,
                         stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            started = self.time()
            state.running = True
            try:
                await factory()
                error = None if stop.is_set() else "returned before it was asked to stop"
            except asyncio.CancelledError:
                state.running = False
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                log.error("background task crashed", extra={"task": state.name},
                          exc_info=exc)
            state.running = False
            if error is None:
                return
            now = self.time()
            if state.failing_since is None or now - started >= self.healthy_after:
                # The first error, or the task ran well for a while: a new streak starts.
                state.failing_since = now
                attempt = 0
            state.last_error = error[:500]
            state.restarts += 1
            attempt += 1
            failing = now - state.failing_since
            if failing >= self.fatal_after:
                log.critical("background task cannot run; stopping the process",
                             extra={"task": state.name, "failing_s": round(failing, 1),
                                    "error": state.last_error})
                self.on_fatal(state.name, state.last_error)
                return
            delay = min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1))
            delay *= random.uniform(0.8, 1.2)
            log.warning("restarting background task", extra={
                "task": state.name, "in_s": round(delay, 1), "attempt": attempt})
            await self.clock.sleep_or_stop(stop, delay)
