"""The body cap holds for the decoded bytes whatever the Content-Encoding chain: stacked
gzip/deflate, br and zstd when installed, unknown codings refused. Bombs are built in
streaming steps (tests/news/body_bomb.py) and served by the local feed server."""

from __future__ import annotations

import dataclasses
import gzip
import json
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from news.body_bomb import build_bomb

from bot.config import PollerConfig
from bot.errors import FetchError
from bot.news.fetch import Fetcher
from bot.news.inflate import (
    MAX_LAYERS,
    SUPPORTED,
    BodyDecodeError,
    BodyDecoder,
    BodyTooLarge,
    UnsupportedEncoding,
    parse_content_encoding,
)
from bot.testing.feed_server import FeedServer

RSS = b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title></channel></rss>"
CFG = PollerConfig(allow_private_addresses=True, timeout=5.0, max_body_bytes=1_000_000)
PROBE = Path(__file__).with_name("body_bomb.py")
GiB = 1 << 30
# The bombs of the tests: a quarter of a GiB is 256 times the 1 MB cap, as telling as a
# whole GiB for a quarter of the CPU (bench figures in the README use the whole GiB).
BOMB = GiB // 4


def needs(*codings: str) -> pytest.MarkDecorator:
    missing = [c for c in codings if c not in SUPPORTED]
    return pytest.mark.skipif(bool(missing), reason=f"no decoder for {missing} here")


def decode_all(codings: list[str], body: bytes, limit: int, piece: int = 1 << 16) -> bytes:
    decoder = BodyDecoder(codings, limit)
    out = [decoder.feed(body[i:i + piece]) for i in range(0, len(body), piece)]
    return b"".join([*out, decoder.flush()])


@pytest.fixture(scope="module")
def double_gzip_bomb() -> bytes:
    """gzip(gzip(256 MiB of spaces)): a few KB on the wire, built in 1 MiB steps."""
    bomb = build_bomb(["gzip", "gzip"], BOMB)
    assert len(bomb) < 4000
    return bomb




@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    f = Fetcher(CFG)
    try:
        yield f
    finally:
        await f.aclose()


# --- pure decoding ------------------------------------------------------------------------


def test_content_encoding_is_read_in_the_order_applied() -> None:
    assert parse_content_encoding(["gzip, gzip"]) == ["gzip", "gzip"]
    assert parse_content_encoding(["deflate", "X-Gzip"]) == ["deflate", "gzip"]
    assert parse_content_encoding(["identity", " gzip ,identity", ""]) == ["gzip"]
    assert parse_content_encoding([]) == []
    with pytest.raises(UnsupportedEncoding, match="unsupported Content-Encoding: compress"):
        parse_content_encoding(["gzip, compress"])
    with pytest.raises(UnsupportedEncoding, match="layers"):
        parse_content_encoding([", ".join(["gzip"] * (MAX_LAYERS + 1))])


@pytest.mark.parametrize("piece", [1, 7, 1 << 16])
def test_stacked_codings_decode_in_any_chunking(piece: int) -> None:
    # Content-Encoding "deflate, gzip": deflate applied first, gzip on top of it.
    body = gzip.compress(zlib.compress(RSS * 50))
    assert decode_all(["deflate", "gzip"], body, 100_000, piece) == RSS * 50
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # raw deflate under "deflate"
    body = gzip.compress(raw.compress(RSS) + raw.flush())
    assert decode_all(["deflate", "gzip"], body, 100_000, piece) == RSS
    members = gzip.compress(RSS[:10]) + gzip.compress(RSS[10:])  # two gzip members
    assert decode_all(["gzip"], members, 100_000, piece) == RSS
    assert decode_all(["gzip", "gzip"], gzip.compress(members), 100_000, piece) == RSS
    assert decode_all([], RSS, 100_000, piece) == RSS


def test_every_layer_counts_against_the_cap() -> None:
    # The final body is tiny, but the outer layer would unpack 3 MB of trailing data
    # that the inner gzip ignores: still refused, so no layer works without bound.
    body = gzip.compress(gzip.compress(RSS) + b"\0" * 3_000_000)
    with pytest.raises(BodyTooLarge, match="gzip layer of the body larger than 1000000"):
        decode_all(["gzip", "gzip"], body, 1_000_000)
    assert decode_all(["gzip", "gzip"], body, 4_000_000) == RSS
    with pytest.raises(BodyTooLarge):  # raw bytes count too
        decode_all(["gzip"], gzip.compress(RSS) + b"\0" * 2_000_000, 1_000_000)


def test_a_double_gzip_bomb_is_refused_in_bounded_steps(double_gzip_bomb: bytes) -> None:
    bomb = double_gzip_bomb
    limit = 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge):
            decode_all(["gzip", "gzip"], bomb, limit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * limit, peak  # the decoded bytes up to the cap, joined once


def test_corrupt_layers_are_decode_errors() -> None:
    with pytest.raises(BodyDecodeError, match="gzip data is corrupt"):
        decode_all(["gzip", "gzip"], gzip.compress(b"not gzip inside"), 100_000)
    with pytest.raises(BodyDecodeError, match="deflate data is corrupt"):
        decode_all(["deflate"], b"\xff" * 100, 100_000)


@needs("br", "zstd")
def test_br_and_zstd_decode_alone_and_stacked() -> None:
    for codings in (["br"], ["zstd"], ["zstd", "gzip"], ["gzip", "br"], ["br", "zstd"]):
        body = build_bomb(codings, len(RSS) * 40, RSS)
        for piece in (1, 1 << 16):
            assert decode_all(codings, body, 100_000, piece) == RSS * 40, (codings, piece)


@needs("zstd")
def test_zstd_frames_needing_a_large_window_are_refused() -> None:
    from bot.news import inflate

    zstd = inflate._zstd
    c = zstd.ZstdCompressor(options={zstd.CompressionParameter.window_log: 26})
    big = b"".join(c.compress(bytes([i]) * 65536) for i in range(200))
    big += c.flush(zstd.ZstdCompressor.FLUSH_FRAME)  # size unknown: the window stays 64 MB
    with pytest.raises(BodyDecodeError, match=r"zstd data is corrupt.*too much memory"):
        decode_all(["zstd"], big, 100_000_000)


# --- through the fetcher and the local feed server ----------------------------------------


async def test_stacked_gzip_and_deflate_are_served_and_decoded(server: FeedServer,
                                                               fetcher: Fetcher) -> None:
    server.set_feed("/z", gzip.compress(zlib.compress(RSS)),
                    headers={"Content-Encoding": "deflate, gzip"}, chunked=True)
    assert (await fetcher.fetch(server.url("/z"))).body == RSS
    server.set_feed("/id", RSS, headers={"Content-Encoding": "identity"})
    assert (await fetcher.fetch(server.url("/id"))).body == RSS


async def test_unknown_coding_is_refused(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/x", RSS, headers={"Content-Encoding": "gzip, xyz"})
    with pytest.raises(FetchError, match=r"^unsupported Content-Encoding: xyz$"):
        await fetcher.fetch(server.url("/x"))
    # an error page's body is not decoded: its status is the news
    server.set_status("/err", 503, {"Content-Encoding": "xyz"}, body=b"\0" * 100)
    with pytest.raises(FetchError, match="HTTP 503"):
        await fetcher.fetch(server.url("/err"))


async def test_a_double_gzip_bomb_from_the_server_is_refused(server: FeedServer,
                                                             double_gzip_bomb: bytes) -> None:
    server.set_feed("/bomb", double_gzip_bomb, headers={"Content-Encoding": "gzip, gzip"})
    f = Fetcher(dataclasses.replace(CFG, max_body_bytes=2_000_000))
    try:
        with pytest.raises(FetchError, match=r"^body larger than 2000000 bytes$"):
            await f.fetch(server.url("/bomb"))
    finally:
        await f.aclose()


@pytest.mark.parametrize("codings", [
    "gzip, gzip",
    pytest.param("br", marks=needs("br")),
    pytest.param("zstd", marks=needs("zstd")),
    pytest.param("br, gzip", marks=needs("br")),
])
def test_bomb_leaves_peak_memory_of_the_fetching_process_flat(codings: str) -> None:
    """256 MiB of spaces behind a few KB on the wire: refused, and the process's peak RSS
    grows by about the 1 MB cap (httpx's own decoders took 2 GB for "gzip, gzip")."""
    run = subprocess.run([sys.executable, str(PROBE), codings, str(BOMB >> 20), "1000000"],
                         capture_output=True, text=True, timeout=600, check=True)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["wire_bytes"] < 64_000
    assert report["warm_bytes"] == 1000  # the small body of the same codings decoded
    assert report["error"] == "body larger than 1000000 bytes", report
    assert report["rss_growth_kb"] < 32 * 1024, report
