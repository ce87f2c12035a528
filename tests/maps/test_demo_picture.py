"""`herald demo` shows a picture the bot sends as a file path, with its caption."""

from __future__ import annotations

import io
import re
from pathlib import Path

from bot.testing.botapi import BotApiEmulator, SentMessage
from bot.testing.demo import Transcript


def test_picture_is_written_to_a_file_and_its_path_printed() -> None:
    out = io.StringIO()
    transcript = Transcript(BotApiEmulator(), out)
    data = b"\x89PNG\r\n\x1a\n not checked here"
    transcript.print_message(SentMessage(chat_id=1001, message_id=7, text="Stories",
                                         parse_mode=None, plain="Stories", photo=data))
    text = out.getvalue()
    m = re.match(r"bot> \[picture: (\S+)\]\n\s+Stories\n$", text)
    assert m is not None, text
    assert Path(m.group(1)).read_bytes() == data
