"""Error reports: the first error goes out at once, a storm becomes one message with a count."""

from __future__ import annotations

import asyncio
import logging

from bot.config import Config
from bot.ops.error_report import ErrorDigest, ErrorReporter, make_error_handler, report_chat


def test_digest_reports_first_then_summarizes_the_storm() -> None:
    d = ErrorDigest(window=60)
    assert d.due(0) is None
    d.add("db: timeout", 0)
    first = d.due(0.5)
    assert first is not None and "db: timeout" in first and "errors" not in first
    for i in range(40):
        d.add("db: timeout" if i % 4 else "feed <x> & y failed", 1 + i)
    assert d.due(30) is None  # still inside the window after the first report
    storm = d.due(61)
    assert storm is not None
    assert "<b>40 errors</b>" in storm
    assert "30× <code>db: timeout</code>" in storm
    assert "10× <code>feed &lt;x&gt; &amp; y failed</code>" in storm  # escaped
    assert d.due(200) is None  # nothing new


def test_report_chat_prefers_error_chat_then_first_admin() -> None:
    assert report_chat(Config(admins=(7, 8), error_chat_id=-100)) == -100
    assert report_chat(Config(admins=(7, 8))) == 7
    assert report_chat(Config()) is None


async def test_reporter_collects_log_errors_and_sends_rate_limited() -> None:
    clock = [1000.0]
    reporter = ErrorReporter(7, window=60, now=lambda: clock[0]).install()
    sent: list[tuple[int, str]] = []

    async def send(chat_id: int, text: str) -> None:
        sent.append((chat_id, text))

    log = logging.getLogger("test.errors")
    try:
        try:
            raise ValueError("token 123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA leaked")
        except ValueError:
            log.exception("fetch failed")
        log.warning("only a warning")
        assert await reporter.flush_once(send)
        for _ in range(100):
            log.error("same again")
        assert not await reporter.flush_once(send)  # rate-limited
        clock[0] += 61
        stop = asyncio.Event()
        stop.set()
        await reporter.run(stop, send)  # final flush
    finally:
        reporter.uninstall()
    assert [c for c, _ in sent] == [7, 7]
    assert "ValueError" in sent[0][1] and "AAAAAAAA" not in sent[0][1]  # token redacted
    assert "<b>100 errors</b>" in sent[1][1]


async def test_ptb_error_handler_logs_so_the_reporter_sees_it() -> None:
    reporter = ErrorReporter(7, now=lambda: 0.0).install()

    class Ctx:
        error = RuntimeError("handler crashed")

    try:
        await make_error_handler()(None, Ctx())
    finally:
        reporter.uninstall()
    text = reporter.take_due()
    assert text is not None and "RuntimeError: handler crashed" in text
