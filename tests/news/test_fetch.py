"""The fetcher against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from itertools import combinations

import pytest

from bot.config import PollerConfig
from bot.errors import FetchError
from bot.news.fetch import Fetcher
from bot.news.http_headers import parse_expires, parse_max_age, parse_retry_after
from bot.news.inflate import ACCEPT_ENCODING
from bot.testing.feed_server import FeedServer, RequestRecord

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
CFG = PollerConfig(allow_private_addresses=True, timeout=2.0, max_body_bytes=100_000,
                   user_agent="HeraldTest/1")


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    srv = FeedServer()
    await srv.start(also=("127.0.0.2", "127.0.0.3"))
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(CFG)
    try:
        yield f
    finally:
        await f.aclose()


async def test_etag_round_trip(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/feed", RSS, headers={"Cache-Control": "public, max-age=1800"})
    first = await fetcher.fetch(server.url("/feed"))
    assert first.status == "ok" and first.body == RSS
    assert first.content_type == "application/rss+xml" and first.etag
    assert first.max_age == 1800 and first.final_url == server.url("/feed")
    assert first.permanent_redirect_to is None and first.elapsed > 0
    again = await fetcher.fetch(server.url("/feed"), etag=first.etag)
    assert again.status == "not_modified" and again.body == b"" and again.etag == first.etag
    assert server.requests[-1].headers["If-None-Match"] == first.etag
    assert server.requests[-1].headers["User-Agent"] == "HeraldTest/1"
    assert server.requests[-1].status == 304
    server.set_feed("/feed", RSS + b" ")  # changed: new ETag, full body
    changed = await fetcher.fetch(server.url("/feed"), etag=first.etag)
    assert changed.status == "ok" and changed.etag != first.etag


async def test_last_modified_round_trip(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/lm", RSS, etag=False)
    first = await fetcher.fetch(server.url("/lm"))
    assert first.etag is None and first.last_modified
    again = await fetcher.fetch(server.url("/lm"), last_modified=first.last_modified)
    assert again.status == "not_modified" and again.last_modified == first.last_modified
    assert server.requests[-1].headers["If-Modified-Since"] == first.last_modified


async def test_retry_after_on_429_and_503(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_status("/busy", 429, {"Retry-After": "120"})
    with pytest.raises(FetchError, match="HTTP 429") as info:
        await fetcher.fetch(server.url("/busy"))
    assert info.value.retry_after == 120 and not info.value.permanent
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    server.set_status("/down", 503, {"Retry-After": later})
    with pytest.raises(FetchError, match="HTTP 503") as info:
        await fetcher.fetch(server.url("/down"))
    assert info.value.retry_after is not None and 3500 < info.value.retry_after <= 3600
    server.set_status("/broken", 500, body=b"oops")
    with pytest.raises(FetchError, match="HTTP 500") as info:
        await fetcher.fetch(server.url("/broken"))
    assert info.value.retry_after is None and not info.value.permanent


async def test_gone_and_missing_are_permanent(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_status("/gone", 410)
    with pytest.raises(FetchError, match="HTTP 410") as info:
        await fetcher.fetch(server.url("/gone"))
    assert info.value.permanent
    with pytest.raises(FetchError, match="HTTP 404") as info:
        await fetcher.fetch(server.url("/never-set"))
    assert info.value.permanent


async def test_permanent_redirect_is_reported(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/new", RSS)
    server.set_status("/old", 301, {"Location": "/new"})
    result = await fetcher.fetch(server.url("/old"))
    assert result.status == "ok" and result.body == RSS
    assert result.final_url == server.url("/new")
    assert result.permanent_redirect_to == server.url("/new")
    # a temporary redirect is followed but not adopted
    server.set_status("/tmp", 302, {"Location": server.url("/new")})
    result = await fetcher.fetch(server.url("/tmp"))
    assert result.final_url == server.url("/new") and result.permanent_redirect_to is None
    # 308 then 307: adopt only the permanent part of the chain
    server.set_status("/a", 308, {"Location": "/b"})
    server.set_status("/b", 307, {"Location": "/new"})
    result = await fetcher.fetch(server.url("/a"))
    assert result.permanent_redirect_to == server.url("/b")


async def test_redirect_loop_and_too_many(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_status("/x", 302, {"Location": "/y"})
    server.set_status("/y", 302, {"Location": "/x"})
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.fetch(server.url("/x"))
    for i in range(8):
        server.set_status(f"/r{i}", 301, {"Location": f"/r{i + 1}"})
    server.set_feed("/r8", RSS)
    with pytest.raises(FetchError, match="too many redirects"):
        await fetcher.fetch(server.url("/r0"))


async def test_redirect_to_private_address_is_refused(server: FeedServer) -> None:
    strict = Fetcher(PollerConfig(allow_private_addresses=False, timeout=2.0))
    try:
        with pytest.raises(FetchError, match=r"unsafe URL: .*not a public address"):
            await strict.fetch(server.url("/feed"))
        # a host name that resolves to loopback is refused at connect time
        name = socket.gethostname()
        addrs = {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        if not all(a.startswith("127.") for a in addrs):
            pytest.skip("host name does not resolve to loopback here")
        with pytest.raises(FetchError, match=r"unsafe address: .*resolves to 127"):
            await strict.fetch(f"http://{name}:{server.port}/feed")
        assert server.request_count("/feed") == 0  # never connected
    finally:
        await strict.aclose()


async def test_timeout(server: FeedServer) -> None:
    server.set_feed("/slow", RSS)
    server.set_delay("/slow", 2.0)
    quick = Fetcher(PollerConfig(allow_private_addresses=True, timeout=0.2))
    try:
        # The answer would come after 2 s: a FetchError saying "timed out" can only be the
        # 0.2 s timeout (had the fetch waited, it would have returned the feed).
        with pytest.raises(FetchError, match=r"timed out after 0\.2 s"):
            await quick.fetch(server.url("/slow"))
        assert server.request_count("/slow") == 1  # given up, not retried
    finally:
        await quick.aclose()


async def test_body_cap(server: FeedServer, fetcher: Fetcher) -> None:
    big = b"<rss>" + b"x" * 200_000 + b"</rss>"
    server.set_feed("/big", big)  # refused from Content-Length
    with pytest.raises(FetchError, match="body larger than 100000 bytes"):
        await fetcher.fetch(server.url("/big"))
    server.set_feed("/stream", big, chunked=True)  # no Content-Length: refused while reading
    with pytest.raises(FetchError, match="body larger than 100000 bytes"):
        await fetcher.fetch(server.url("/stream"))
    server.set_feed("/fits", RSS, chunked=True)
    assert (await fetcher.fetch(server.url("/fits"))).body == RSS


async def test_not_a_feed_is_fetched_as_is(server: FeedServer, fetcher: Fetcher) -> None:
    # The fetcher does not judge content; the parser does (see test_poller).
    server.set_feed("/page", b"<html><body>hello</body></html>", content_type="text/html")
    result = await fetcher.fetch(server.url("/page"))
    assert result.content_type == "text/html" and result.body.startswith(b"<html>")


async def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="connection failed"):
        await fetcher.fetch(f"http://127.0.0.1:{port}/feed")


async def test_dead_host_fails_fast_for_the_sources_queued_behind_it(
        server: FeedServer, fetcher: Fetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = [f"http://127.0.0.1:{port}/feed{i}" for i in range(3)]
    server.set_feed("/alive", RSS)
    results = await asyncio.gather(*(fetcher.fetch(u) for u in dead),
                                   fetcher.fetch(server.url("/alive")),
                                   return_exceptions=True)
    errors = [str(r) for r in results[:3]]
    assert all(isinstance(r, FetchError) for r in results[:3])
    assert sum(e.startswith("connection failed") for e in errors) == 3
    assert sum("not retried yet" in e for e in errors) == 2  # only one real attempt
    assert not isinstance(results[3], BaseException)  # same host, other port: unaffected
    assert results[3].status == "ok"
    fetcher.unreachable_for = 0.0  # the window passed: the next fetch really tries again
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(dead[0])
    assert "not retried" not in str(info.value)


async def test_unresolvable_host_is_a_network_error() -> None:
    strict = Fetcher(PollerConfig(allow_private_addresses=False, timeout=2.0))
    try:
        with pytest.raises(FetchError, match="cannot resolve host") as info:
            await strict.fetch("http://no-such-host.invalid/feed")
        assert not info.value.permanent
    finally:
        await strict.aclose()


def _overlap(a: RequestRecord, b: RequestRecord) -> bool:
    return a.started < b.finished and b.started < a.finished


async def test_one_request_per_host(server: FeedServer, fetcher: Fetcher) -> None:
    paths = [f"/h{i}" for i in range(6)]
    for p in paths:
        server.set_feed(p, RSS)
        server.set_delay(p, 0.15)
    urls = ([server.url(p, "127.0.0.1") for p in paths[:3]]
            + [server.url(p, "127.0.0.2") for p in paths[3:]])
    results = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
    assert all(r.status == "ok" for r in results)
    by_host: dict[str, list[RequestRecord]] = {}
    for rec in server.requests:
        by_host.setdefault(rec.host, []).append(rec)
    assert sorted(by_host) == ["127.0.0.1", "127.0.0.2"]
    for records in by_host.values():
        assert len(records) == 3
        assert not any(_overlap(a, b) for a, b in combinations(records, 2))
    # the two hosts were served side by side
    assert any(_overlap(a, b) for a in by_host["127.0.0.1"] for b in by_host["127.0.0.2"])


async def test_global_cap(server: FeedServer) -> None:
    single = Fetcher(PollerConfig(allow_private_addresses=True, max_concurrency=1))
    try:
        server.set_feed("/c", RSS)
        server.set_delay("/c", 0.05)
        await asyncio.gather(*(single.fetch(server.url("/c", h))
                               for h in ("127.0.0.1", "127.0.0.2", "127.0.0.3")))
        assert len(server.requests) == 3
        assert not any(_overlap(a, b) for a, b in combinations(server.requests, 2))
    finally:
        await single.aclose()


async def test_request_starts_are_paced(server: FeedServer) -> None:
    paced = Fetcher(PollerConfig(allow_private_addresses=True, max_requests_per_second=20))
    try:
        server.set_feed("/p", RSS)
        began = time.monotonic()
        await asyncio.gather(*(paced.fetch(server.url("/p", h))
                               for h in ("127.0.0.1", "127.0.0.2", "127.0.0.3") * 2))
        # 20 a second: the k-th request cannot reach the server before k x 50 ms (unpaced:
        # all within a few ms). Lower bounds only: a slow machine cannot break them.
        starts = sorted(r.started for r in server.requests)
        assert len(starts) == 6
        for k, started in enumerate(starts):
            assert started >= began + k * 0.05 - 0.001, (k, started - began)
    finally:
        await paced.aclose()


def test_header_parsing() -> None:
    assert parse_retry_after("30") == 30
    assert parse_retry_after("Thu, 26 Nov 2026 06:01:00 GMT",
                             now=email.utils.parsedate_to_datetime(
                                 "Thu, 26 Nov 2026 06:00:00 GMT").timestamp()) == 60
    assert parse_retry_after("Thu, 01 Jan 2000 00:00:00 GMT") == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_max_age("public, max-age=600") == 600
    assert parse_max_age("no-cache, max-age=600") is None
    assert parse_max_age("private") is None
    sent = "Thu, 26 Nov 2026 06:00:00 GMT"
    assert parse_expires("Thu, 26 Nov 2026 08:00:00 GMT", sent) == 7200
    assert parse_expires("Thu, 26 Nov 2026 08:00:00 GMT", None,
                         now=email.utils.parsedate_to_datetime(sent).timestamp()) == 7200
    assert parse_expires("0", sent) is None and parse_expires(None) is None
    assert parse_expires("Thu, 26 Nov 2026 05:00:00 GMT", sent) is None  # already past


async def test_expires_counts_when_there_is_no_cache_control(server: FeedServer,
                                                              fetcher: Fetcher) -> None:
    server.set_feed("/feed", RSS, headers={"Date": "Thu, 26 Nov 2026 06:00:00 GMT",
                                           "Expires": "Thu, 26 Nov 2026 06:30:00 GMT"})
    assert (await fetcher.fetch(server.url("/feed"))).max_age == 1800
    server.set_feed("/both", RSS, headers={"Date": "Thu, 26 Nov 2026 06:00:00 GMT",
                                           "Expires": "Thu, 26 Nov 2026 06:30:00 GMT",
                                           "Cache-Control": "max-age=60"})
    assert (await fetcher.fetch(server.url("/both"))).max_age == 60


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate"])
async def test_compressed_bodies_are_decoded(server: FeedServer, fetcher: Fetcher,
                                             encoding: str) -> None:
    if encoding in ("gzip", "x-gzip"):
        body = gzip.compress(RSS)
    elif encoding == "deflate":
        body = zlib.compress(RSS)
    else:
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # what some servers send as "deflate"
        body = c.compress(RSS) + c.flush()
    header = "deflate" if encoding == "raw-deflate" else encoding
    server.set_feed("/z", body, headers={"Content-Encoding": header}, chunked=True)
    result = await fetcher.fetch(server.url("/z"))
    assert result.body == RSS
    assert server.requests[-1].headers["Accept-Encoding"] == ACCEPT_ENCODING
    assert ACCEPT_ENCODING.startswith("gzip, deflate")  # br, zstd when installed


async def test_two_gzip_members_are_one_body(server: FeedServer, fetcher: Fetcher) -> None:
    half = len(RSS) // 2
    server.set_feed("/z", gzip.compress(RSS[:half]) + gzip.compress(RSS[half:]),
                    headers={"Content-Encoding": "gzip"})
    assert (await fetcher.fetch(server.url("/z"))).body == RSS


async def test_gzip_bomb_is_refused_without_inflating_it(server: FeedServer) -> None:
    limit = 1_000_000
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # ~200 KB on the wire
    assert len(bomb) < 300_000
    server.set_feed("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    f = Fetcher(dataclasses.replace(CFG, max_body_bytes=limit))
    try:
        tracemalloc.start()
        with pytest.raises(FetchError, match=f"larger than {limit} bytes"):
            await f.fetch(server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await f.aclose()
    assert peak < 8 * limit, peak  # not the ~64 MB one network chunk would inflate to


async def test_corrupt_gzip_is_a_clear_error(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/bad", b"\x1f\x8b\x08\x00garbage" * 10,
                    headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="body not readable: gzip data is corrupt"):
        await fetcher.fetch(server.url("/bad"))
