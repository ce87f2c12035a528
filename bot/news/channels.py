"""Public Telegram channels as sources: how they are named, stored and paced.

A channel source is stored like a feed, with the URL of its public web preview
(`https://t.me/s/<channel>`, lower case) as its identity: a feed can never live at that
address (the page is HTML), so the URL alone says that a source is a channel. Where the
preview is fetched from is a setting (`telegram_preview.base_url`): tests, the demo and an
operator's mirror point it elsewhere without changing any stored source.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.errors import UserInputError

SOURCE_PREFIX = "https://t.me/s/"
# Telegram usernames: 5-32 letters, digits and underscores, starting with a letter (a few
# old ones are 4 long); case does not matter.
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_HOSTS = {"t.me", "www.t.me", "telegram.me", "www.telegram.me"}
# Paths on t.me that are not channels.
_NOT_CHANNELS = {"joinchat", "addstickers", "addemoji", "share", "proxy", "socks", "iv",
                 "login", "setlanguage", "addlist", "boost", "c"}


def channel_source_url(channel: str) -> str:
    """The stored URL of a channel source."""
    return SOURCE_PREFIX + channel.lower()


def channel_of(url: str) -> str | None:
    """The channel of a stored source URL, or None when the source is a feed."""
    if not url.startswith(SOURCE_PREFIX):
        return None
    name = url[len(SOURCE_PREFIX):]
    return name if _USERNAME.fullmatch(name) else None


def preview_url(base_url: str, channel: str, before: int | None = None) -> str:
    """Where the preview of `channel` is fetched (base_url ends with a slash)."""
    url = base_url + channel
    return f"{url}?before={before}" if before is not None else url


def valid_channel(name: str) -> bool:
    """Whether `name` is a possible public channel username."""
    return bool(_USERNAME.fullmatch(name)) and name.lower() not in _NOT_CHANNELS


def parse_channel_ref(text: str) -> str | None:
    """The channel named by `@name`, `t.me/name`, `https://t.me/name`, `https://t.me/s/name`
    or a post link `https://t.me/name/123`; None when `text` names no Telegram channel
    (a feed URL). Raises UserInputError for a Telegram address that is not a public channel
    (an invite link, a private post link)."""
    text = text.strip()
    if text.startswith("@"):
        name = text[1:]
        if not valid_channel(name):
            raise UserInputError(f"{text!r} is not a valid channel username "
                                 "(5-32 letters, digits and underscores).")
        return name.lower()
    if "://" not in text and text.split("/", 1)[0].lower() in _HOSTS:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or (parts.hostname or "") not in _HOSTS:
        return None
    path = [p for p in parts.path.split("/") if p]
    if path and path[0] == "s":
        path = path[1:]
    if not path:
        raise UserInputError("This Telegram link names no channel.")
    name = path[0]
    if name.startswith("+") or name.lower() in _NOT_CHANNELS or not valid_channel(name):
        raise UserInputError("Only public channels can be sources (a link like "
                             "https://t.me/channelname); invite links and private chats "
                             "cannot be read without an account.")
    return name.lower()


class RequestBudget:
    """At most `per_minute` requests in any 60 s (a sliding window on the injected clock).

    `reserve(now)` takes a slot and returns 0, or returns how many seconds until one frees
    (nothing taken): the poller then moves that source's next check instead of waiting."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._starts: deque[datetime] = deque()

    def reserve(self, now: datetime) -> float:
        """Take a slot now (0.0) or say how long until one is free."""
        if self.per_minute <= 0:
            return 0.0
        window = timedelta(seconds=60)
        while self._starts and now - self._starts[0] >= window:
            self._starts.popleft()
        if len(self._starts) < self.per_minute:
            self._starts.append(now)
            return 0.0
        return max((self._starts[0] + window - now).total_seconds(), 0.001)
