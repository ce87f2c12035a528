"""A source removed while its feed is processed (/removesource mid-poll) ends quietly.

The poller holds the Source it read from `due()` while it fetches and processes the feed;
an admin may delete the row meanwhile. The pipeline then runs with that stale Source, which
is what these tests do: the row is gone, the batch stores nothing, nothing raises, and the
log has one info line instead of "source failed unexpectedly" with an IntegrityError.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock
from bot.domain import SourceConfig
from bot.news.classify import get_classifier
from bot.news.pipeline import Pipeline
from storage.store import Store

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
FEED = (b"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>T</title>"
        b"<item><guid>k1</guid><title>Evacuation buses leave Kherson</title>"
        b"<link>https://ex.org/k1</link><description>Buses took 300 residents out of Kherson"
        b" after overnight shelling.</description>"
        b"<pubDate>Thu, 26 Nov 2026 05:00:00 GMT</pubDate></item>"
        b"<item><guid>k2</guid><title>Power restored in Odesa after strikes</title>"
        b"<link>https://ex.org/k2</link><description>Engineers restored power to most of"
        b" Odesa on Thursday.</description>"
        b"<pubDate>Thu, 26 Nov 2026 05:10:00 GMT</pubDate></item>"
        b"</channel></rss>")


async def test_a_feed_of_a_source_removed_mid_poll_stores_nothing_and_raises_nothing(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    pipe = Pipeline(store, get_classifier(), FakeClock(NOW))
    await pipe.load()
    gone = await store.sources.add(
        SourceConfig(name="gone", url="https://gone.example.org/rss"), now=NOW)
    assert await store.sources.remove(gone.id)
    with caplog.at_level(logging.INFO):
        _feed, result = await pipe.process_body(gone, FEED)
    assert (result.new_items, result.new_stories, result.errors) == (0, (), ())
    assert result.skipped == 2
    assert await store.news.counts_since(NOW - timedelta(hours=1)) == (0, 0)
    removed = [r for r in caplog.records if r.getMessage() == "source removed while polling"]
    assert len(removed) == 1 and removed[0].levelno == logging.INFO
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    # Another source's copy of the same items is stored as usual afterwards.
    kept = await store.sources.add(
        SourceConfig(name="kept", url="https://kept.example.org/rss"), now=NOW)
    _feed, result = await pipe.process_body(kept, FEED)
    assert result.new_items == 2 and len(result.new_stories) == 2
