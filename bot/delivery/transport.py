"""A lean HTTP/1.1 transport for the sender's Bot (python-telegram-bot's BaseRequest).

httpx costs about ten times more CPU per request than the request itself needs, which caps a
fan-out far below Telegram's 1,000 msg/s paid-broadcast ceiling. This transport keeps a pool
of keep-alive connections over asyncio streams (TLS for https) and speaks just the HTTP the
Bot API needs: JSON POSTs, Content-Length or chunked answers. No proxies and no file
uploads: use HTTPXRequest for those (the bot that answers users keeps using it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_MAX_HEAD = 64 * 1024


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    used: int = 0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass
class _Origin:
    host: str
    port: int
    tls: bool
    idle: list[_Conn] = field(default_factory=list)


class LeanRequest(BaseRequest):
    """Keep-alive HTTP/1.1 for Bot API calls without files; see the module docstring."""

    def __init__(self, pool_size: int = 32, *, connect_timeout: float = 5.0,
                 read_timeout: float = 15.0, write_timeout: float = 15.0,
                 pool_timeout: float = 30.0) -> None:
        self.pool_size = pool_size
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
        """Send one request; return (status, body) or raise TimedOut / NetworkError."""
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
        timeouts = (self._timeout(read_timeout, "read"), self._timeout(write_timeout, "write"),
                    self._timeout(connect_timeout, "connect"))
        try:
            async with asyncio.timeout(self._timeout(pool_timeout, "pool")):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut("Pool timeout: all connections are busy") from None
        try:
            for attempt in (1, 2):
                conn = await self._connection(origin, timeouts[2])
                try:
                    return await self._exchange(origin, conn, head + body, timeouts)
                except _StaleConnection:
                    # A kept-alive connection the server had closed: nothing was answered,
                    # so try once more on a fresh one.
                    if attempt == 2:
                        raise NetworkError("connection closed by the server") from None
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            self._slots.release()

    async def _connection(self, origin: _Origin, connect_timeout: float | None) -> _Conn:
        while origin.idle:
            conn = origin.idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
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
                        timeouts: tuple[float | None, float | None, float | None]
                        ) -> tuple[int, bytes]:
        read_timeout, write_timeout, _ = timeouts
        reused = conn.used > 0
        conn.used += 1
        keep = False
        try:
            try:
                conn.writer.write(data)
                async with asyncio.timeout(write_timeout):
                    await conn.writer.drain()
            except TimeoutError:
                raise TimedOut("write timed out") from None
            try:
                async with asyncio.timeout(read_timeout):
                    status, headers = await self._read_head(conn.reader, reused)
                    payload = await self._read_body(conn.reader, headers)
            except TimeoutError:
                raise TimedOut() from None
            keep = headers.get("connection", "").lower() != "close"
            return status, payload
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:
            raise NetworkError(f"HTTP exchange failed: {exc!r}") from exc
        finally:
            if keep:
                origin.idle.append(conn)
            else:
                conn.close()

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader, reused: bool
                         ) -> tuple[int, dict[str, str]]:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if reused and not exc.partial:
                raise _StaleConnection from None
            raise
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
        return status, headers

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers from the Bot API
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        headers["connection"] = "close"  # body runs until the server closes
        return await reader.read()


class _StaleConnection(Exception):
    """The server closed a kept-alive connection before answering."""
