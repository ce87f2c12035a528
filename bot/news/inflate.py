"""Decode a response body's Content-Encoding chain without ever holding more than the cap.

httpx decodes each network chunk whole: 64 KB of gzip can become 64 MB before a size cap
sees it, and `Content-Encoding: gzip, gzip` turns 2 KB on the wire into 1 GiB in one
chunk. So the fetcher reads raw bytes and decodes them here, in bounded steps: every
decoder is asked for at most STEP bytes at a time (zlib's max_length, zstd's max_length,
brotli's output_buffer_limit), each step's output is fed into the next layer at once, and
every layer's total output counts against the cap, so a bomb is refused after about
limit + 1 bytes whatever the chain, and no single step allocates more than about STEP.

Codings: gzip (x-gzip) and deflate always; br with the `brotli` package (1.2 or newer:
older ones have no output bound and are not used), zstd with `compression.zstd` (Python
3.14) or `backports.zstd`. `identity` is skipped; anything else is refused.
ACCEPT_ENCODING names exactly what this process decodes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from types import ModuleType
from typing import Any, Protocol

STEP = 64 * 1024  # most output one decoder step may produce
MAX_LAYERS = 4  # no server stacks more; every layer costs a decoder window and CPU
_GZIP_MAGIC = b"\x1f\x8b"
_RETRY_WINDOW = 64 * 1024  # deflate input kept for a raw-deflate retry
# RFC 9659: a zstd content coding needs no window above 8 MB; larger frames are refused
# rather than letting a response make the decoder allocate up to 2 GB.
_ZSTD_WINDOW_LOG_MAX = 23


class BodyTooLarge(Exception):
    """The decoded body (or one layer of it) exceeds the limit."""


class BodyDecodeError(Exception):
    """The body is not valid data of its declared encoding."""


class UnsupportedEncoding(BodyDecodeError):
    """The response uses a Content-Encoding this process does not decode."""


def _load_brotli() -> ModuleType | None:
    try:
        import brotli  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    try:  # brotli < 1.2 has no output bound: one step could inflate without limit
        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except (TypeError, AttributeError):
        return None
    return brotli  # type: ignore[no-any-return, unused-ignore]


def _load_zstd() -> ModuleType | None:
    try:
        from compression import zstd  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        try:
            from backports import zstd  # type: ignore[import-not-found, no-redef, unused-ignore]
        except ImportError:
            return None
    return zstd  # type: ignore[no-any-return, unused-ignore]


# Any: neither package is needed for type checking, and either may be absent.
_brotli: Any = _load_brotli()
_zstd: Any = _load_zstd()

SUPPORTED = ("gzip", "deflate") + (("br",) if _brotli else ()) + (("zstd",) if _zstd else ())
ACCEPT_ENCODING = ", ".join(SUPPORTED)
_ALIASES = {"x-gzip": "gzip"}


def parse_content_encoding(values: Iterable[str]) -> list[str]:
    """The codings of Content-Encoding header values in the order they were applied;
    identity dropped; UnsupportedEncoding for one this process cannot decode."""
    codings = []
    for value in values:
        for token in value.split(","):
            coding = _ALIASES.get(token.strip().lower(), token.strip().lower())
            if coding in ("", "identity"):
                continue
            if coding not in SUPPORTED:
                raise UnsupportedEncoding(f"unsupported Content-Encoding: {token.strip()}")
            codings.append(coding)
    if len(codings) > MAX_LAYERS:
        raise UnsupportedEncoding(f"Content-Encoding has {len(codings)} layers "
                                  f"(at most {MAX_LAYERS} are decoded)")
    return codings


class _Layer(Protocol):
    coding: str

    def decode(self, data: bytes, max_length: int) -> bytes:
        """Take `data` (b"" to go on with what is buffered) and return at most about
        max_length decoded bytes; b"" means more input is needed."""


class _ZlibLayer:
    """gzip (concatenated members are one body) or deflate (zlib-wrapped, or raw)."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._d: Any = self._new(raw=False)  # None between two gzip members
        self._tail = b""  # input not decoded yet
        # "deflate" input kept until the first output, to start again as raw deflate if
        # it is not zlib-wrapped after all; None once that can no longer happen.
        self._history: bytes | None = b"" if coding == "deflate" else None
        self._ended = False

    def _new(self, raw: bool) -> Any:
        if self.coding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)

    def decode(self, data: bytes, max_length: int) -> bytes:
        if self._history is not None:
            self._history += data
            if len(self._history) > _RETRY_WINDOW:
                self._history = None
        buf = self._tail + data if self._tail else data
        self._tail = b""
        while not self._ended:
            if self._d is None:  # a gzip member ended: another may follow
                if len(buf) < 2 and _GZIP_MAGIC.startswith(buf):
                    self._tail = buf  # too little to tell yet (or nothing)
                    return b""
                if not buf.startswith(_GZIP_MAGIC):
                    self._ended = True  # data after the end is ignored, as browsers do
                    return b""
                self._d = self._new(raw=False)
            try:
                out: bytes = self._d.decompress(buf, max_length)
            except zlib.error as exc:
                if self._history is not None:
                    # Some servers send raw deflate under "deflate": try that once.
                    self._d, buf, self._history = self._new(raw=True), self._history, None
                    continue
                raise BodyDecodeError(f"{self.coding} data is corrupt ({exc})") from None
            if out:
                self._history = None
            if self._d.eof:
                buf, self._d = self._d.unused_data, None
                self._ended = self.coding != "gzip"
                if out:
                    self._tail = buf
                    return out
                continue
            self._tail = self._d.unconsumed_tail
            return out
        return b""


class _BrotliLayer:
    coding = "br"

    def __init__(self) -> None:
        assert _brotli is not None
        self._d = _brotli.Decompressor()
        self._tail = b""  # input given while the decoder still had output to hand out

    def decode(self, data: bytes, max_length: int) -> bytes:
        self._tail += data
        if self._d.is_finished():
            self._tail = b""
            return b""
        feed = b""
        if self._d.can_accept_more_data():
            feed, self._tail = self._tail, b""
        try:
            out: bytes = self._d.process(feed, output_buffer_limit=max_length)
        except _brotli.error as exc:
            raise BodyDecodeError(f"br data is corrupt ({exc})") from None
        return out


class _ZstdLayer:
    coding = "zstd"

    def __init__(self) -> None:
        self._d = self._new()

    @staticmethod
    def _new() -> Any:
        assert _zstd is not None
        return _zstd.ZstdDecompressor(
            options={_zstd.DecompressionParameter.window_log_max: _ZSTD_WINDOW_LOG_MAX})

    def decode(self, data: bytes, max_length: int) -> bytes:
        assert _zstd is not None
        while True:
            if self._d.eof:  # one frame ended: the next one starts with what is left
                data = self._d.unused_data + data
                if not data:
                    return b""
                self._d = self._new()
            try:
                out: bytes = self._d.decompress(data, max_length)
            except _zstd.ZstdError as exc:
                raise BodyDecodeError(f"zstd data is corrupt ({exc})") from None
            if out or not self._d.eof:
                return out
            data = b""


def _layer(coding: str) -> _Layer:
    if coding == "br":
        return _BrotliLayer()
    if coding == "zstd":
        return _ZstdLayer()
    return _ZlibLayer(coding)


class BodyDecoder:
    """`feed(raw)` returns what that raw chunk decodes to; BodyTooLarge once any layer's
    output passes `limit`. `flush()` at the end of the body.

    The raw bytes count too: trailing data after a compressed stream is ignored, but it
    is not downloaded without end either.
    """

    def __init__(self, codings: Iterable[str], limit: int, step: int = STEP) -> None:
        self.limit = limit
        self.step = step
        # Content-Encoding lists codings in the order applied: the last is undone first.
        self._layers = [_layer(c) for c in reversed(list(codings))]
        self._produced = [0] * len(self._layers)
        self.received = 0

    def feed(self, raw: bytes) -> bytes:
        self.received += len(raw)
        if self.received > self.limit:
            raise BodyTooLarge(f"body larger than {self.limit} bytes")
        out: list[bytes] = []
        self._push(0, raw, out)
        return b"".join(out)

    def flush(self) -> bytes:
        """Whatever the layers still hold once the input has ended."""
        out: list[bytes] = []
        for index in range(len(self._layers)):
            self._push(index, b"", out)
        return b"".join(out)

    def _push(self, index: int, data: bytes, out: list[bytes]) -> None:
        if index == len(self._layers):
            if data:
                out.append(data)
            return
        layer = self._layers[index]
        idle = 0
        while True:
            room = min(self.step, self.limit + 1 - self._produced[index])
            chunk = layer.decode(data, room)
            data = b""
            self._produced[index] += len(chunk)
            if self._produced[index] > self.limit:
                what = "decompressed body" if index == len(self._layers) - 1 else (
                    f"{layer.coding} layer of the body")
                raise BodyTooLarge(f"{what} larger than {self.limit} bytes")
            if chunk:
                idle = 0
                self._push(index + 1, chunk, out)
                continue
            # b"" after b"" with no new input: the layer needs more input (brotli may
            # answer one empty step while it takes in what it had buffered).
            idle += 1
            if idle >= 2:
                return
