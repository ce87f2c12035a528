"""The error handler apologises to people, never in a channel (its readers did not post the
command that failed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any, TypeVar

from telegram import Update

from bot.delivery.limiter import RateLimiter
from bot.delivery.replies import ReplyGate
from bot.telegram.error_handler import on_error

T = TypeVar("T")


class RecordingGate(ReplyGate):
    def __init__(self) -> None:
        super().__init__(RateLimiter(30.0))
        self.chats: list[int] = []

    async def send(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T | None:
        self.chats.append(chat_id)
        return None


def _update(chat: dict[str, Any], key: str) -> Update:
    message = {"message_id": 5, "date": 0, "chat": chat, "text": "/subscribe kherson"}
    if key == "message":
        message["from"] = {"id": chat["id"], "is_bot": False, "first_name": "A"}
    return Update.de_json({"update_id": 1, key: message}, None)  # type: ignore[arg-type]


async def test_no_apology_is_posted_in_a_channel() -> None:
    gate = RecordingGate()
    context: Any = SimpleNamespace(error=RuntimeError("boom"), chat_data={"lang": "en"},
                                   bot=None,
                                   application=SimpleNamespace(bot_data={"reply_gate": gate}))
    await on_error(_update({"id": -1001000000001, "type": "channel", "title": "News"},
                           "channel_post"), context)
    assert gate.chats == []
    await on_error(_update({"id": 42, "type": "private", "first_name": "A"}, "message"),
                   context)
    assert gate.chats == [42]  # a person still gets the apology
