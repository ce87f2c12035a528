"""`herald demo --script`: the acceptance script prints answers and a Kherson alert, once."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from bot.config import Config, DatabaseConfig
from bot.news.telegram_preview import parse_preview
from bot.testing import demo_sirens
from bot.testing.demo import DemoSession, run_script
from bot.testing.demo_sources import load_demo_news, render_feed
from bot.testing.feed_server import FeedServer


async def test_demo_script_prints_answers_and_one_alert(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_sirens, "LASTS", 4.0)  # the demo's alerts end sooner
    cfg = Config(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"))
    out = io.StringIO()
    session = DemoSession(cfg, own_database=True, out=out)
    try:
        await session.start()
        # The channel subscribes first: the demo publishes the Kherson story a few seconds
        # in, and a follow made after it would (rightly) get no post of it.
        await run_script(session, ["/start", "[channel] /subscribe kherson", "# a comment",
                                   "/subscribe kherson", "/kherson", "[press Follow nothing]",
                                   # the channel's official alerts, then one for its oblast
                                   "/channel set @demo_kherson sirens on",
                                   "/channel set @demo_kherson pin on",
                                   "/subscribe Kherson oblast"],
                         linger=20)
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
    # The demo channel: set up by a post in it, which Herald deletes; then it gets the story.
    assert "you in @demo_kherson> /subscribe kherson" in text
    assert "@demo_kherson> Following Kherson." in text
    assert "@demo_kherson> (Herald deleted post 1)" in text
    post = "@demo_kherson> Power restored to 12,000 homes in Kherson after overnight strike"
    assert text.count(post) == 1, text
    # ... and the official alert, pinned while active, unpinned at the all-clear
    assert "@demo_kherson> 🔴 Air-raid alert: Kherson oblast" in text, text
    pinned = re.search(r"@demo_kherson> \(Herald pinned post (\d+)\)", text)
    assert pinned is not None, text
    assert f"@demo_kherson> (Herald unpinned post {pinned.group(1)})" in text, text


def test_bundled_demo_news_renders_valid_feeds() -> None:
    news = load_demo_news()
    assert {s.language for s in news.sources} == {"en", "uk", "ru"}
    for source in news.sources:
        if source.format == "telegram":
            continue  # a channel's preview page: test_demo_channel_page_is_a_preview
        entries = [(i, datetime(2026, 1, 1, tzinfo=UTC)) for i in news.items
                   if i.source == source.slug]
        parsed = feedparser.parse(render_feed(source, entries))
        assert not parsed.bozo, (source.slug, parsed.bozo_exception)
        assert len(parsed.entries) == len(entries)


async def test_demo_channel_page_is_a_preview_whose_posts_appear_over_time() -> None:
    from bot.testing.demo_sources import NewsDesk

    now = [datetime(2026, 12, 7, 10, 0, tzinfo=UTC)]
    server = FeedServer()
    desk = NewsDesk(load_demo_news(), server, lambda: now[0])
    desk.start()
    (channel,) = [s for s in desk.news.sources if s.format == "telegram"]
    config = next(c for c in desk.source_configs() if c.name == channel.name)
    assert config.url == f"https://t.me/s/{channel.slug}"

    def posts() -> list[str]:
        body = server._routes[f"/s/{channel.slug}"].body
        return [i.title or "" for i in parse_preview(body, channel.slug).items]

    assert posts() == ["Комендантська година в області діє з 23:00 до 05:00",
                       "В Ізюмі відкрили ще два пункти незламності"]
    now[0] += timedelta(seconds=80)
    desk.tick()
    assert posts()[-1] == "У Балаклії відновили водопостачання після ремонту насосної станції"
    assert desk.news.item_of_post(f"https://t.me/{channel.slug}/1001") == "ch-curfew"
    assert desk.news.item_of_post(f"https://t.me/{channel.slug}/1005") == "ch-kharkiv-drones"


async def test_demo_script_plays_a_flood_of_commands_and_a_fan_out(tmp_path: Path) -> None:
    cfg = Config(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"))
    out = io.StringIO()
    session = DemoSession(cfg, own_database=True, out=out)
    try:
        await session.start()
        await run_script(session, ["/subscribe kherson", "[crowd 5]", "[repeat 3 /kherson]"],
                         linger=0)
        assert session.runtime is not None and session.runtime.services is not None
        store = session.runtime.services.store
        assert [s.key for s in await store.chats.subscriptions(2_000_004)] == ["kherson"]
    finally:
        await session.close()
    text = out.getvalue()
    assert "(5 more chats now follow what you follow)" in text
    assert "you> /kherson  (×3, at once)" in text
    assert text.count("bot> Latest: Kherson") == 3, text


async def test_a_two_message_answer_stays_with_its_command(tmp_path: Path) -> None:
    """/alerts answers with its text and the map: the map, a second message to the chat,
    waits for the chat's turn (about a second); the next line's answer must not be shifted
    under it."""
    cfg = Config(database=DatabaseConfig(url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"))
    out = io.StringIO()
    session = DemoSession(cfg, own_database=True, out=out)
    try:
        await session.start()
        await run_script(session, ["/start", "/subscribe kharkiv", "/alerts", "/help", "/list"],
                         linger=3)
    finally:
        await session.close()
    text = out.getvalue()
    assert "[picture: " in text, text
    assert text.index("[picture: ") < text.index("you> /help"), text
    assert text.index("you> /help") < text.index("/start — "), text
