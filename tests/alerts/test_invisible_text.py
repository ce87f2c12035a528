"""Bidi controls and other invisible characters never reach an alert or a source name.

A U+202E (right-to-left override) in a feed title used to pass into alerts, where it
displays the rest of the message reversed. Text is stripped where it enters (the item
cleaner, /addsource names and feed titles) and once more where an alert is rendered (for
stories and labels stored before).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from bot.alerts.render import render_alert
from bot.clock import FakeClock
from bot.config import Config, PollerConfig
from bot.domain import SourceConfig, Story, Subscription, TagKind
from bot.news.classify import get_classifier
from bot.news.fetch import Fetcher, guarded_client
from bot.news.pipeline import Pipeline
from bot.news.poller import Poller
from bot.news.text import strip_invisible
from bot.services import Services
from bot.telegram.admin_views import add_source
from bot.testing.feed_server import FeedServer
from storage.store import Store

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ANY_INVISIBLE = re.compile(f"[{BIDI}\u2060\ufeff\x85]")


def _feed(title: str, channel_title: str = "Southern desk") -> bytes:
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>{channel_title}</title><item><guid>k1</guid><title>{title}</title>"
            f"<link>https://ex.org/k1</link><description>Buses took 300 residents out of "
            f"Kherson after overnight shelling.</description>"
            f"<pubDate>Thu, 26 Nov 2026 05:00:00 GMT</pubDate></item></channel></rss>"
            ).encode()


def _labels(kind: TagKind, key: str) -> str:
    return get_classifier().label(kind, key)


def test_strip_invisible_removes_bidi_controls_and_keeps_joiners() -> None:
    for ch in BIDI + "\u2060\u2061\u206a\ufeff\ufff9\x85\U000e0001":
        assert strip_invisible(f"Kher{ch}son") == "Kherson", hex(ord(ch))
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji by zero-width joiners
    assert strip_invisible(f"{family} Kherson") == f"{family} Kherson"
    assert strip_invisible("می\u200cخواهم") == "می\u200cخواهم"  # ZWNJ shapes Persian
    assert strip_invisible("Херсон: евакуація") == "Херсон: евакуація"


async def test_a_feed_title_with_a_right_to_left_override_renders_without_it(
        sqlite_store: Store) -> None:
    pipe = Pipeline(sqlite_store, get_classifier(), FakeClock(NOW))
    await pipe.load()
    src = await sqlite_store.sources.add(
        SourceConfig(name="desk", url="https://desk.example.org/rss"), now=NOW)
    title = "Evacuation buses \u202eleave Kherson\u202c &#x2067;now&#x2069;"
    _feed_meta, result = await pipe.process_body(src, _feed(title))
    (story,) = result.new_stories
    assert story.title == "Evacuation buses leave Kherson now"
    assert story == await sqlite_store.news.get_story(story.id)
    sub = Subscription(id=1, chat_id=5, kind=TagKind.CITY, key="kherson", label="Kherson")
    alert = render_alert(story, [sub], focused_summary=story.summary, lang="en",
                         labels=_labels)
    assert "Evacuation buses leave Kherson now" in alert.text
    assert not ANY_INVISIBLE.search(alert.text)


async def test_a_story_and_label_stored_before_the_fix_render_without_bidi_controls(
        sqlite_store: Store) -> None:
    pipe = Pipeline(sqlite_store, get_classifier(), FakeClock(NOW))
    src = await sqlite_store.sources.add(
        SourceConfig(name="desk", url="https://desk.example.org/rss"), now=NOW)
    _feed_meta, result = await pipe.process_body(src, _feed("Evacuation buses leave Kherson"))
    # As such a story was stored before titles were stripped where they enter.
    story: Story = replace(result.new_stories[0], title="\u202eEvacuation buses leave Kherson",
                           summary="Buses \u2066left\u2069 Kherson.")
    sub = Subscription(id=2, chat_id=5, kind=TagKind.PHRASE, key="no fly zone",
                       label="no-fly \u202ezone")
    alert = render_alert(story, [sub], focused_summary=story.summary, lang="en",
                         labels=_labels)
    assert "Evacuation buses leave Kherson" in alert.text and "no-fly zone" in alert.text
    assert "Buses left Kherson." in alert.text
    assert not ANY_INVISIBLE.search(alert.text)
    buttons = [b["text"] for row in (alert.reply_markup or {})["inline_keyboard"] for b in row]
    assert "Unfollow no-fly zone" in buttons


async def test_addsource_names_lose_their_bidi_controls(sqlite_store: Store,
                                                        server: FeedServer) -> None:
    cfg = PollerConfig(allow_private_addresses=True)
    clock = FakeClock(NOW)
    services = Services(config=replace(Config(), poller=cfg), store=sqlite_store, clock=clock)
    server.set_feed("/given", _feed("Buses leave Kherson"))
    server.set_feed("/titled", _feed("Buses leave Kherson", "Southern \u202edesk\u202c"))
    async with guarded_client(cfg) as http:
        services.poller = Poller(sqlite_store, Pipeline(sqlite_store, get_classifier(), clock),
                                 Fetcher(cfg, client=http), cfg, clock)
        given, _ = await add_source(services, f"{server.url('/given')} South \u202eksed")
        titled, _ = await add_source(services, server.url("/titled"))
    assert given.name == "South ksed"
    assert titled.name == "Southern desk"
