"""A local HTTP feed server on loopback for tests, benchmarks and `herald demo`.

Serves feeds (and Telegram channel preview pages, at /s/<channel> with ?before=<id> for
older pages: a route may be set for a path with its query) with ETag/Last-Modified and
answers 304 to conditional requests, or any
status (500, 429 with Retry-After, 301 redirects ...), optionally after a delay, and
logs every request with its timing so tests can check politeness (one request per host).

Run it by hand to serve a folder of feeds: `python -m bot.testing.feed_server DIR [PORT]`.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web

_CHUNK = 64 * 1024


@dataclass
class RequestRecord:
    """One request as the server saw it; times are time.monotonic()."""

    path: str
    method: str
    host: str  # the address the request arrived on (127.0.0.1, 127.0.0.2 ...)
    headers: dict[str, str]
    started: float
    finished: float = 0.0
    status: int = 0
    query: str = ""


@dataclass
class _Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: float | None = None  # epoch seconds
    chunked: bool = False


def _http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def _not_modified(route: _Route, headers: Any) -> bool:
    inm = headers.get("If-None-Match")
    if inm is not None:
        if route.etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or route.etag in tags
    ims = headers.get("If-Modified-Since")
    if ims and route.last_modified is not None:
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return int(route.last_modified) <= since
    return False


class _Handler(tornado.web.RequestHandler):
    server: FeedServer
    record: RequestRecord

    def initialize(self, server: FeedServer) -> None:
        self.server = server

    def compute_etag(self) -> str | None:
        return None  # ETags are ours to decide, per route

    async def get(self) -> None:
        path = self.request.path
        conn: Any = self.request.connection  # HTTP1ServerConnection: has .stream
        sockname = conn.stream.socket.getsockname()
        self.record = RequestRecord(path=path, method=self.request.method or "GET",
                                    host=str(sockname[0]), headers=dict(self.request.headers),
                                    started=time.monotonic(), query=self.request.query)
        self.server.requests.append(self.record)
        delay = self.server._delays.get(path, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        route = None
        if self.request.query:  # a route for this exact query wins (?before=<id> pages)
            route = self.server._routes.get(f"{path}?{self.request.query}")
        if route is None:
            route = self.server._routes.get(path)
        if route is None:
            self.set_status(404)
            self.set_header("Content-Type", "text/plain")
            self.finish(b"not found\n")
            return
        self.set_status(route.status)
        for name, value in route.headers.items():
            self.set_header(name, value)
        if route.etag is not None:
            self.set_header("ETag", route.etag)
        if route.last_modified is not None:
            self.set_header("Last-Modified", _http_date(route.last_modified))
        if route.status == 200 and _not_modified(route, self.request.headers):
            self.set_status(304)
            self.clear_header("Content-Type")
            self.finish()
            return
        if route.chunked:
            for start in range(0, len(route.body), _CHUNK):
                self.write(route.body[start:start + _CHUNK])
                await self.flush()
            self.finish()
            return
        self.finish(route.body)

    def on_finish(self) -> None:
        record = getattr(self, "record", None)
        if record is not None:
            record.finished = time.monotonic()
            record.status = self.get_status()


class FeedServer:
    """An HTTP server on loopback whose answers the test sets per path."""

    def __init__(self) -> None:
        self._routes: dict[str, _Route] = {}
        self._delays: dict[str, float] = {}
        self.requests: list[RequestRecord] = []
        self._http: tornado.httpserver.HTTPServer | None = None
        self._sockets: list[socket.socket] = []
        self.base_url = ""
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0, *,
                    also: Sequence[str] = ()) -> str:
        """Listen on host:port (and the same port on each address in `also`); return the URL."""
        app = tornado.web.Application([(r"/.*", _Handler, {"server": self})],
                                      log_function=lambda _handler: None)
        self._http = tornado.httpserver.HTTPServer(app, idle_connection_timeout=30)
        socks = tornado.netutil.bind_sockets(port, address=host, family=socket.AF_INET)
        self.port = socks[0].getsockname()[1]
        for extra in also:
            socks += tornado.netutil.bind_sockets(self.port, address=extra,
                                                  family=socket.AF_INET)
        self._sockets = socks
        self._http.add_sockets(socks)
        self.base_url = f"http://{host}:{self.port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._http is not None:
            self._http.stop()
            await self._http.close_all_connections()
            self._http = None

    def url(self, path: str, host: str | None = None) -> str:
        """Absolute URL of a path (on another of the listening addresses if given)."""
        if host is None:
            return f"{self.base_url}{path}"
        return f"http://{host}:{self.port}{path}"

    def set_feed(self, path: str, body: bytes, *, content_type: str = "application/rss+xml",
                 etag: bool = True, last_modified: bool = True,
                 headers: dict[str, str] | None = None, chunked: bool = False) -> None:
        """Serve body at path with validators; a changed body gets a new ETag."""
        digest = hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16]
        old = self._routes.get(path)
        changed = old is None or old.body != body or old.status != 200
        modified = (time.time() if changed or old is None or old.last_modified is None
                    else old.last_modified)
        self._routes[path] = _Route(
            status=200, body=body, headers={"Content-Type": content_type, **(headers or {})},
            etag=f'"{digest}"' if etag else None,
            last_modified=modified if last_modified else None, chunked=chunked)

    def set_channel(self, channel: str, page: bytes, *,
                    older: dict[int, bytes] | None = None) -> None:
        """Serve a channel's preview page at /s/<channel> as t.me does (HTML, no validators),
        and older pages at /s/<channel>?before=<id>."""
        kind = "text/html; charset=utf-8"
        self.set_feed(f"/s/{channel}", page, content_type=kind, etag=False,
                      last_modified=False)
        for before, body in (older or {}).items():
            self.set_feed(f"/s/{channel}?before={before}", body, content_type=kind,
                          etag=False, last_modified=False)

    def set_status(self, path: str, status: int, headers: dict[str, str] | None = None,
                   body: bytes = b"") -> None:
        """Answer path with this status, headers and body (errors, redirects, 429 ...)."""
        self._routes[path] = _Route(status=status, body=body, headers=dict(headers or {}))

    def set_delay(self, path: str, seconds: float) -> None:
        """Wait this long before answering path (timeouts, overlap checks)."""
        self._delays[path] = seconds

    def remove(self, path: str) -> None:
        """Forget a path (it answers 404)."""
        self._routes.pop(path, None)

    def request_count(self, path: str) -> int:
        """How many requests path has received."""
        return sum(1 for r in self.requests if r.path == path)

    def serve_directory(self, folder: str | Path, prefix: str = "/") -> list[str]:
        """Serve every file of a folder at prefix + file name; return the paths."""
        paths = []
        for file in sorted(Path(folder).iterdir()):
            if file.is_file():
                kind = ("application/rss+xml" if file.suffix in (".xml", ".rss", ".atom")
                        else "application/feed+json" if file.suffix == ".json"
                        else "text/plain")
                path = prefix + file.name
                self.set_feed(path, file.read_bytes(), content_type=kind)
                paths.append(path)
        return paths


@contextmanager
def serve_in_thread(host: str = "127.0.0.1", port: int = 0, *,
                    also: Sequence[str] = ()) -> Iterator[FeedServer]:
    """Run a FeedServer on its own event loop in a thread (for code that calls asyncio.run,
    such as the `herald` CLI in tests). set_feed and friends may be called from outside."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="feed-server", daemon=True)
    thread.start()
    server = FeedServer()
    try:
        asyncio.run_coroutine_threadsafe(server.start(host, port, also=also), loop).result(10)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _serve_forever(folder: str, port: int) -> None:
    server = FeedServer()
    base = await server.start(port=port)
    for path in server.serve_directory(folder):
        print(f"{base}{path}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover - manual use
    if len(sys.argv) < 2:
        print("usage: python -m bot.testing.feed_server DIR [PORT]", file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(_serve_forever(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0))
    except KeyboardInterrupt:
        pass
