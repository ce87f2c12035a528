"""A command posted in a channel is answered through the replies' gate (booked on the
sender's limiter, waits out a 429), as every other answer is."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from recording_gate import RecordingGate

from bot.telegram.handlers import channel

CHANNEL = -1001000000001


class FakeBot:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str, dict[str, Any]]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> str:
        self.sent.append((chat_id, text, kwargs))
        return "sent"


async def test_the_channel_answer_goes_through_the_replies_gate() -> None:
    gate = RecordingGate()
    bot = FakeBot()
    context: Any = SimpleNamespace(bot=bot,
                                   application=SimpleNamespace(bot_data={"reply_gate": gate}))
    assert await channel._answer(context, CHANNEL, "Following <b>Kharkiv</b>.") == "sent"
    assert gate.chats == [CHANNEL]
    assert bot.sent[0][0] == CHANNEL and bot.sent[0][2]["disable_notification"] is True
