"""Compression bombs for the body-cap tests, built in streaming steps, and a probe that
fetches one in a fresh process and reports how much that process's peak memory grew.

A bomb of 1 GiB of spaces is never held whole: the content is generated 1 MiB at a time
and pushed through the encoders one block after another, so building it costs a few MB.
The probe runs in its own process because ru_maxrss (peak resident memory) only ever
grows: measured in the pytest process it would show whatever earlier tests used.

    python tests/news/body_bomb.py "gzip, gzip" [SIZE_MIB [BODY_CAP]]

prints one JSON line: {"error": ..., "body_bytes": ..., "rss_growth_kb": ...}.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

_BLOCK = 1 << 20


def _zlib_encoder(wbits: int, innermost: bool) -> tuple[Callable[[bytes], bytes],
                                                        Callable[[], bytes]]:
    # Z_RLE is fast on the runs of the content; outer layers compress compressed data.
    strategy = zlib.Z_RLE if innermost else zlib.Z_DEFAULT_STRATEGY
    c = zlib.compressobj(9, zlib.DEFLATED, wbits, 9, strategy)
    return c.compress, c.flush


def _encoder(coding: str, innermost: bool) -> tuple[Callable[[bytes], bytes],
                                                    Callable[[], bytes]]:
    if coding == "gzip":
        return _zlib_encoder(16 + zlib.MAX_WBITS, innermost)
    if coding == "deflate":
        return _zlib_encoder(zlib.MAX_WBITS, innermost)
    if coding == "br":
        import brotli

        b = brotli.Compressor(quality=5 if innermost else 9)
        return b.process, b.finish
    if coding == "zstd":
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        z = zstd.ZstdCompressor(level=3)
        return z.compress, z.flush
    raise ValueError(f"no encoder for {coding}")


def build_bomb(codings: Sequence[str], size: int, fill: bytes = b" ") -> bytes:
    """`size` bytes of `fill` encoded with each coding in turn (Content-Encoding order)."""
    stages = [_encoder(c, i == 0) for i, c in enumerate(codings)]
    out: list[bytes] = []

    def push(level: int, data: bytes) -> None:
        if level == len(stages):
            out.append(data)
        elif data:
            push(level + 1, stages[level][0](data))

    block = fill * (_BLOCK // len(fill))
    left = size
    while left > 0:
        push(0, block[:left])
        left -= _BLOCK
    for level, (_compress, flush) in enumerate(stages):
        push(level + 1, flush())
    return b"".join(out)


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def probe(codings: Sequence[str], size: int, cap: int = 10_000_000) -> dict[str, Any]:
    """Serve the bomb on loopback, fetch it once, return the error and peak RSS growth."""
    from bot.config import PollerConfig
    from bot.errors import FetchError
    from bot.news.fetch import Fetcher
    from bot.testing.feed_server import FeedServer

    header = ", ".join(codings)
    bomb = build_bomb(codings, size)
    small = build_bomb(codings, 1000, b"<rss/>")
    server = FeedServer()
    await server.start()
    cfg = PollerConfig(allow_private_addresses=True, timeout=60.0)
    fetcher = Fetcher(replace(cfg, max_body_bytes=cap))
    try:
        server.set_feed("/bomb", bomb, headers={"Content-Encoding": header})
        server.set_feed("/small", small, headers={"Content-Encoding": header})
        # the same code paths once on a small body, so that only the bomb's cost is measured
        warm = await fetcher.fetch(server.url("/small"))
        before = _rss_kb()
        error = None
        body_bytes = 0
        try:
            body_bytes = len((await fetcher.fetch(server.url("/bomb"))).body)
        except FetchError as exc:
            error = str(exc)
        except MemoryError:
            error = "MemoryError"
        return {"codings": header, "wire_bytes": len(bomb), "warm_bytes": len(warm.body),
                "error": error, "body_bytes": body_bytes, "rss_before_kb": before,
                "rss_growth_kb": _rss_kb() - before}
    finally:
        await fetcher.aclose()
        await server.stop()


if __name__ == "__main__":
    wanted = [c.strip() for c in sys.argv[1].split(",")]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    cap = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000_000
    print(json.dumps(asyncio.run(probe(wanted, mib << 20, cap))), flush=True)
