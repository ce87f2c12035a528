"""The webhook server refuses before reading: secret and size are checked on the headers.

Every exchange runs over a plain loopback socket, so the tests see exactly what a client
sees: an answer that arrives while the client has sent only a few bytes of a body it
declared as 50 MB was decided without reading that body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterable

import pytest
from telegram import Bot, Update

from bot.telegram.webhook import MAX_BODY_BYTES, WebhookServer

SECRET = "wh-Secret_0123456789"
DEADLINE = 30.0  # seconds: only ever reached when the server fails to answer
UPDATE = {"update_id": 7, "message": {
    "message_id": 1, "date": 0, "text": "/help",
    "chat": {"id": 302, "type": "private", "first_name": "Ann"},
    "from": {"id": 302, "is_bot": False, "first_name": "Ann"},
    "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}


@pytest.fixture
async def server() -> AsyncIterator[WebhookServer]:
    srv = WebhookServer(Bot("123456:" + "A" * 35), asyncio.Queue(), listen="127.0.0.1",
                        port=0, path="telegram", secret_token=SECRET)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def _head(*, secret: str | None, length: int | None = None, chunked: bool = False,
          method: str = "POST", path: str = "/telegram") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: bot.example.org",
             "Content-Type: application/json"]
    if secret is not None:
        lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Client:
    """One raw connection: send pieces until the server answers, then read the answer."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.socket()
        self.sock.setblocking(False)
        self.sent = 0
        self._answer: asyncio.Task[bytes] | None = None

    async def __aenter__(self) -> Client:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", self.port))
        self._answer = asyncio.ensure_future(self._read_head())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.cancel()
        self.sock.close()

    async def _read_head(self) -> bytes:
        # The kernel hands over what arrived before any reset, so a server that answers
        # and then closes on an unread body is still heard.
        loop = asyncio.get_running_loop()
        data = b""
        while b"\r\n\r\n" not in data:
            piece = await loop.sock_recv(self.sock, 65536)
            if not piece:
                break
            data += piece
        return data

    @property
    def answered(self) -> bool:
        assert self._answer is not None
        return self._answer.done()

    async def send(self, pieces: Iterable[bytes]) -> None:
        """Send pieces one by one, stopping as soon as an answer has arrived."""
        loop = asyncio.get_running_loop()
        for piece in pieces:
            if self.answered:
                return
            try:
                await loop.sock_sendall(self.sock, piece)
            except OSError:  # the server closed the connection: its answer is waiting
                return
            self.sent += len(piece)
            await asyncio.sleep(0)  # let the answer in, if there is one

    async def status(self) -> int:
        assert self._answer is not None
        head = await asyncio.wait_for(self._answer, DEADLINE)
        assert head, "the server closed the connection without an answer"
        return int(head.split(b" ", 2)[1])

    async def closed_by_server(self) -> bool:
        """True once the server has closed its end (EOF or reset), waiting up to DEADLINE."""
        loop = asyncio.get_running_loop()
        try:
            while await asyncio.wait_for(loop.sock_recv(self.sock, 65536), DEADLINE):
                pass
        except ConnectionResetError:
            pass
        return True


async def test_no_secret_and_a_50_mb_body_is_refused_before_the_body(
        server: WebhookServer) -> None:
    async with Client(server.port) as c:
        await c.send([_head(secret=None, length=50 << 20), b'{"update_id": 1, '])
        assert await c.status() == 403
        assert c.sent < 1024  # answered while the body was still on the client's side
        assert await c.closed_by_server()
    assert server.queue.empty()


async def test_a_wrong_secret_with_a_chunked_stream_is_refused_before_the_body(
        server: WebhookServer) -> None:
    async with Client(server.port) as c:
        # The chunk announces 50 MB; only a few bytes of it ever leave the client.
        await c.send([_head(secret="wrong-" + SECRET, chunked=True),
                      f"{50 << 20:x}\r\n".encode(), b'{"update_id": 1, '])
        assert await c.status() == 403
        assert c.sent < 1024
        assert await c.closed_by_server()


async def test_the_right_secret_with_a_2_mb_body_is_413_before_the_body(
        server: WebhookServer) -> None:
    async with Client(server.port) as c:
        await c.send([_head(secret=SECRET, length=2 << 20), b'{"update_id": 1, '])
        assert await c.status() == 413
        assert c.sent < 1024


async def test_the_right_secret_with_a_chunked_2_mb_body_is_413(server: WebhookServer) -> None:
    piece = b" " * 65536
    body = [f"{len(piece):x}\r\n".encode() + piece + b"\r\n"] * (2 * MAX_BODY_BYTES // len(piece))
    async with Client(server.port) as c:
        await c.send([_head(secret=SECRET, chunked=True), *body])
        assert await c.status() == 413
    assert server.queue.empty()


async def test_a_valid_update_reaches_the_queue(server: WebhookServer) -> None:
    body = json.dumps(UPDATE).encode()
    async with Client(server.port) as c:
        await c.send([_head(secret=SECRET, length=len(body)), body])
        assert await c.status() == 200
    update = await asyncio.wait_for(server.queue.get(), DEADLINE)
    assert isinstance(update, Update)
    assert update.update_id == 7 and update.effective_message is not None
    assert update.effective_message.text == "/help"


async def test_malformed_json_is_400_logged_once_and_the_server_goes_on(
        server: WebhookServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="bot.telegram.webhook"):
        for bad in (b'{"update_id": ', b"[1, 2]", b'{"update_id": "x", "message": 5}'):
            async with Client(server.port) as c:
                await c.send([_head(secret=SECRET, length=len(bad)), bad])
                assert await c.status() == 400
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 3  # one line for each bad request, no traceback
    assert all(r.exc_info is None for r in warnings)
    assert SECRET not in caplog.text
    body = json.dumps(UPDATE).encode()
    async with Client(server.port) as c:
        await c.send([_head(secret=SECRET, length=len(body)), body])
        assert await c.status() == 200
    assert (await server.queue.get()).update_id == 7


async def test_other_paths_and_methods_are_refused(server: WebhookServer) -> None:
    for head, status in ((_head(secret=SECRET, length=50 << 20, path="/other"), 404),
                         (_head(secret=SECRET, method="GET"), 405),
                         (_head(secret=SECRET, length=2, path="/telegram/"), None)):
        async with Client(server.port) as c:
            await c.send([head, b"{}"])
            if status is None:  # the path with a trailing slash is the same path
                assert await c.status() == 400  # reached the JSON check: {} is no update
            else:
                assert await c.status() == status


async def test_after_stop_nothing_listens(server: WebhookServer) -> None:
    await server.stop()
    await server.stop()  # twice is fine
    with pytest.raises(OSError):
        async with Client(server.port):
            pass
