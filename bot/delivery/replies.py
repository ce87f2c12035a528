"""Replies to users through the same RateLimiter as the outbox, with priority.

A reply to a command or a button counts against the same Telegram budget as the alerts the
Sender pushes. Sent on its own it could meet a 429 during a fan-out and be lost; here it is
booked on the sender's limiter ahead of the outbox (`RateLimiter.reserve_reply`), waits for
its chat's turn, and after a 429 waits as Telegram says and goes again: late, never lost
(unless the waits add up to more than `patience` seconds, when the error is raised).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram.error import RetryAfter

from bot.delivery.limiter import RateLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")
PATIENCE = 120.0  # seconds a reply may wait in all before its error is let through


class ReplyGate:
    """Paces replies (sends and edits) on a RateLimiter shared with the Sender."""

    def __init__(self, limiter: RateLimiter, *, patience: float = PATIENCE,
                 time_fn: Callable[[], float] = time.monotonic) -> None:
        self.limiter = limiter
        self.patience = patience
        self.time = time_fn
        self.rate_limited = 0  # 429s met by replies (and waited out)

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call` (one Bot API message or edit to `chat_id`) in its slot; retry 429s."""
        started = self.time()
        while True:
            wait, booked = self.limiter.reserve_reply(chat_id)
            while not booked:  # the chat's turn has not come: ask again then
                await asyncio.sleep(wait)
                wait, booked = self.limiter.reserve_reply(chat_id)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await call()
            except RetryAfter as exc:
                retry = retry_seconds(exc)
                self.rate_limited += 1
                self.limiter.on_rate_limited(chat_id, retry)
                if self.time() - started + retry > self.patience:
                    raise
                log.info("reply rate limited; waiting", extra={"chat_id": chat_id,
                                                               "retry_after": retry})


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter.retry_after in seconds (an int today, a timedelta in a later PTB)."""
    with warnings.catch_warnings():  # PTB 22 warns that the type will change
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
