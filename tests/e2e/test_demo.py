"""`herald demo --script`: the acceptance script prints answers and a Kherson alert, once."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from bot.config import Config, DatabaseConfig
from bot.testing.demo import DemoSession, run_script
from bot.testing.demo_sources import load_demo_news, render_feed


async def test_demo_script_prints_answers_and_one_alert(tmp_path: Path) -> None:
    cfg = Config(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"))
    out = io.StringIO()
    session = DemoSession(cfg, own_database=True, out=out)
    try:
        await session.start()
        await run_script(session, ["/start", "# a comment", "/subscribe kherson", "/kherson",
                                   "[press Follow nothing]"], linger=20)
    finally:
        await session.close()
    text = out.getvalue()
    assert "you> /start" in text and "Herald watches news sources for you." in text
    assert "Following Kherson." in text
    assert "Latest: Kherson" in text and "Evacuation buses leave Kherson" in text
    assert "(no button 'Follow nothing' to press)" in text
    alert = "alert> Power restored to 12,000 homes in Kherson after overnight strike"
    # The same story from World Wire (demo) is published too, and does not alert again.
    assert "World Wire (demo) published: Power restored" in text
    assert text.count(alert) == 1, text
    # official alerts: the demo declares one for the raion of the followed city
    assert "alert> 🔴 Air-raid alert: " in text, text


def test_bundled_demo_news_renders_valid_feeds() -> None:
    news = load_demo_news()
    assert {s.language for s in news.sources} == {"en", "uk", "ru"}
    for source in news.sources:
        entries = [(i, datetime(2026, 1, 1, tzinfo=UTC)) for i in news.items
                   if i.source == source.slug]
        parsed = feedparser.parse(render_feed(source, entries))
        assert not parsed.bozo, (source.slug, parsed.bozo_exception)
        assert len(parsed.entries) == len(entries)
