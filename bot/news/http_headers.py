"""Reading HTTP caching and retry headers: Retry-After, Cache-Control max-age, Expires."""

from __future__ import annotations

import email.utils
import re
import time
from datetime import UTC

import httpx

_MAX_AGE_RE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def parse_max_age(value: str | None) -> int | None:
    """The max-age of a Cache-Control header, None when absent or no-store/no-cache."""
    if not value:
        return None
    lowered = value.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return None
    match = _MAX_AGE_RE.search(value)
    return int(match.group(1)) if match else None


def parse_expires(expires: str | None, date: str | None = None,
                  now: float | None = None) -> int | None:
    """Seconds until an Expires date (measured from the response's Date when it has one,
    as servers' clocks differ from ours); None when absent, invalid or already past."""
    if not expires:
        return None
    try:
        until = email.utils.parsedate_to_datetime(expires.strip())
    except (TypeError, ValueError, IndexError):
        return None  # "0", "-1": already expired
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    base = time.time() if now is None else now
    if date:
        try:
            sent = email.utils.parsedate_to_datetime(date.strip())
            base = (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).timestamp()
        except (TypeError, ValueError, IndexError):
            pass
    seconds = int(until.timestamp() - base)
    return seconds if seconds > 0 else None


def freshness(headers: httpx.Headers) -> int | None:
    """How long the response may be reused: Cache-Control max-age, else Expires (RFC 9111:
    Cache-Control wins when both are present)."""
    cache_control = headers.get("cache-control")
    if cache_control:
        return parse_max_age(cache_control)
    return parse_expires(headers.get("expires"), headers.get("date"))
