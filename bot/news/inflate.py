"""Decompress a response body (Content-Encoding gzip or deflate) without ever holding more
than the body cap.

httpx decompresses each network chunk whole: 64 KB of gzip can become 64 MB before a cap
sees it, and twenty feeds in flight make that a memory problem. Here zlib is told how much
output it may produce (max_length), so a bomb is refused after limit + 1 bytes.
"""

from __future__ import annotations

import zlib

_GZIP_MAGIC = b"\x1f\x8b"


class BodyTooLarge(Exception):
    """The decoded body exceeds the limit."""


class BodyDecodeError(Exception):
    """The body is not valid data of its declared encoding."""


class BoundedDecoder:
    """`feed(raw)` returns the decoded bytes so far; raises BodyTooLarge past `limit`."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.produced = 0
        self._first = True
        self._d = self._new()

    def _new(self) -> zlib._Decompress:
        if self.encoding == "deflate":
            return zlib.decompressobj()  # zlib-wrapped; raw deflate is tried on error
        return zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip

    def feed(self, data: bytes) -> bytes:
        out: list[bytes] = []
        while data:
            room = self.limit + 1 - self.produced
            try:
                chunk = self._d.decompress(data, room)
            except zlib.error as exc:
                if self._first and self.encoding == "deflate":
                    # Some servers send raw deflate under "deflate": try that once.
                    self._first = False
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise BodyDecodeError(f"{self.encoding} data is corrupt ({exc})") from None
            self._first = False
            self.produced += len(chunk)
            if self.produced > self.limit:
                raise BodyTooLarge(f"decompressed body larger than {self.limit} bytes")
            out.append(chunk)
            if self._d.eof:
                # Concatenated gzip members are one body; anything else after the end is
                # ignored, as browsers do.
                rest = self._d.unused_data
                if self.encoding != "deflate" and rest.startswith(_GZIP_MAGIC):
                    self._d = self._new()
                    data = rest
                    continue
                break
            data = self._d.unconsumed_tail
        return b"".join(out)

    def flush(self) -> bytes:
        try:
            tail = self._d.flush()
        except zlib.error as exc:
            raise BodyDecodeError(f"{self.encoding} data is corrupt ({exc})") from None
        self.produced += len(tail)
        if self.produced > self.limit:
            raise BodyTooLarge(f"decompressed body larger than {self.limit} bytes")
        return tail


def bounded_decoder(content_encoding: str, limit: int) -> BoundedDecoder | None:
    """A decoder for a single gzip or deflate encoding; None for identity or anything else."""
    encoding = content_encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return BoundedDecoder("gzip", limit)
    if encoding == "deflate":
        return BoundedDecoder("deflate", limit)
    return None
