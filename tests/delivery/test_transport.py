"""LeanRequest: python-telegram-bot over the lean HTTP/1.1 transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.sender import Sender
from bot.delivery.transport import LeanRequest
from bot.domain import DeliveryKind, OutgoingMessage
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator
from storage.store import Store

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = json.dumps({"ok": True, "result": True}).encode()


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    e = BotApiEmulator(chat_rate=1.0, chat_burst=1)
    await e.start()
    yield e
    await e.stop()


async def raw_server(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/bot"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length"))
    return await reader.readexactly(length)


async def test_bot_api_calls_and_errors(emu: BotApiEmulator) -> None:
    request = LeanRequest(4)
    bot = Bot(DEFAULT_TOKEN, base_url=emu.base_url, request=request)
    async with bot:
        msg = await bot.send_message(5, "<b>hi</b> &amp; bye", parse_mode="HTML")
        assert msg.text == "hi & bye" and msg.entities[0].type == "bold"
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "too fast for this chat")
        emu.block(6)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(6, "x")
        with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
            await bot.send_message(7, "<b>x", parse_mode="HTML")
        for i in range(20):  # keep-alive: many calls, a handful of connections
            await bot.send_message(100 + i, f"m{i} ü")
    assert [m.plain for m in emu.sent()][-1] == "m19 ü"


async def test_stale_keep_alive_connection_is_replaced() -> None:
    served = []

    async def once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(await read_request(reader))
        # keep-alive answer, then the server drops the connection anyway
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK), OK))
        await writer.drain()
        writer.close()

    server, url = await raw_server(once_then_close)
    request = LeanRequest(1)
    try:
        for _ in range(3):
            status, body = await request.do_request(url + "x/getMe", "POST")
            assert status == 200 and json.loads(body)["ok"]
            await asyncio.sleep(0.05)
        assert len(served) == 3
    finally:
        await request.shutdown()
        server.close()


async def test_chunked_answer_and_error_status() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        body = json.dumps({"ok": False, "error_code": 400,
                           "description": "Bad Request: chat not found"}).encode()
        writer.write(b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + b"%x\r\n%s\r\n" % (10, body[:10]) + b"%x\r\n%s\r\n0\r\n\r\n"
                     % (len(body) - 10, body[10:]))
        await writer.drain()

    server, url = await raw_server(chunked)
    bot = Bot(DEFAULT_TOKEN, base_url=url, request=LeanRequest(2))
    try:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(1, "x")
    finally:
        await bot.request.shutdown()
        server.close()


async def test_timeouts_and_refused_connections() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    server, url = await raw_server(silent)
    request = LeanRequest(2, read_timeout=0.2)
    try:
        with pytest.raises(TimedOut):
            await request.do_request(url + "x/sendMessage", "POST")
        with pytest.raises(TimedOut):
            await request.do_request(url + "x/sendMessage", "POST", read_timeout=0.1)
    finally:
        await request.shutdown()
        server.close()
    with pytest.raises(NetworkError, match="connect failed"):
        await LeanRequest(1).do_request(url + "x/getMe", "POST")


async def test_sender_over_lean_transport(sqlite_store: Store) -> None:
    emu = BotApiEmulator(enforce_limits=False)
    await emu.start()
    bot = Bot(DEFAULT_TOKEN, base_url=emu.base_url, request=LeanRequest(16))
    try:
        await sqlite_store.outbox.enqueue([
            OutgoingMessage(chat_id=1 + i % 20, kind=DeliveryKind.ALERT, text=f"<i>n</i> {i}")
            for i in range(200)])
        async with bot:
            cfg = DeliveryConfig(global_rate=10_000.0, private_chat_rate=1000.0)
            await Sender(sqlite_store, bot, cfg, Clock(), worker_id="lean",
                         max_in_flight=16).drain(20)
        assert (await sqlite_store.outbox.counts())["sent"] == 200
        for chat in (1, 20):
            got = [int(m.plain.split()[1]) for m in emu.sent(chat)]
            assert got == sorted(got) and len(got) == 10
    finally:
        await emu.stop()


async def test_every_parameter_type_survives_the_json_body(emu: BotApiEmulator) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    bot = Bot(DEFAULT_TOKEN, base_url=emu.base_url, request=LeanRequest(2))
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Mute 1 h", callback_data="m:1")]])
    async with bot:
        msg = await bot.send_message(-1001234, "<b>x</b>", parse_mode="HTML",
                                     reply_markup=markup, disable_notification=True,
                                     message_thread_id=3, allow_paid_broadcast=True)
    assert msg.reply_markup == markup
    [sent] = emu.sent(-1001234)
    assert sent.disable_notification and sent.paid and sent.thread_id == 3
    assert sent.buttons() == [("Mute 1 h", "m:1")]
