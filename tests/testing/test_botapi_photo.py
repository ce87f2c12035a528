"""sendPhoto in the Bot API emulator, through python-telegram-bot's real Bot (multipart)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from PIL import Image
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator

CHAT = 501


def png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
async def api() -> AsyncIterator[tuple[BotApiEmulator, Bot]]:
    emu = BotApiEmulator()
    base_url = await emu.start()
    bot = Bot(DEFAULT_TOKEN, base_url=base_url)
    await bot.initialize()
    emu.user_message(CHAT, "/map")
    try:
        yield emu, bot
    finally:
        await bot.shutdown()
        await emu.stop()


async def test_photo_upload_is_recorded_and_reusable(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    data = png(1280, 880)
    msg = await bot.send_photo(CHAT, photo=data, filename="map.png",
                               caption="Stories: <b>Kharkiv</b> 3", parse_mode=ParseMode.HTML)
    assert msg.photo[-1].width == 1280 and msg.photo[-1].height == 880
    assert msg.caption == "Stories: Kharkiv 3" and msg.caption_entities[0].type == "bold"
    sent = emu.sent(CHAT)[-1]
    assert sent.photo == data and sent.plain == "Stories: Kharkiv 3"
    # The file_id Telegram gave back sends the same picture again, without an upload.
    again = await bot.send_photo(CHAT, photo=msg.photo[-1].file_id)
    assert emu.sent(CHAT)[-1].photo == data and again.caption is None
    # The control endpoint (for an emulator in another process) reports the photo's size.
    async with httpx.AsyncClient() as client:
        r = await client.get(emu.base_url.replace("/bot", "/_emulator/sent"))
    assert [m["photo"] for m in r.json()] == [len(data), len(data)]


async def test_photo_errors_are_telegrams(api: tuple[BotApiEmulator, Bot]) -> None:
    emu, bot = api
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(CHAT, photo=b"not a picture at all", filename="x.png")
    with pytest.raises(BadRequest, match=r"(?i)photo_invalid_dimensions"):
        await bot.send_photo(CHAT, photo=png(2000, 40))
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(CHAT, photo="AgACunknown")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(CHAT, photo=png(10, 10), caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
        await bot.send_photo(CHAT, photo=png(10, 10), caption="<b>open",
                             parse_mode=ParseMode.HTML)
    assert emu.sent(CHAT) == []
