"""An injectable clock: real in production, controllable in tests and the demo."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


async def wait_any(*events: asyncio.Event, timeout: float | None = None) -> bool:
    """Wait until one of the events is set, at most `timeout` real seconds (None: no limit);
    True when an event was set. The one "wait for stop, or for a while" of Herald."""
    if any(e.is_set() for e in events):
        return True
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
    return bool(done)


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def sleep_or_stop(self, stop: asyncio.Event, seconds: float) -> None:
        """Sleep on this clock (a fake clock's time moves), waking early when `stop` is set."""
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()


class FakeClock(Clock):
    """A clock that moves only when told (tests); sleep() returns at once after advancing."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 26, 6, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        self._now += timedelta(seconds=seconds, **kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)
