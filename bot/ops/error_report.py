"""Unexpected errors reported to the admin chat, rate-limited: a storm becomes one message.

`ErrorReporter` is a logging.Handler (level ERROR) installed on the root logger, so every
`log.exception(...)` anywhere in Herald is seen, as are errors PTB reports through
`make_error_handler()`. The first error after a quiet spell is reported within a second;
the ones that follow inside `window` seconds are counted and reported together when the
window ends ("37 more errors in the last 60 s", with the most frequent ones).
Reports go straight through a send function (Bot.send_message), not the outbox, so a broken
database or sender is still reported, by every process, leader or not.
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from bot.clock import wait_any
from bot.config import Config
from bot.logs import redact

log = logging.getLogger(__name__)

SendFn = Callable[[int, str], Awaitable[Any]]
MAX_SUMMARY = 300  # characters of one error line in a report


def summarize(record: logging.LogRecord) -> str:
    """One line: logger, message and the exception type and text (secrets redacted)."""
    line = f"{record.name}: {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        line += f" ({type(exc).__name__}: {exc})"
    line = redact(" ".join(line.split()))
    return line if len(line) <= MAX_SUMMARY else line[:MAX_SUMMARY - 1] + "…"


class ErrorDigest:
    """Pure rate limiter: at most one report per `window` seconds, with counts."""

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self.last_report: float | None = None
        self.pending: Counter[str] = Counter()
        self.first_pending_at: float | None = None

    def add(self, summary: str, now: float) -> None:
        """Record one error."""
        if not self.pending:
            self.first_pending_at = now
        self.pending[summary] += 1

    def due(self, now: float) -> str | None:
        """The report to send now (HTML), or None; what it reports is forgotten."""
        if not self.pending:
            return None
        quiet = self.last_report is None or now - self.last_report >= self.window
        if not quiet:
            return None
        total = sum(self.pending.values())
        since = self.first_pending_at if self.first_pending_at is not None else now
        if total == 1:
            (summary,) = self.pending
            text = f"⚠️ <b>Error</b>\n<code>{html.escape(summary)}</code>"
        else:
            span = max(1, round(now - since))
            lines = [f"⚠️ <b>{total} errors</b> in the last {span} s. Most frequent:"]
            for summary, n in self.pending.most_common(5):
                lines.append(f"{n}× <code>{html.escape(summary)}</code>")
            if len(self.pending) > 5:
                lines.append(f"… and {len(self.pending) - 5} other kinds.")
            text = "\n".join(lines)
        self.pending.clear()
        self.first_pending_at = None
        self.last_report = now
        return text


def report_chat(cfg: Config) -> int | None:
    """Where reports go: error_chat_id, else the first admin, else nowhere."""
    if cfg.error_chat_id:
        return cfg.error_chat_id
    return cfg.admins[0] if cfg.admins else None


class ErrorReporter(logging.Handler):
    """Collects ERROR records from any thread; `run` sends the digests."""

    def __init__(self, chat_id: int | None, *, window: float = 60.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        super().__init__(level=logging.ERROR)
        self.chat_id = chat_id
        self.now = now
        self.digest = ErrorDigest(window)
        self.sent = 0
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        # Our own failures to send a report must not feed the next report.
        if record.name == __name__:
            return
        try:
            summary = summarize(record)
        except Exception:  # a broken log call must not break logging
            summary = f"{record.name}: (unformattable log record)"
        with self._lock:
            self.digest.add(summary, self.now())

    def take_due(self) -> str | None:
        """The report due now, if any (thread-safe)."""
        with self._lock:
            return self.digest.due(self.now())

    def install(self) -> ErrorReporter:
        """Attach to the root logger (idempotent)."""
        root = logging.getLogger()
        if self not in root.handlers:
            root.addHandler(self)
        return self

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)

    async def flush_once(self, send: SendFn) -> bool:
        """Send the due report, if any; True when one was sent."""
        text = self.take_due()
        if text is None or self.chat_id is None:
            return False
        try:
            await send(self.chat_id, text)
        except Exception as exc:  # the report is lost, the log line stays
            log.warning("error report not sent", extra={"chat": self.chat_id,
                                                        "error": repr(exc)})
            return False
        self.sent += 1
        return True

    async def run(self, stop: asyncio.Event, send: SendFn, tick: float = 1.0) -> None:
        """Flush due reports every `tick` seconds until `stop`."""
        while not stop.is_set():
            await self.flush_once(send)
            await wait_any(stop, timeout=tick)
        await self.flush_once(send)


def make_error_handler() -> Callable[[object, Any], Awaitable[None]]:
    """A PTB error handler (`application.add_error_handler(...)`) that logs with context, so
    ErrorReporter reports it."""

    async def on_error(update: object, context: Any) -> None:
        chat = getattr(getattr(update, "effective_chat", None), "id", None)
        log_ = logging.getLogger("bot.telegram.errors")
        error = getattr(context, "error", None)
        exc_info = (type(error), error, error.__traceback__) if error is not None else None
        log_.error("unhandled error in a handler", exc_info=exc_info, extra={"chat": chat})

    return on_error
