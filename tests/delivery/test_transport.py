"""LeanRequest: python-telegram-bot over the lean HTTP/1.1 transport."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.errors import Action, classify, never_sent
from bot.delivery.sender import Sender
from bot.delivery.transport import MAY_HAVE_BEEN_SENT, LeanRequest
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


async def test_a_request_that_may_have_arrived_is_never_sent_again() -> None:
    """The server reads the second request on a kept-alive connection, then closes without
    answering: it may have acted on it, so the transport must not resend it elsewhere."""
    served: list[bytes] = []

    async def answer_once_then_swallow(reader: asyncio.StreamReader,
                                       writer: asyncio.StreamWriter) -> None:
        served.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK), OK))
        await writer.drain()
        served.append(await read_request(reader))
        writer.close()  # read, maybe acted on, never answered

    server, url = await raw_server(answer_once_then_swallow)
    request = LeanRequest(1)
    try:
        status, _ = await request.do_request(url + "x/sendMessage", "POST")
        assert status == 200
        with pytest.raises(NetworkError) as caught:
            await request.do_request(url + "x/sendMessage", "POST")
        assert MAY_HAVE_BEEN_SENT in caught.value.message
        assert not never_sent(caught.value)
        assert classify(caught.value).action is Action.UNKNOWN
        await asyncio.sleep(0.05)
        assert len(served) == 2  # once each: no third copy on a fresh connection
    finally:
        await request.shutdown()
        server.close()


async def test_a_fresh_connection_closed_after_the_request_is_unknown_too() -> None:
    served: list[bytes] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(await read_request(reader))
        writer.close()

    server, url = await raw_server(swallow)
    request = LeanRequest(1)
    try:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(url + "x/sendMessage", "POST")
        assert classify(caught.value).action is Action.UNKNOWN
        await asyncio.sleep(0.05)
        assert len(served) == 1
    finally:
        await request.shutdown()
        server.close()


async def test_expired_idle_connections_are_not_reused() -> None:
    connections = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(OK), OK))
                await writer.drain()

    server, url = await raw_server(keep_alive)
    reusing, expiring = LeanRequest(1), LeanRequest(1, keepalive_expiry=0.0)
    try:
        for _ in range(3):
            assert (await reusing.do_request(url + "x/getMe", "POST"))[0] == 200
        assert connections == 1
        for _ in range(3):
            await asyncio.sleep(0.01)
            assert (await expiring.do_request(url + "x/getMe", "POST"))[0] == 200
        assert connections == 4
    finally:
        await reusing.shutdown()
        await expiring.shutdown()
        server.close()


async def test_answer_without_content_length_runs_to_the_close() -> None:
    connections = 0

    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + OK)
        await writer.drain()
        writer.close()

    server, url = await raw_server(until_close)
    request = LeanRequest(1)
    try:
        for _ in range(2):
            status, body = await request.do_request(url + "x/getMe", "POST")
            assert status == 200 and json.loads(body) == {"ok": True, "result": True}
        assert connections == 2  # an answer framed by the close never leaves a reusable one
    finally:
        await request.shutdown()
        server.close()


async def _send_and_swallow_errors(writer: asyncio.StreamWriter, *pieces: bytes) -> None:
    with contextlib.suppress(ConnectionError):
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
    writer.close()


@pytest.mark.parametrize("framing", ["none", "content-length", "chunked"])
async def test_huge_answers_are_refused_without_reading_them_whole(framing: str) -> None:
    sent = 0
    megabyte = b"x" * (1 << 20)

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        await read_request(reader)
        if framing == "content-length":  # announces a terabyte, sends a little
            await _send_and_swallow_errors(
                writer, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % 10**12, megabyte)
            return
        head = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                if framing == "chunked" else b"HTTP/1.1 200 OK\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            writer.write(head)
            for _ in range(50):  # 50 MB unless the client stops reading
                writer.write(b"%x\r\n%s\r\n" % (len(megabyte), megabyte)
                             if framing == "chunked" else megabyte)
                await writer.drain()
                sent += 1
        writer.close()

    server, url = await raw_server(huge)
    request = LeanRequest(1)
    try:
        with pytest.raises(NetworkError, match="too large") as caught:
            await request.do_request(url + "x/getMe", "POST")
        assert classify(caught.value).action is Action.UNKNOWN
        await asyncio.sleep(0.05)
        assert sent < 10  # the client hung up long before the 50 MB were through
    finally:
        await request.shutdown()
        server.close()


async def test_max_body_is_configurable_and_exact() -> None:
    body = b'{"ok":true,"result":"' + b"y" * 1000 + b'"}'

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
                await writer.drain()

    server, url = await raw_server(answer)
    fits, too_small = LeanRequest(1, max_body=len(body)), LeanRequest(1, max_body=len(body) - 1)
    try:
        assert (await fits.do_request(url + "x/getMe", "POST"))[1] == body
        with pytest.raises(NetworkError, match="too large"):
            await too_small.do_request(url + "x/getMe", "POST")
    finally:
        await fits.shutdown()
        await too_small.shutdown()
        server.close()


async def test_chunked_trailers_are_read_and_the_connection_reused() -> None:
    connections = 0

    async def with_trailers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + b"%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (len(OK), OK))
                await writer.drain()

    server, url = await raw_server(with_trailers)
    request = LeanRequest(1)
    try:
        for _ in range(3):
            status, body = await request.do_request(url + "x/getMe", "POST")
            assert status == 200 and body == OK
        assert connections == 1
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
        with pytest.raises(TimedOut) as timed_out:
            await request.do_request(url + "x/sendMessage", "POST")
        assert classify(timed_out.value).action is Action.UNKNOWN  # Telegram may have it
        with pytest.raises(TimedOut):
            await request.do_request(url + "x/sendMessage", "POST", read_timeout=0.1)
    finally:
        await request.shutdown()
        server.close()
    with pytest.raises(NetworkError, match="connect failed") as refused:
        await LeanRequest(1).do_request(url + "x/getMe", "POST")
    assert classify(refused.value).action is Action.RETRY  # surely never sent


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
