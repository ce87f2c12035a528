"""The pictures handlers send: PNG bytes, cached per minute.

    png = render_stories_map({"UA63000000000041885": 12}, {"UA63000000000041885"}, "uk")
    png = render_alerts_map({"UA63000000000041885": AlertLevel.FULL}, "en")

Both are pure functions of their arguments and of the minute (`now`, default the wall
clock): every chat asking for the same map within a minute gets the same bytes, drawn once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from threading import Lock
from typing import Any

from bot.maps.render import MapPicture, compose_alerts_map, compose_stories_map
from bot.maps.style import AlertLevel

__all__ = ["CACHE", "MinuteCache", "render_alerts_map", "render_stories_map"]


class MinuteCache:
    """PNG bytes by (inputs, minute): the entries of one minute, dropped when another minute
    is stored; at most `size` entries. Thread-safe (renders run in threads)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.minute = -1
        self.entries: dict[Any, bytes] = {}
        self.hits = 0
        self.lock = Lock()

    def get(self, key: Any, minute: int) -> bytes | None:
        with self.lock:
            if minute != self.minute:
                return None
            found = self.entries.get(key)
            if found is not None:
                self.hits += 1
            return found

    def put(self, key: Any, minute: int, value: bytes) -> None:
        with self.lock:
            if minute != self.minute:  # one minute at a time: the newest asked for
                self.minute, self.entries = minute, {}
            if len(self.entries) < self.size:
                self.entries[key] = value


CACHE = MinuteCache()
# One picture is drawn at a time: FreeType faces are not safe to share between threads, and
# chats asking for the same picture at once wait for the first drawing instead of repeating it.
_DRAWING = Lock()


def _cached(key: Any, minute: int, compose: Callable[[], MapPicture]) -> bytes:
    found = CACHE.get(key, minute)
    if found is not None:
        return found
    with _DRAWING:
        found = CACHE.get(key, minute)
        if found is None:
            found = compose().png()
            CACHE.put(key, minute, found)
    return found


def _minute(now: datetime | None) -> int:
    return int((now.timestamp() if now is not None else time.time()) // 60)


def render_stories_map(counts: Mapping[str, int], marked: Collection[str], lang: str, *,
                       now: datetime | None = None) -> bytes:
    """PNG: oblasts shaded by their stories in the last 24 h, the chat's own marked.
    `counts` and `marked` are KATOTTG oblast codes (ValueError for any other key)."""
    key = ("stories", tuple(sorted((c, int(n)) for c, n in counts.items() if n)),
           tuple(sorted(set(marked))), lang)
    return _cached(key, _minute(now), lambda: compose_stories_map(counts, marked, lang))


def render_alerts_map(levels: Mapping[str, AlertLevel], lang: str, *,
                      now: datetime | None = None) -> bytes:
    """PNG: oblasts with an oblast-wide alert red, with raion or hromada alerts light red.
    `levels` is keyed by KATOTTG oblast code (ValueError for any other key)."""
    key = ("alerts", tuple(sorted((c, AlertLevel(v).value) for c, v in levels.items()
                                  if AlertLevel(v) is not AlertLevel.NONE)), lang)
    return _cached(key, _minute(now), lambda: compose_alerts_map(levels, lang))
