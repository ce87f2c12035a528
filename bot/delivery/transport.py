"""A lean HTTP/1.1 transport for the sender's Bot (python-telegram-bot's BaseRequest).

httpx costs about ten times more CPU per request than the request itself needs, which caps a
fan-out far below Telegram's 1,000 msg/s paid-broadcast ceiling. This transport keeps a pool
of keep-alive connections over asyncio streams (TLS for https) and speaks just the HTTP the
Bot API needs: JSON POSTs, Content-Length, chunked or read-to-close answers. No proxies and no
file uploads: use HTTPXRequest for those (the bot that answers users keeps using it).

A request is never sent twice. The Bot API has no idempotency key, so once any byte of a
request has been written, a failure means "Telegram may have it": the error says so and the
sender's classification (bot.delivery.errors.never_sent) counts the send as unknown. Only a
kept-alive connection that is already known to be closed before writing (the server's FIN or
reset has arrived) is replaced by a fresh one, which is safe because nothing was written.
Every read is bounded: the head by the stream limit, the body by `max_body`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_MAX_HEAD = 64 * 1024  # status line and headers; also the longest chunk-size or trailer line
MAX_BODY = 1024 * 1024  # a Bot API answer to a send is a few kilobytes
_MAX_TRAILER_LINES = 64
# Said of every failure after the first byte of a request was written. It must not begin
# like the "never left this process" messages that bot.delivery.errors.never_sent trusts.
MAY_HAVE_BEEN_SENT = "the request may have been sent"


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    def known_closed(self) -> bool:
        """The server's FIN or a reset has already arrived: nothing may be written here."""
        return self.reader.at_eof() or self.writer.is_closing()


@dataclass
class _Origin:
    host: str
    port: int
    tls: bool
    idle: list[_Conn] = field(default_factory=list)


class _AnswerTooLarge(Exception):
    """The server's answer is larger than max_body (the rest is left unread)."""


class LeanRequest(BaseRequest):
    """Keep-alive HTTP/1.1 for Bot API calls without files; see the module docstring."""

    def __init__(self, pool_size: int = 32, *, connect_timeout: float = 5.0,
                 read_timeout: float = 15.0, write_timeout: float = 15.0,
                 pool_timeout: float = 30.0, max_body: int = MAX_BODY,
                 keepalive_expiry: float = 5.0) -> None:
        self.pool_size = pool_size
        self.max_body = max_body
        # An idle connection older than this is closed rather than reused: the longer it
        # sat, the likelier the server is closing it just as we write (as httpx does).
        self.keepalive_expiry = keepalive_expiry
        self._timeouts = {"connect": connect_timeout, "read": read_timeout,
                          "write": write_timeout, "pool": pool_timeout}
        self._origins: dict[str, _Origin] = {}
        self._slots = asyncio.Semaphore(pool_size)
        self._ssl: ssl.SSLContext | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        return

    async def shutdown(self) -> None:
        for origin in self._origins.values():
            for conn in origin.idle:
                conn.close()
            origin.idle.clear()

    def _timeout(self, value: object, name: str) -> float | None:
        """An explicit timeout (None = wait forever), else this transport's default."""
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return self._timeouts[name]  # PTB's DEFAULT_NONE: not given

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: object = BaseRequest.DEFAULT_NONE,
                         write_timeout: object = BaseRequest.DEFAULT_NONE,
                         connect_timeout: object = BaseRequest.DEFAULT_NONE,
                         pool_timeout: object = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        """Send one request once; return (status, body) or raise TimedOut / NetworkError."""
        if request_data is not None and request_data.multipart_data:
            raise NetworkError("LeanRequest does not upload files; use HTTPXRequest")
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        key = f"{parts.scheme}://{parts.netloc}"
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(
                parts.hostname or "", parts.port or (443 if tls else 80), tls)
        # A JSON body (the Bot API takes application/json): cheaper to build and to parse
        # than form encoding.
        body = request_data.json_payload if request_data else b"{}"
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        head = (f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"User-Agent: {self.USER_AGENT}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
        timeouts = (self._timeout(read_timeout, "read"), self._timeout(write_timeout, "write"))
        try:
            async with asyncio.timeout(self._timeout(pool_timeout, "pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut("Pool timeout: all connections are busy") from None
        try:
            conn = await self._connection(origin, self._timeout(connect_timeout, "connect"))
            return await self._exchange(origin, conn, head + body, timeouts)
        finally:
            self._slots.release()

    async def _connection(self, origin: _Origin, connect_timeout: float | None) -> _Conn:
        """A live idle connection, else a new one (nothing is written here)."""
        now = asyncio.get_running_loop().time()
        while origin.idle:
            conn = origin.idle.pop()
            if not conn.known_closed() and now - conn.idle_since <= self.keepalive_expiry:
                return conn
            conn.close()
        if origin.tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(
                    origin.host, origin.port, ssl=self._ssl if origin.tls else None,
                    limit=_MAX_HEAD)
        except TimeoutError:
            raise TimedOut("connect timed out") from None
        except OSError as exc:
            raise NetworkError(f"connect failed: {exc}") from exc
        return _Conn(reader, writer)

    async def _exchange(self, origin: _Origin, conn: _Conn, data: bytes,
                        timeouts: tuple[float | None, float | None]) -> tuple[int, bytes]:
        """Write the request and read its answer; from the first byte on, never again."""
        read_timeout, write_timeout = timeouts
        keep = False
        if conn.known_closed():  # a new connection the server closed at once: nothing sent
            conn.close()
            raise NetworkError("connect failed: closed by the server before the request")
        try:
            try:
                conn.writer.write(data)
                async with asyncio.timeout(write_timeout):
                    await conn.writer.drain()
            except TimeoutError:
                raise TimedOut(f"write timed out; {MAY_HAVE_BEEN_SENT}") from None
            try:
                async with asyncio.timeout(read_timeout):
                    status, headers, persistent = await self._read_head(conn.reader)
                    payload = await self._read_body(conn.reader, status, headers,
                                                    self.max_body)
            except TimeoutError:
                raise TimedOut(f"Timed out waiting for the answer; {MAY_HAVE_BEEN_SENT}"
                               ) from None
            keep = persistent and _framed(status, headers)
            return status, payload
        except _AnswerTooLarge as exc:
            raise NetworkError(f"answer too large ({exc}); {MAY_HAVE_BEEN_SENT}") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            raise NetworkError(f"HTTP exchange failed ({exc!r}); {MAY_HAVE_BEEN_SENT}"
                               ) from exc
        finally:
            if keep:
                conn.idle_since = asyncio.get_running_loop().time()
                origin.idle.append(conn)
            else:
                conn.close()

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bool]:
        """(status, headers by lowercase name, whether the connection may be reused)."""
        raw = await reader.readuntil(b"\r\n\r\n")  # at most _MAX_HEAD: the stream's limit
        lines = raw.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x answer: {lines[0]!r}")
        status = int(rest.split(" ", 1)[0])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        persistent = ("keep-alive" in connection if version == "HTTP/1.0"
                      else "close" not in connection)
        return status, headers, persistent

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, status: int, headers: dict[str, str],
                         max_body: int) -> bytes:
        """The answer's body, never more than max_body bytes (else _AnswerTooLarge)."""
        if _no_body(status):
            return b""
        if _chunked(headers):
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size < 0:
                    raise ValueError(f"negative chunk size {size}")
                if size == 0:
                    break
                total += size
                if total > max_body:
                    raise _AnswerTooLarge(f"more than {max_body} bytes in chunks")
                chunks.append(await reader.readexactly(size))
                if await reader.readexactly(2) != b"\r\n":
                    raise ValueError("chunk not followed by CRLF")
            for _ in range(_MAX_TRAILER_LINES):  # trailers (none from the Bot API), then CRLF
                if await reader.readuntil(b"\r\n") == b"\r\n":
                    return b"".join(chunks)
            raise ValueError("too many trailer lines")
        if "content-length" in headers:
            length = int(headers["content-length"])
            if length < 0:
                raise ValueError(f"negative Content-Length {length}")
            if length > max_body:
                raise _AnswerTooLarge(f"Content-Length {length} > {max_body}")
            return await reader.readexactly(length)
        # No length: the body runs until the server closes (the connection is not reused).
        parts: list[bytes] = []
        total = 0
        while True:
            piece = await reader.read(min(65536, max_body + 1 - total))
            if not piece:
                return b"".join(parts)
            total += len(piece)
            if total > max_body:
                raise _AnswerTooLarge(f"more than {max_body} bytes before the close")
            parts.append(piece)


def _no_body(status: int) -> bool:
    return status in (204, 304) or 100 <= status < 200


def _chunked(headers: dict[str, str]) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower()


def _framed(status: int, headers: dict[str, str]) -> bool:
    """Whether the answer's end was known without the server closing the connection."""
    return _no_body(status) or _chunked(headers) or "content-length" in headers
