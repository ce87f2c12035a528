"""Poll cycles end to end: local feed server -> fetch -> parse -> pipeline -> store."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest

from bot.clock import FakeClock
from bot.config import PollerConfig
from bot.domain import SourceConfig, Story
from bot.errors import FeedParseError, FetchError, UnsafeURLError
from bot.news.classify import get_classifier
from bot.news.cpu import CpuRunner
from bot.news.fetch import Fetcher
from bot.news.pipeline import Pipeline
from bot.news.poller import CycleReport, Poller
from bot.testing.feed_server import FeedServer
from storage.store import Store

CFG = PollerConfig(allow_private_addresses=True, timeout=2.0, min_interval=60,
                   max_backoff=21_600, batch_size=3)


def rss(items: Sequence[tuple[str, str, str]], ttl: int | None = None) -> bytes:
    """An RSS 2.0 body; items are (guid, title, description)."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{escape(t)}</title><link>https://ex.org/{g}</link>"
        f"<description>{escape(d)}</description>"
        f"<pubDate>Thu, 26 Nov 2026 05:00:00 GMT</pubDate></item>" for g, t, d in items)
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Test</title>{ttl_tag}{body}</channel></rss>").encode()


KHERSON = rss([("k1", "Evacuation buses leave Kherson",
                "Buses took 300 residents out of Kherson after overnight shelling.")])
SANCTIONS = rss([("s1", "EU agrees new sanctions package against Russian banks",
                  "Ministers in Brussels agreed the twelfth sanctions package on Thursday.")])


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    srv = FeedServer()
    await srv.start(also=("127.0.0.2",))
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def make_poller(sqlite_store: Store, clock: FakeClock
                      ) -> AsyncIterator[tuple[Poller, list[Story]]]:
    pipeline = Pipeline(sqlite_store, get_classifier(), clock)
    await pipeline.load()
    fetcher = Fetcher(CFG)
    alerted: list[Story] = []

    async def on_new(stories: Sequence[Story]) -> None:
        alerted.extend(stories)

    try:
        yield Poller(sqlite_store, pipeline, fetcher, CFG, clock, on_new_stories=on_new), alerted
    finally:
        await fetcher.aclose()


def src(name: str, url: str, interval: int = 600) -> SourceConfig:
    return SourceConfig(name=name, url=url, poll_interval=interval)


async def test_cycle_stores_then_asks_conditionally(
        server: FeedServer, make_poller: tuple[Poller, list[Story]], clock: FakeClock,
        sqlite_store: Store) -> None:
    poller, alerted = make_poller
    server.set_feed("/k.xml", KHERSON)
    server.set_feed("/s.xml", SANCTIONS)
    await poller.sync_sources([src("Kherson Daily", server.url("/k.xml")),
                               src("Brussels Wire", server.url("/s.xml"))])
    first = await poller.run_cycle()
    assert (first.fetched, first.not_modified, first.failed) == (2, 0, 0)
    assert first.new_items == 2 and len(first.new_stories) == 2
    assert {s.id for s in alerted} == {s.id for s in first.new_stories}
    titles = {s.title: s for s in first.new_stories}
    assert titles["Evacuation buses leave Kherson"].cities == ("kherson",)
    assert "sanctions" in titles["EU agrees new sanctions package against Russian banks"].topics
    assert "sources fetched 2, not modified 0, failed 0; items new 2" in first.summary()

    # nothing is due again before the interval
    assert await poller.run_cycle() == CycleReport(0, 0, 0, 0, (), ())
    clock.advance(601)
    second = await poller.run_cycle()
    assert (second.fetched, second.not_modified, second.new_items) == (0, 2, 0)
    assert all("If-None-Match" in r.headers for r in server.requests[-2:])
    for s in await sqlite_store.sources.list_all():
        assert s.last_success_at == clock.now() and s.failure_count == 0
        assert s.next_check_at == clock.now() + timedelta(seconds=600)

    server.set_feed("/k.xml", rss([("k1", "Evacuation buses leave Kherson",
                                    "Buses took 300 residents out of Kherson."),
                                   ("k2", "Power restored in Mykolaiv after drone attack",
                                    "Engineers restored power in Mykolaiv on Thursday.")]))
    clock.advance(601)
    third = await poller.run_cycle()
    assert (third.fetched, third.not_modified, third.new_items) == (1, 1, 1)
    assert [s.title for s in third.new_stories] == [
        "Power restored in Mykolaiv after drone attack"]


async def test_broken_sources_never_stop_the_others(
        server: FeedServer, make_poller: tuple[Poller, list[Story]],
        sqlite_store: Store) -> None:
    poller, _ = make_poller
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    server.set_feed("/good.xml", KHERSON)
    server.set_status("/500", 500)
    server.set_feed("/page", b"<html><body><p>Welcome</p></body></html>",
                    content_type="text/html")
    server.set_feed("/bomb", b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'>"
                             b"<!ENTITY b '&a;&a;&a;&a;'>]><rss><channel><title>&b;</title>"
                             b"</channel></rss>")
    server.set_feed("/empty", b"")
    await poller.sync_sources([
        src("Server Error", server.url("/500")), src("Web Page", server.url("/page")),
        src("Good", server.url("/good.xml")), src("Gone", server.url("/nothing-here")),
        src("Dead", f"http://127.0.0.1:{dead_port}/rss"), src("Bomb", server.url("/bomb")),
        src("Empty", server.url("/empty"))])
    report = await poller.run_cycle()
    assert (report.fetched, report.failed) == (1, 6)
    assert report.new_items == 1
    errors = dict(report.errors)
    assert errors["Server Error"].startswith("HTTP 500")
    assert errors["Gone"].startswith("HTTP 404")
    assert "connection failed" in errors["Dead"]
    assert set(errors) == {"Server Error", "Web Page", "Gone", "Dead", "Bomb", "Empty"}
    stored = {s.name: s for s in await sqlite_store.sources.list_all()}
    for name, error in errors.items():
        assert stored[name].failure_count == 1 and stored[name].last_error == error
        assert not stored[name].paused  # never dropped: still scheduled
        assert stored[name].next_check_at is not None
    assert stored["Good"].failure_count == 0 and stored["Good"].etag


async def test_backoff_grows_and_recovers(
        server: FeedServer, make_poller: tuple[Poller, list[Story]], clock: FakeClock,
        sqlite_store: Store) -> None:
    poller, _ = make_poller
    server.set_status("/flaky.xml", 503)
    await poller.sync_sources([src("Flaky", server.url("/flaky.xml"), interval=300)])
    delays = []
    for n in range(1, 8):
        report = await poller.run_cycle()
        assert report.failed == 1
        (source,) = await sqlite_store.sources.list_all()
        assert source.failure_count == n and source.last_error == "HTTP 503 Service Unavailable"
        assert source.next_check_at is not None
        delays.append((source.next_check_at - clock.now()).total_seconds())
        clock.set(source.next_check_at - timedelta(seconds=1))
        assert (await poller.run_cycle()).failed == 0  # not due a second early
        clock.advance(1)
    for n, d in enumerate(delays[:5], start=1):
        assert 0.75 * 300 * 2**n <= d <= 300 * 2**n
    assert max(delays) <= 21_600 and delays[-1] >= 0.75 * 21_600  # capped, still polled

    server.set_feed("/flaky.xml", KHERSON)  # the source comes back
    report = await poller.run_cycle()
    assert report.fetched == 1 and report.new_items == 1
    (source,) = await sqlite_store.sources.list_all()
    assert source.failure_count == 0 and source.last_error is None
    assert source.next_check_at == clock.now() + timedelta(seconds=300)


async def test_retry_after_ttl_and_redirects(
        server: FeedServer, make_poller: tuple[Poller, list[Story]], clock: FakeClock,
        sqlite_store: Store) -> None:
    poller, _ = make_poller
    server.set_status("/busy", 429, {"Retry-After": "7200"})
    server.set_feed("/slow-feed", rss([("t1", "Talks resume in Geneva", "Delegations met.")],
                                      ttl=180))
    server.set_feed("/new-home.xml", SANCTIONS)
    server.set_status("/old-home.xml", 301, {"Location": "/new-home.xml"})
    await poller.sync_sources([src("Busy", server.url("/busy")),
                               src("TTL", server.url("/slow-feed")),
                               src("Moved", server.url("/old-home.xml"))])
    report = await poller.run_cycle()
    assert report.failed == 1 and "retry after 7200 s" in dict(report.errors)["Busy"]
    got = {s.name: s for s in await sqlite_store.sources.list_all()}
    assert got["Busy"].next_check_at == clock.now() + timedelta(seconds=7200)
    assert got["TTL"].next_check_at == clock.now() + timedelta(minutes=180)
    assert got["Moved"].url == server.url("/new-home.xml")  # permanent redirect adopted
    clock.advance(601)
    await poller.run_cycle()
    assert server.request_count("/old-home.xml") == 1


async def test_run_forever_ticks_until_stopped(
        server: FeedServer, make_poller: tuple[Poller, list[Story]], clock: FakeClock) -> None:
    poller, _ = make_poller
    server.set_feed("/k.xml", KHERSON)
    await poller.sync_sources([src("Kherson Daily", server.url("/k.xml"), interval=60)])
    reports: list[CycleReport] = []
    stop = asyncio.Event()

    async def on_report(report: CycleReport) -> None:
        reports.append(report)
        if len(reports) == 6:
            stop.set()

    # tick 15 s on the fake clock: the source (every 60 s) is fetched on every 4th tick
    await asyncio.wait_for(poller.run_forever(stop, on_report=on_report), timeout=10)
    assert [(r.fetched, r.not_modified) for r in reports] == [
        (1, 0), (0, 0), (0, 0), (0, 0), (0, 1), (0, 0)]


async def test_check_feed(server: FeedServer, make_poller: tuple[Poller, list[Story]],
                          sqlite_store: Store) -> None:
    poller, _ = make_poller
    server.set_feed("/k.xml", KHERSON)
    server.set_feed("/page", b"<html><body>hi</body></html>", content_type="text/html")
    feed = await poller.check_feed(server.url("/k.xml"))
    assert feed.title == "Test" and len(feed.items) == 1
    with pytest.raises(FeedParseError):
        await poller.check_feed(server.url("/page"))
    with pytest.raises(FetchError, match="HTTP 404"):
        await poller.check_feed(server.url("/missing"))
    strict = Poller(sqlite_store, poller.pipeline, poller.fetcher,
                    PollerConfig(allow_private_addresses=False), poller.clock)
    with pytest.raises(UnsafeURLError, match="not a public address"):
        await strict.check_feed(server.url("/k.xml"))


async def test_worker_process_errors_and_a_dead_worker_cost_one_source(
        server: FeedServer, sqlite_store: Store, clock: FakeClock) -> None:
    """With the CPU stages in a worker process (the default), a feed's parse error comes
    back as that source's error, and a killed worker fails only the feed it had."""
    cpu = CpuRunner(1)
    pipeline = Pipeline(sqlite_store, get_classifier(), clock, cpu=cpu)
    await pipeline.load()
    fetcher = Fetcher(CFG)
    poller = Poller(sqlite_store, pipeline, fetcher, CFG, clock)
    try:
        server.set_feed("/good.xml", KHERSON)
        server.set_feed("/page", b"<html><body><p>Welcome</p></body></html>",
                        content_type="text/html")
        server.set_feed("/s.xml", SANCTIONS)
        sources = [src("Good", server.url("/good.xml")), src("Web Page", server.url("/page"))]
        await poller.sync_sources(sources)
        first = await poller.run_cycle()
        assert (first.fetched, first.failed, first.new_items) == (1, 1, 1)
        assert dict(first.errors)["Web Page"] == "not a feed: got an HTML page"

        worker = await cpu.run(os.getpid)
        os.kill(worker, signal.SIGKILL)
        await poller.sync_sources([*sources, src("Brussels Wire", server.url("/s.xml"))])
        second = await poller.run_cycle()  # only the new source is due
        assert (second.fetched, second.failed) == (0, 1)
        assert "BrokenProcessPool" in dict(second.errors)["Brussels Wire"]

        clock.advance(CFG.max_backoff + 1)
        third = await poller.run_cycle()  # a new worker; the feed is stored this time
        assert third.new_items == 1 and "Brussels Wire" not in dict(third.errors)
        assert [s.title for s in third.new_stories] == [
            "EU agrees new sanctions package against Russian banks"]
        assert await cpu.run(os.getpid) != worker
    finally:
        cpu.close()
        await fetcher.aclose()
