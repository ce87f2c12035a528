"""The HTTP edge for Telegram channel previews: where a page is fetched from, the global
request budget, the body cap, and what a redirect means (no public preview).

The poller (bot.news.poller) reads channels in its ordinary cycle through this; /addsource
checks a channel with it. Every request goes through the same guarded client as feeds.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

from bot.config import PollerConfig, TelegramPreviewConfig
from bot.errors import FetchError, FetchRedirected
from bot.news.channels import RequestBudget, preview_url
from bot.news.fetch import Fetcher, FetchResult
from bot.news.parse import ParsedFeed
from bot.news.telegram_preview import parse_preview


class ChannelReader:
    """Fetches preview pages: base URL from config, a per-minute budget for all channels, a
    body cap of their own, redirects not followed (a channel without a preview redirects to
    its card: reported as such, never fetched)."""

    def __init__(self, cfg: PollerConfig, preview: TelegramPreviewConfig,
                 fetcher: Fetcher) -> None:
        self.preview = preview
        # Same guarded client and connection pool as the feeds; its own body cap.
        self.fetcher = Fetcher(dataclasses.replace(cfg, max_body_bytes=preview.max_body_bytes),
                               client=fetcher.client)
        self.budget = RequestBudget(preview.max_requests_per_minute)

    def reserve(self, now: datetime) -> float:
        """Take a request slot (0.0), or the seconds until one is free (nothing taken)."""
        return self.budget.reserve(now)

    async def fetch(self, channel: str, *, before: int | None = None, etag: str | None = None,
                    last_modified: str | None = None) -> FetchResult:
        """GET one page of a channel (its newest, or the one before post `before`); raise
        FetchError, with a clear message for a channel that has no public preview."""
        try:
            return await self.fetcher.fetch(preview_url(self.preview.base_url, channel, before),
                                            etag=etag, last_modified=last_modified,
                                            follow_redirects=False)
        except FetchRedirected as exc:
            raise FetchError(f"@{channel} has no public web preview (t.me redirects to "
                             f"{exc.location}): it cannot be read without an account",
                             permanent=True) from None

    async def check(self, channel: str, now: datetime) -> ParsedFeed:
        """Fetch and parse a channel's newest page once (/addsource); raises FetchError or
        FeedParseError with a message fit to show. Counts against the budget."""
        wait = self.reserve(now)
        if wait:
            raise FetchError(f"too many channel preview requests this minute; try again in "
                             f"{wait:.0f} s")
        result = await self.fetch(channel)
        return await asyncio.to_thread(parse_preview, result.body, channel)
