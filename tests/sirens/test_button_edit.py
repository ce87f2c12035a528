"""Official alerts in a chat: the "sir:" buttons redraw their message through the replies'
gate (booked on the sender's limiter, like every other button's edit), and /alerts counts
the active alerts with plural rules."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from recording_gate import RecordingGate

from bot.telegram.handlers import sirens

CHAT = 42


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


def test_the_count_of_active_alerts_reads_right_for_one() -> None:
    assert sirens.active_count_line(1, 1, "en") == \
        "Active in Ukraine: 1 alert, in 1 of 27 regions."
    assert sirens.active_count_line(12, 9, "en") == \
        "Active in Ukraine: 12 alerts, in 9 of 27 regions."
    assert sirens.active_count_line(1, 1, "uk") == \
        "Усього в Україні: тривог — 1, у 1 з 27 регіонів."


def test_the_one_time_question_in_ukrainian_needs_no_case_of_the_name() -> None:
    from bot.i18n import translator

    text = translator("uk")(
        "Herald also sends the official air-raid alerts for <b>{name}</b> and for the larger "
        "units it lies in (its hromada, raion, oblast), loud even in quiet hours, and the "
        "all-clear. Keep them on?").format(name="Харків")
    assert "для <b>Харків</b>" not in text  # "для" wants the genitive: "для Харкова"
    assert "(<b>Харків</b>)" in text
