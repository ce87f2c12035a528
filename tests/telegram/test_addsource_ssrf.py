"""/addsource tells the admin why a URL was refused, for odd address spellings and for
what the fetch finds (a redirect to an internal host, a bomb, an unknown encoding),
instead of "Sorry, something went wrong"."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.config import Config, PollerConfig
from bot.errors import UserInputError
from bot.news.classify import get_classifier
from bot.news.fetch import Fetcher
from bot.news.pipeline import Pipeline
from bot.news.poller import Poller
from bot.services import Services
from bot.telegram.admin_views import add_source
from bot.testing.feed_server import FeedServer
from storage.store import Store

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


async def services_with(store: Store, poller_cfg: PollerConfig) -> Services:
    clock = FakeClock(NOW)
    services = Services(config=Config(poller=poller_cfg), store=store, clock=clock)
    services.poller = Poller(store, Pipeline(store, get_classifier(), clock),
                             Fetcher(poller_cfg), poller_cfg, clock)
    return services




@pytest.mark.parametrize(("url", "address"), [
    ("http://0177.0.0.1/feed", "127.0.0.1"),
    ("http://0x7f000001/", "127.0.0.1"),
    ("http://127\u30020\u30020\u30021/", "127.0.0.1"),
    ("http://0/", "0.0.0.0"),
])
async def test_odd_spellings_get_a_reason(sqlite_store: Store, url: str, address: str) -> None:
    services = await services_with(sqlite_store, PollerConfig())
    try:
        with pytest.raises(UserInputError, match=r"This URL cannot be a source: .* is a "
                           rf"non-standard spelling of an IP address \({address}\)"):
            await add_source(services, url)
    finally:
        await services.poller.fetcher.aclose()
    assert await sqlite_store.sources.list_all() == []


async def test_what_the_fetch_refuses_is_told_to_the_admin(sqlite_store: Store,
                                                          server: FeedServer) -> None:
    # The feed server is on loopback, so private addresses are allowed here; odd
    # spellings and the body cap still hold.
    services = await services_with(sqlite_store, PollerConfig(allow_private_addresses=True,
                                                              max_body_bytes=100_000))
    server.set_status("/hop", 302, {"Location": f"http://0x7f000001:{server.port}/feed"})
    server.set_feed("/bomb", gzip.compress(gzip.compress(b" " * 50_000_000)),
                    headers={"Content-Encoding": "gzip, gzip"})
    server.set_feed("/odd", b"<rss/>", headers={"Content-Encoding": "xyz"})
    expected = {
        "/hop": "redirect to an unsafe URL: 0x7f000001 is a non-standard spelling",
        "/bomb": "body larger than 100000 bytes",
        "/odd": "unsupported Content-Encoding: xyz",
    }
    try:
        for path, reason in expected.items():
            with pytest.raises(UserInputError, match=f"Could not use this feed: {reason}"):
                await add_source(services, server.url(path))
    finally:
        await services.poller.fetcher.aclose()
    assert await sqlite_store.sources.list_all() == []
