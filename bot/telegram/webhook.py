"""The webhook server: Telegram posts updates here, and nobody else gets a byte of body read.

Why not python-telegram-bot's `Updater.start_webhook`: its tornado handler reads the whole
body (up to tornado's 100 MB default) before it looks at the secret header, so any client
could make the process buffer 50 MB per request (RSS 97 -> 200 MB for one such request,
1.1 GB for ten at once). Here the handler streams: the method, the path, the
`X-Telegram-Bot-Api-Secret-Token` header (compared in constant time) and the declared length
are checked as soon as the headers have arrived. A refused request is answered at once and
its connection closed without reading the body; an accepted body is counted while it streams
in and refused (413) past `MAX_BODY_BYTES`: an update is a few kilobytes, 1 MB is generous.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Bot, Update
from telegram.ext import ExtBot
from tornado.http1connection import HTTP1Connection

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY_BYTES = 1 << 20
# A chunked body declares its size piece by piece; once a request is authenticated its
# handler counts every byte itself (data_received), so tornado's own check on the declared
# sizes is lifted for it: the answer past the cap is then 413 like for a Content-Length.
_COUNTED_BY_HANDLER = 1 << 62
BODY_TIMEOUT = 30.0  # seconds for a body to arrive: Telegram sends a few KB at once
IDLE_TIMEOUT = 75.0  # seconds a kept-alive connection may sit idle between updates


def secret_matches(given: str | None, secret: bytes) -> bool:
    """True when the header carries the secret; the comparison takes the same time for
    every wrong guess of the same length, so timing does not reveal the secret."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), secret)


def parse_update(body: bytes, bot: Bot) -> Update:
    """The Update in a webhook body; ValueError when it is not a JSON object of an update."""
    data = json.loads(body)  # a JSONDecodeError is a ValueError
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:  # PTB raises KeyError/TypeError/... for a wrong shape
        raise ValueError(f"not an update: {type(exc).__name__}: {exc}") from exc
    if update is None:
        raise ValueError("not an update")
    return update


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    """One request from Telegram: checked before its body, counted while it streams in."""

    def initialize(self, server: WebhookServer) -> None:
        self.server = server
        self._body = bytearray()
        self._refused = False

    def prepare(self) -> None:
        # Everything that can refuse a request is decided here, before tornado reads the
        # body: a request finished now gets its answer and its connection closed
        # (tornado's HTTP1Connection closes a connection whose body was left unread).
        request = self.request
        if request.method != "POST":
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED)
        elif request.path.rstrip("/") != self.server.path:
            self._refuse(HTTPStatus.NOT_FOUND)
        elif not secret_matches(request.headers.get(SECRET_HEADER), self.server.secret):
            self._refuse(HTTPStatus.FORBIDDEN)
        elif "Content-Length" in request.headers:
            length = request.headers["Content-Length"].strip()
            if not length.isdigit():
                self._refuse(HTTPStatus.BAD_REQUEST)
            elif int(length) > self.server.max_body:
                self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        elif isinstance(request.connection, HTTP1Connection):
            request.connection.set_max_body_size(_COUNTED_BY_HANDLER)

    def data_received(self, chunk: bytes) -> None:
        if self._refused:
            return
        if len(self._body) + len(chunk) > self.server.max_body:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            self._body.clear()
            return
        self._body += chunk

    async def post(self) -> None:
        if self._refused:
            return
        try:
            update = parse_update(bytes(self._body), self.server.bot)
        except ValueError as exc:
            # Only a holder of the secret gets here: one line per bad request is no flood.
            log.warning("webhook: malformed update refused",
                        extra={"bytes": len(self._body), "error": str(exc)[:200]})
            self._refuse(HTTPStatus.BAD_REQUEST)
            return
        if isinstance(self.server.bot, ExtBot):
            self.server.bot.insert_callback_data(update)  # as PTB's own handler does
        await self.server.queue.put(update)
        self.set_status(HTTPStatus.OK)
        self.finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # tornado logs each HTTPError (an unknown method's 405) as a warning: a flood of
        # them would flood the log. Anything else is a bug and keeps its traceback.
        if isinstance(value, tornado.web.HTTPError):
            log.debug("webhook request refused", extra={"status": value.status_code})
        else:
            log.error("webhook handler failed", exc_info=(typ, value, tb))

    def _refuse(self, status: HTTPStatus) -> None:
        self._refused = True
        if not self._finished:
            self.set_status(status)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"{status.value} {status.phrase}\n")


def _access_log(handler: tornado.web.RequestHandler) -> None:
    """Refusals are routine (scanners, floods): only the debug log sees each request."""
    log.debug("webhook request", extra={"status": handler.get_status(),
                                        "path": handler.request.path[:200]})


class WebhookServer:
    """Listens for Telegram's POSTs and puts each update on the application's queue."""

    def __init__(self, bot: Bot, queue: asyncio.Queue[Any], *, listen: str, port: int,
                 path: str, secret_token: str, max_body: int = MAX_BODY_BYTES) -> None:
        if not secret_token:
            raise ValueError("a webhook needs a secret token")
        self.bot = bot
        self.queue = queue
        self.listen = listen
        self.port = port
        self.path = ("/" + path.strip("/")).rstrip("/")
        self.secret = secret_token.encode("utf-8")
        self.max_body = max_body
        app = tornado.web.Application([(r"/.*", _UpdateHandler, {"server": self})],
                                      log_function=_access_log)
        # The server-wide cap is a backstop: every route streams, and refuses or counts.
        self._http = tornado.httpserver.HTTPServer(
            app, max_body_size=max_body, body_timeout=BODY_TIMEOUT,
            idle_connection_timeout=IDLE_TIMEOUT)
        self._started = False

    async def start(self) -> int:
        """Bind and serve; returns the port (useful with port 0)."""
        sockets = tornado.netutil.bind_sockets(self.port, self.listen)
        self._http.add_sockets(sockets)
        self._started = True
        self.port = int(sockets[0].getsockname()[1])
        log.info("webhook listening", extra={"listen": self.listen, "port": self.port,
                                             "path": self.path or "/"})
        return self.port

    async def register(self, url: str, allowed_updates: Sequence[str] | None) -> None:
        """Tell Telegram where to post and which secret to send (setWebhook)."""
        await self.bot.set_webhook(url=url, secret_token=self.secret.decode("utf-8"),
                                   allowed_updates=allowed_updates)

    async def stop(self) -> None:
        """Stop listening and close open connections; safe to call twice."""
        if not self._started:
            return
        self._started = False
        self._http.stop()
        await self._http.close_all_connections()
