"""A ReplyGate that records which chats its calls went to (tests of handlers that must
answer through the replies' gate)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.delivery.limiter import RateLimiter
from bot.delivery.replies import ReplyGate

T = TypeVar("T")


class RecordingGate(ReplyGate):
    def __init__(self) -> None:
        super().__init__(RateLimiter(30.0))
        self.chats: list[int] = []

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        self.chats.append(chat_id)
        return await call()
