"""The "sir:" buttons redraw their message through the replies' gate (booked on the
sender's limiter, like every other button's edit), not beside it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from bot.delivery.limiter import RateLimiter
from bot.delivery.replies import ReplyGate
from bot.telegram.handlers import sirens

T = TypeVar("T")
CHAT = 42


class RecordingGate(ReplyGate):
    def __init__(self) -> None:
        super().__init__(RateLimiter(30.0))
        self.chats: list[int] = []

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        self.chats.append(chat_id)
        return await call()


class FakeMessage:
    chat_id = CHAT

    def __init__(self) -> None:
        self.edits: list[str] = []

    async def edit_text(self, text: str, **kwargs: Any) -> None:
        self.edits.append(text)


async def test_the_redraw_goes_through_the_replies_gate() -> None:
    gate = RecordingGate()
    context: Any = SimpleNamespace(application=SimpleNamespace(bot_data={"reply_gate": gate}))
    message = FakeMessage()
    await sirens._edit(context, message, "Official alerts are on", None)
    assert message.edits == ["Official alerts are on"]
    assert gate.chats == [CHAT]
