"""Telegram channels as sources, end to end through the real poller, pipeline, store and
alert fan-out: saved preview pages (tests/data/telegram) on the local feed server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.alerts.service import AlertService
from bot.clock import FakeClock
from bot.config import PollerConfig, TelegramPreviewConfig
from bot.domain import Source, SourceConfig, TagKind
from bot.news.channels import channel_source_url
from bot.news.classify import get_classifier
from bot.news.dedup import fingerprint
from bot.news.fetch import Fetcher
from bot.news.pipeline import Pipeline
from bot.news.poller import CHANNEL_JITTER, Poller
from bot.testing.feed_server import FeedServer
from storage.store import Store
from storage.tables import alert_queue, items, outbox

PAGES = Path(__file__).resolve().parents[1] / "data" / "telegram"
START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # the saved posts are from 02:14 to 07:50
CFG = PollerConfig(allow_private_addresses=True, timeout=3.0, min_interval=60,
                   telegram_interval=60, max_backoff=3600)


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def channel(name: str, interval: int = 30) -> SourceConfig:
    return SourceConfig(name=f"@{name}", url=channel_source_url(name), language="uk",
                        poll_interval=interval)


@dataclass
class Env:
    store: Store
    poller: Poller
    pipeline: Pipeline
    alerts: AlertService
    clock: FakeClock
    server: FeedServer

    async def source(self, name: str) -> Source:
        found = await self.store.sources.by_url(channel_source_url(name))
        assert found is not None
        return found

    async def outbox_chats(self) -> list[int]:
        async with self.store.session.begin() as s:
            return [r[0] for r in await s.execute(select(outbox.c.chat_id)
                                                  .order_by(outbox.c.id))]

    async def count(self, table: Any) -> int:
        async with self.store.session.begin() as s:
            return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def make_env(store: Store, server: FeedServer, *, cfg: PollerConfig = CFG,
                   preview: TelegramPreviewConfig | None = None) -> AsyncIterator[Env]:
    clock = FakeClock(START)
    classifier = get_classifier()
    alerts = AlertService(store, classifier, clock)
    await alerts.load()
    pipeline = Pipeline(store, classifier, clock)
    await pipeline.load()
    fetcher = Fetcher(cfg)
    preview = preview or TelegramPreviewConfig(base_url=server.url("/s/"))
    poller = Poller(store, pipeline, fetcher, cfg, clock, on_new_stories=alerts.on_new_stories,
                    queue_pending=alerts.queue_pending, preview=preview)
    try:
        yield Env(store, poller, pipeline, alerts, clock, server)
    finally:
        await fetcher.aclose()


@pytest.fixture
async def env(store: Store, server: FeedServer) -> AsyncIterator[Env]:
    async for e in make_env(store, server):
        yield e


async def follow(env: Env, chat_id: int, city: str) -> None:
    await env.store.chats.upsert(chat_id, type="private", title=None, now=env.clock.now())
    await env.alerts.subscribe(chat_id, TagKind.CITY, city, city.title())


async def test_first_read_stores_quietly_then_new_posts_alert_and_edits_update_in_place(
        env: Env) -> None:
    await follow(env, 1, "chuhuiv")  # the post published after the first read
    await follow(env, 2, "kupiansk")  # an older post, edited after the first read
    await follow(env, 3, "balakliia")  # an older post, never changed
    env.server.set_channel("slobidska_ova", page("slobidska_ova.html"))
    await env.poller.sync_sources([channel("slobidska_ova")])

    first = await env.poller.run_cycle()
    assert (first.fetched, first.failed, first.new_items) == (1, 0, 5)
    assert await env.outbox_chats() == [] and await env.count(alert_queue) == 0
    src = await env.source("slobidska_ova")
    assert src.name == "@slobidska_ova" and src.last_error is None
    # never sooner than telegram_interval (the source asked for 30 s), a little later at random
    assert src.next_check_at is not None
    assert START + timedelta(seconds=60) <= src.next_check_at <= START + timedelta(
        seconds=60 * (1 + CHANNEL_JITTER))
    kupiansk = await env.store.news.item_by_url("https://t.me/slobidska_ova/1209")
    assert kupiansk is not None and "37 людей" in kupiansk.text
    assert await env.poller.run_cycle() == replace(first, fetched=0, new_items=0,
                                                   new_stories=())  # not due yet

    env.server.set_channel("slobidska_ova", page("slobidska_ova_later.html"))
    env.clock.advance(75)
    second = await env.poller.run_cycle()
    assert (second.fetched, second.new_items, second.updated) == (1, 1, 1)
    assert [s.url for s in second.new_stories] == ["https://t.me/slobidska_ova/1210"]
    assert second.new_stories[0].title.startswith("У Чугуєві через обстріл знеструмлено")
    assert "items edited 1" in second.summary()
    # the new post alerts its follower; the edited one updates its item and story, silently
    assert await env.outbox_chats() == [1]
    edited = await env.store.news.item_by_url("https://t.me/slobidska_ova/1209")
    assert edited is not None and edited.id == kupiansk.id
    assert "41 людину" in edited.text and "37 людей" not in edited.text
    story = await env.store.news.get_story(edited.story_id)
    assert story is not None and "41 людину" in story.summary
    assert [s.id for s in await env.store.news.latest_by_tag(TagKind.CITY, "kupiansk")] == [
        story.id]
    # later reports are grouped against the corrected post
    assert env.pipeline.index._stories[story.id].fingerprint == fingerprint(edited.title,
                                                                            edited.text)

    # the same page again: nothing new, nothing edited, nobody alerted again
    env.clock.advance(75)
    third = await env.poller.run_cycle()
    assert (third.fetched, third.new_items, third.updated) == (1, 0, 0)
    assert await env.outbox_chats() == [1]
    assert await env.count(items) == 6


async def test_a_forward_counts_as_its_original_publisher(env: Env) -> None:
    env.server.set_channel("slobidska_ova", page("slobidska_ova.html"))
    env.server.set_channel("kharkiv_rada_demo", page("kharkiv_rada_demo.html"))
    await env.poller.sync_sources([channel("slobidska_ova"), channel("kharkiv_rada_demo")])
    report = await env.poller.run_cycle()
    assert (report.fetched, report.failed) == (2, 0)
    rada = await env.source("kharkiv_rada_demo")
    forward = await env.store.news.item_by_url("https://t.me/slobidska_ova/1206")
    original = await env.store.news.item_by_url("https://t.me/kharkiv_rada_demo/5531")
    assert forward is not None and original is not None
    assert forward.story_id == original.story_id  # one story, whoever was read first
    # for grouping both reports are the city council's: the forwarding channel is not a
    # second publisher of the story
    assert env.pipeline.index._stories[forward.story_id].sources == {rada.id}


async def test_a_forward_from_a_channel_that_is_not_a_source(env: Env) -> None:
    env.server.set_channel("slobidska_ova", page("slobidska_ova.html"))
    await env.poller.sync_sources([channel("slobidska_ova")])
    await env.poller.run_cycle()
    src = await env.source("slobidska_ova")
    forward = await env.store.news.item_by_url("https://t.me/slobidska_ova/1206")
    plain = await env.store.news.item_by_url("https://t.me/slobidska_ova/1201")
    assert forward is not None and plain is not None
    (origin,) = env.pipeline.index._stories[forward.story_id].sources
    assert origin < 0  # a publisher of its own, never a source id
    assert env.pipeline.index._stories[plain.story_id].sources == {src.id}


async def test_bad_channels_are_reported_and_the_others_read(
        sqlite_store: Store, server: FeedServer) -> None:
    async for env in make_env(sqlite_store, server, preview=TelegramPreviewConfig(
            base_url=server.url("/s/"), max_body_bytes=100_000)):
        server.set_channel("slobidska_ova", page("slobidska_ova.html"))
        server.set_channel("changed_one", page("changed_shape.html"))
        server.set_channel("card_only", page("channel_card.html"))
        server.set_channel("empty_one", page("empty_channel.html"))
        server.set_channel("blank_one", b"")
        server.set_channel("huge_one", b"<html>" + b" " * 200_000)
        server.set_status("/s/quiet_one", 302, {"Location": "https://t.me/quiet_one"})
        server.set_status("/s/busy_one", 429, {"Retry-After": "600"})
        server.set_status("/s/broken_one", 502)
        names = ["slobidska_ova", "changed_one", "card_only", "empty_one", "blank_one",
                 "huge_one", "quiet_one", "busy_one", "broken_one"]
        await env.poller.sync_sources([channel(n) for n in names])
        report = await env.poller.run_cycle()
        assert (report.fetched, report.failed, report.new_items) == (1, 8, 5)
        errors = {n: (await env.source(n)).last_error for n in names}
        assert errors["slobidska_ova"] is None
        assert "not a Telegram channel preview" in (errors["changed_one"] or "")
        assert "@card_only has no public web preview" in (errors["card_only"] or "")
        assert "no posts on @empty_one's preview page" in (errors["empty_one"] or "")
        assert "empty page" in (errors["blank_one"] or "")
        assert "body larger than 100000 bytes" in (errors["huge_one"] or "")
        assert errors["quiet_one"] == (
            "@quiet_one has no public web preview (t.me redirects to https://t.me/quiet_one): "
            "it cannot be read without an account")
        assert "HTTP 429" in (errors["busy_one"] or "")
        assert "HTTP 502" in (errors["broken_one"] or "")
        # the redirect was not followed (it would have left the machine)
        assert server.request_count("/s/quiet_one") == 1
        busy = await env.source("busy_one")
        assert busy.next_check_at is not None
        assert busy.next_check_at >= START + timedelta(seconds=600)  # Retry-After honoured
        broken = await env.source("broken_one")
        assert broken.failure_count == 1 and broken.next_check_at is not None
        assert broken.next_check_at >= START + timedelta(seconds=60 * 2 * 0.75)  # backoff


async def test_global_preview_budget_defers_channels_without_failing_them(
        sqlite_store: Store, server: FeedServer) -> None:
    async for env in make_env(sqlite_store, server, preview=TelegramPreviewConfig(
            base_url=server.url("/s/"), max_requests_per_minute=2)):
        for name in ("chan_one", "chan_two", "chan_three"):
            server.set_channel(name, page("slobidska_ova.html").replace(
                b"slobidska_ova/", name.encode() + b"/"))
        await env.poller.sync_sources([channel(n) for n in ("chan_one", "chan_two",
                                                            "chan_three")])
        report = await env.poller.run_cycle()
        assert (report.fetched, report.deferred, report.failed) == (2, 1, 0)
        assert "channels deferred 1" in report.summary()
        assert len(server.requests) == 2
        deferred = [s for s in await env.store.sources.list_all() if s.last_checked_at is None]
        assert len(deferred) == 1
        (later,) = deferred
        assert later.failure_count == 0 and later.last_error is None
        assert later.next_check_at is not None
        assert START < later.next_check_at <= START + timedelta(seconds=66)
        for _ in range(3):  # its turn comes once the minute has passed
            env.clock.advance(66)
            report = await env.poller.run_cycle()
            assert report.failed == 0 and report.fetched + report.deferred >= 1
            if (await env.store.sources.get(later.id)).last_success_at:  # type: ignore[union-attr]
                break
        else:
            pytest.fail("the deferred channel was never read")
        assert len(server.requests) <= 2 * 4  # never more than two a minute


async def test_private_preview_addresses_are_refused_unless_allowed(
        sqlite_store: Store, server: FeedServer) -> None:
    cfg = replace(CFG, allow_private_addresses=False)
    async for env in make_env(sqlite_store, server, cfg=cfg):
        server.set_channel("slobidska_ova", page("slobidska_ova.html"))
        await env.poller.sync_sources([channel("slobidska_ova")])
        report = await env.poller.run_cycle()
        assert report.failed == 1 and server.requests == []
        assert "unsafe" in ((await env.source("slobidska_ova")).last_error or "")


async def test_check_channel_for_addsource(env: Env) -> None:
    env.server.set_channel("slobidska_ova", page("slobidska_ova.html"))
    parsed = await env.poller.check_channel("slobidska_ova")
    assert parsed.title == "Слобідська ОВА (вигаданий канал)" and len(parsed.items) == 5
    env.server.set_status("/s/quiet_one", 302, {"Location": "https://t.me/quiet_one"})
    with pytest.raises(Exception, match="has no public web preview"):
        await env.poller.check_channel("quiet_one")


async def test_older_pages_are_served_by_before(server: FeedServer, env: Env) -> None:
    server.set_channel("slobidska_ova", page("slobidska_ova.html"),
                       older={1201: page("slobidska_ova_before_1201.html")})
    newest = await env.poller.channels.fetch("slobidska_ova")
    older = await env.poller.channels.fetch("slobidska_ova", before=1201)
    assert b"slobidska_ova/1209" in newest.body and b"slobidska_ova/1209" not in older.body
    assert b"slobidska_ova/1198" in older.body


async def test_posts_beyond_the_page_are_read_from_older_pages(env: Env) -> None:
    """More posts than the page shows appeared between two reads: the older page
    (?before=<oldest shown>) is read too, until it reaches posts already stored."""
    await follow(env, 1, "izium")  # post 1203 is only on the older page by then
    env.server.set_channel("slobidska_ova", page("slobidska_ova_before_1201.html"))
    await env.poller.sync_sources([channel("slobidska_ova")])
    first = await env.poller.run_cycle()
    assert first.new_items == 3 and env.server.request_count("/s/slobidska_ova") == 1

    # 1202-1210 now fill the page; 1201 has scrolled off it, to the older page
    newest = page("slobidska_ova.html")
    start = newest.index(b'<div class="tgme_widget_message_wrap')
    post_1201 = newest[start:newest.index(b'<div class="tgme_widget_message_wrap', start + 10)]
    older = page("slobidska_ova_before_1201.html")
    cut = older.rindex(b"</section>")
    env.server.set_channel("slobidska_ova", page("slobidska_ova_later.html"),
                           older={1202: older[:cut] + post_1201 + older[cut:]})
    env.clock.advance(75)
    second = await env.poller.run_cycle()
    pages = [(r.path, r.query) for r in env.server.requests]
    assert pages == [("/s/slobidska_ova", ""), ("/s/slobidska_ova", ""),
                     ("/s/slobidska_ova", "before=1202")]  # and no further: 1198-1200 known
    assert second.new_items == 5 + 1
    assert await env.store.news.item_by_url("https://t.me/slobidska_ova/1201") is not None
    assert await env.outbox_chats() == [1]  # 1203 (Izium) alerted once
