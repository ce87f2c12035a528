"""Admin commands through a real Application polling the Bot API emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from bulk_chats import add_chats
from telegram.ext import Application, ApplicationBuilder

from bot.clock import FakeClock
from bot.config import Config, LimitsConfig
from bot.delivery.broadcast import BroadcastService
from bot.domain import BroadcastStatus, SourceConfig
from bot.services import Services
from bot.telegram.admin_views import count
from bot.telegram.handlers import admin
from bot.telegram.throttle import register_throttle
from bot.testing.botapi import BotApiEmulator, SentMessage
from storage.repos.sources import SourceCheck
from storage.store import Store

ADMIN, USER = 7, 55
DEADLINE = 20.0  # seconds to wait for an answer: generous for a loaded machine
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@dataclass
class Harness:
    emu: BotApiEmulator
    app: Application  # type: ignore[type-arg]
    services: Services

    async def say(self, chat_id: int, text: str, **kw: object) -> SentMessage:
        mark = self.emu.mark()
        self.emu.user_message(chat_id, text, **kw)  # type: ignore[arg-type]
        return await self.wait(lambda m: m.chat_id == chat_id, since=mark)

    async def wait(self, predicate: Callable[[SentMessage], bool],
                   since: int | None = None) -> SentMessage:
        """The first message sent matching predicate (see BotApiEmulator.wait_for)."""
        return await self.emu.wait_for(predicate, DEADLINE, since=since)


@pytest.fixture
async def harness(sqlite_store: Store) -> AsyncIterator[Harness]:
    emu = BotApiEmulator(enforce_limits=False)
    await emu.start()
    cfg = Config(admins=(ADMIN,), limits=LimitsConfig(commands_per_minute=5))
    clock = FakeClock(NOW)
    services = Services(config=cfg, store=sqlite_store, clock=clock)
    services.broadcasts = BroadcastService(sqlite_store, clock, cfg, progress_interval=0)
    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).build()
    app.bot_data["services"] = services
    register_throttle(app)
    admin.register(app)
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            yield Harness(emu, app, services)
        finally:
            await app.updater.stop()
            await app.stop()
    await emu.stop()


async def test_non_admins_are_refused_even_with_forged_buttons(harness: Harness) -> None:
    h = harness
    await add_chats(h.services.store, [ADMIN, USER])
    for cmd in ("/stats", "/broadcast hello", "/sources", "/pausesource 1"):
        answer = await h.say(USER, cmd)
        assert "only for Herald's administrators" in answer.plain
    # The admin drafts a broadcast; a non-admin forges the Confirm press.
    mark = h.emu.mark()
    h.emu.user_message(ADMIN, "/broadcast <b>Hello</b>")
    question = await h.wait(lambda m: "send the message above" in m.plain, since=mark)
    mark = h.emu.mark()
    h.emu.press_button(ADMIN, question.message_id, "adm:bc:ok:1", user_id=USER)
    deadline = asyncio.get_running_loop().time() + 20
    while not h.emu.callback_answers:
        assert asyncio.get_running_loop().time() < deadline, "the press was not answered"
        await asyncio.sleep(0.02)
    assert h.emu.callback_answers[-1].show_alert
    assert "administrators" in (h.emu.callback_answers[-1].text or "")
    # A later update, answered: this Application handles updates one at a time, so the
    # forged press is completely handled by now.
    assert "Chats:" in (await h.say(ADMIN, "/stats")).plain
    b = await h.services.store.broadcasts.get(1)
    assert b is not None and b.status == BroadcastStatus.DRAFT
    assert [m.chat_id for m in h.emu.sent()[mark:]] == [ADMIN]


async def test_broadcast_preview_confirm_progress_report(harness: Harness) -> None:
    h = harness
    store = h.services.store
    await add_chats(store, [ADMIN, *range(1000, 1040)])
    bad = await h.say(ADMIN, "/broadcast <b>Unclosed")
    assert "not valid Telegram HTML" in bad.plain and "end tag" in bad.plain
    mark = h.emu.mark()
    h.emu.user_message(ADMIN, "/broadcast all <b>Evacuation</b> buses at 9 &amp; 10")
    question = await h.wait(lambda m: "send the message above" in m.plain, since=mark)
    preview = h.emu.sent(ADMIN)[-2]
    assert preview.plain == "Evacuation buses at 9 & 10"  # exactly what users will get
    assert "to 41 chats (all active chats)" in question.plain
    assert question.buttons() == [("✅ Confirm", "adm:bc:ok:1"), ("✖️ Cancel", "adm:bc:cancel:1")]

    mark = h.emu.mark()
    h.emu.press_button(ADMIN, question.message_id, "adm:bc:ok:1", user_id=ADMIN)
    edited = await h.wait(lambda m: m.edited and "Broadcast #1" in m.plain, since=mark)
    assert edited.message_id == question.message_id
    assert edited.buttons() == [("Cancel broadcast", "adm:bc:cancel:1")]

    service: BroadcastService = h.services.broadcasts
    await service.run_pending(h.app.bot)  # the leader's job
    counts = await store.outbox.counts(1)
    assert counts["pending"] == 41
    claimed = await store.outbox.claim("w", NOW, 100, 120)
    await store.outbox.mark_sent_many([(d.id, 1) for d in claimed], NOW)
    mark = h.emu.mark()
    await service.run_pending(h.app.bot)
    # The progress message becomes the report; the message that notifies the admin is
    # pushed through the outbox like every other (the Sender delivers it).
    report = await h.wait(lambda m: "finished" in m.plain and m.edited, since=mark)
    assert "Sent 41 · blocked 0 · failed 0 (of 41 recipients)" in report.plain
    [owed] = await store.outbox.claim("w", NOW, 100, 120)
    assert owed.chat_id == ADMIN and owed.broadcast_id is None
    assert "Broadcast #1 finished" in owed.text and "Sent 41" in owed.text
    await service.run_pending(h.app.bot)  # once: a second pass owes nothing more
    assert await store.outbox.claim("w", NOW, 100, 120) == []

    # A second broadcast cancelled from its progress message.
    mark = h.emu.mark()
    h.emu.user_message(ADMIN, "/broadcast second")
    question = await h.wait(lambda m: "send the message above" in m.plain, since=mark)
    h.emu.press_button(ADMIN, question.message_id, "adm:bc:ok:2", user_id=ADMIN)
    await h.wait(lambda m: m.edited and "Broadcast #2" in m.plain)
    await service.run_pending(h.app.bot)
    mark = h.emu.mark()
    h.emu.press_button(ADMIN, question.message_id, "adm:bc:cancel:2", user_id=ADMIN)
    done = await h.wait(lambda m: "cancelled" in m.plain, since=mark)
    assert "Not sent: 41" in done.plain
    assert (await store.outbox.counts(2))["cancelled"] == 41


async def test_sources_stats_and_source_management(harness: Harness) -> None:
    h = harness
    store = h.services.store
    await add_chats(store, [ADMIN])
    src = await store.sources.add(SourceConfig(name="Kyiv <Post>", url="https://a.example/rss"),
                                  now=NOW)
    await store.sources.record_checks([SourceCheck(src.id, "failed", NOW, NOW,
                                                   error="HTTP 503 <oops>")])
    listing = await h.say(ADMIN, "/sources")
    assert "Kyiv <Post>" in listing.plain and "HTTP 503 <oops>" in listing.plain
    assert "1 failure in a row" in listing.plain and "⚠️" in listing.plain
    stats = await h.say(ADMIN, "/stats")
    assert "Chats: 1 active · 0 paused · 0 blocked" in stats.plain
    assert "Sources: 1 · 0 healthy · 1 failing · 0 paused" in stats.plain
    assert "Queue: 0 waiting" in stats.plain
    assert "⚠️ #1 Kyiv <Post>: 1 failure, last success never" in stats.plain
    assert "0 cities · 0 topics · 0 phrases · 0 places" in stats.plain
    paused = await h.say(ADMIN, f"/pausesource {src.id}")
    assert "paused" in paused.plain and (await store.sources.get(src.id)).paused  # type: ignore[union-attr]
    resumed = await h.say(ADMIN, "/resumesource https://a.example/rss/")
    assert "resumed" in resumed.plain
    missing = await h.say(ADMIN, "/removesource 999")
    assert "No source '999'" in missing.plain
    removed = await h.say(ADMIN, f"/removesource #{src.id}")
    assert "removed" in removed.plain and await store.sources.get(src.id) is None
    unsafe = await h.say(ADMIN, "/addsource http://127.0.0.1:8080/feed")
    assert "cannot be a source" in unsafe.plain and "not a public address" in unsafe.plain
    scheme = await h.say(ADMIN, "/addsource file:///etc/passwd")
    assert "only http and https" in scheme.plain
    why = await h.say(ADMIN, "/why https://nowhere.example/x")
    assert "has not seen" in why.plain


async def test_flooding_user_is_slowed_down_and_others_are_not(harness: Harness) -> None:
    h = harness
    for _ in range(5):
        assert "administrators" in (await h.say(USER, "/stats")).plain
    slow = await h.say(USER, "/stats")
    assert "too fast" in slow.plain
    mark = h.emu.mark()
    for _ in range(5):
        h.emu.user_message(USER, "/stats")
    # Another user is answered; updates are handled one at a time here, so the five
    # before it are handled by now: dropped, without a word.
    other = await h.say(USER + 1, "/stats")
    assert "administrators" in other.plain
    assert [m for m in h.emu.sent(USER) if h.emu.sent().index(m) >= mark] == []


async def test_broadcast_to_the_followers_of_a_city(harness: Harness) -> None:
    from bot.news.classify import get_classifier

    h = harness
    h.services.classifier = get_classifier()
    await add_chats(h.services.store, [ADMIN])
    await add_chats(h.services.store, range(2000, 2012), follow=[("city", "kherson")])
    await add_chats(h.services.store, range(3000, 3030), follow=[("city", "odesa")])
    mark = h.emu.mark()
    h.emu.user_message(ADMIN, "/broadcast kherson <b>Buses</b> leave at 9")
    question = await h.wait(lambda m: "send the message above" in m.plain, since=mark)
    assert "to 12 chats (followers of Kherson)" in question.plain
    assert h.emu.sent(ADMIN)[-2].plain == "Buses leave at 9"
    # Replying to a message: its formatting is kept, the argument is only the segment.
    mark = h.emu.mark()
    original = h.emu.user_message(ADMIN, "Shelter list updated")
    h.emu.user_message(ADMIN, "/broadcast odesa", reply_to_message_id=original)
    question = await h.wait(lambda m: "send the message above" in m.plain, since=mark)
    assert "to 30 chats (followers of Odesa)" in question.plain
    unknown = await h.say(ADMIN, "/broadcast nowhere-land", reply_to_message_id=original)
    assert "Unknown segment" in unknown.plain


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Southern Desk</title>
<item><guid>kh-1</guid><link>https://news.example/kherson-buses?utm_source=x</link>
<title>Evacuation buses leave Kherson</title>
<description>Buses left Kherson on Monday morning as shelling continued.</description>
<pubDate>Thu, 26 Nov 2026 09:00:00 GMT</pubDate></item></channel></rss>"""


async def test_addsource_fetches_once_then_why_explains_an_item(harness: Harness) -> None:
    from dataclasses import replace

    from bot.config import PollerConfig
    from bot.domain import DeliveryKind, OutgoingMessage
    from bot.news.classify import get_classifier
    from bot.news.fetch import Fetcher, guarded_client
    from bot.news.pipeline import Pipeline
    from bot.news.poller import Poller
    from bot.testing.feed_server import FeedServer

    h = harness
    store, clock = h.services.store, h.services.clock
    classifier = h.services.classifier = get_classifier()
    poller_cfg = PollerConfig(allow_private_addresses=True)
    h.services.config = replace(h.services.config, poller=poller_cfg)
    feeds = FeedServer()
    await feeds.start()
    async with guarded_client(poller_cfg) as http:
        pipeline = Pipeline(store, classifier, clock)
        await pipeline.load()
        poller = Poller(store, pipeline, Fetcher(poller_cfg, client=http), poller_cfg, clock)
        h.services.poller = poller
        try:
            feeds.set_feed("/rss", RSS)
            feeds.set_feed("/page", b"<html><body>not a feed</body></html>",
                           content_type="text/html")
            await add_chats(store, [ADMIN])
            bad = await h.say(ADMIN, f"/addsource {feeds.url('/page')}")
            assert "Could not use this feed" in bad.plain
            added = await h.say(ADMIN, f"/addsource {feeds.url('/rss')} South <desk>")
            assert "Added source #" in added.plain and "South <desk>" in added.plain
            assert "(1 item in the feed now)" in added.plain
            again = await h.say(ADMIN, f"/addsource {feeds.url('/rss')}")
            assert "already source" in again.plain
            report = await poller.run_cycle()
            assert report.new_items == 1
        finally:
            await feeds.stop()
    item = await store.news.item_by_url("https://news.example/kherson-buses")
    assert item is not None
    await store.outbox.enqueue([OutgoingMessage(chat_id=c, kind=DeliveryKind.ALERT, text="x",
                                                story_id=item.story_id,
                                                dedup_key=f"story:{item.story_id}")
                                for c in (501, 502, 503)], NOW)
    claimed = await store.outbox.claim("w", NOW, 10, 120)
    await store.outbox.mark_sent_many([(claimed[0].id, 1), (claimed[1].id, 2)], NOW)
    why = await h.say(ADMIN, "/why https://news.example/kherson-buses?utm_source=tg")
    assert "Evacuation buses leave Kherson" in why.plain
    assert "Cities: Kherson" in why.plain and "South <desk>" in why.plain
    assert "Kherson: “Kherson” (title)" in why.plain
    assert "alert sending 1" in why.plain and "alert sent 2" in why.plain


async def test_addsource_takes_a_channel_in_any_spelling_and_sources_shows_it(
        harness: Harness) -> None:
    from dataclasses import replace

    from datapaths import TEST_DATA

    from bot.config import PollerConfig, TelegramPreviewConfig
    from bot.news.classify import get_classifier
    from bot.news.fetch import Fetcher, guarded_client
    from bot.news.pipeline import Pipeline
    from bot.news.poller import Poller
    from bot.testing.feed_server import FeedServer

    h = harness
    store, clock = h.services.store, h.services.clock
    page = (TEST_DATA / "telegram" / "slobidska_ova.html").read_bytes()
    poller_cfg = PollerConfig(allow_private_addresses=True)
    feeds = FeedServer()
    await feeds.start()
    preview = TelegramPreviewConfig(base_url=feeds.url("/s/"))
    h.services.config = replace(h.services.config, poller=poller_cfg, telegram_preview=preview)
    async with guarded_client(poller_cfg) as http:
        pipeline = Pipeline(store, get_classifier(), clock)
        await pipeline.load()
        h.services.poller = Poller(store, pipeline, Fetcher(poller_cfg, client=http),
                                   poller_cfg, clock, preview=preview)
        try:
            feeds.set_channel("slobidska_ova", page)
            feeds.set_status("/s/quiet_one", 302, {"Location": "https://t.me/quiet_one"})
            await add_chats(store, [ADMIN, USER])
            refused = await h.say(USER, "/addsource @slobidska_ova")
            assert "only for Herald's administrators" in refused.plain
            private = await h.say(ADMIN, "/addsource https://t.me/+AbCdEf123")
            assert "Only public channels can be sources" in private.plain
            quiet = await h.say(ADMIN, "/addsource @quiet_one")
            assert "Could not read this channel: @quiet_one has no public web preview" in (
                quiet.plain)
            added = await h.say(ADMIN, "/addsource https://t.me/s/Slobidska_OVA")
            assert "Added channel #" in added.plain
            assert "Слобідська ОВА (вигаданий канал)" in added.plain
            assert "5 posts with text on its preview now" in added.plain
            for spelling in ("@slobidska_ova", "https://t.me/slobidska_ova",
                             "t.me/s/slobidska_ova"):
                again = await h.say(ADMIN, f"/addsource {spelling}")
                assert "@slobidska_ova is already source #" in again.plain
            (source,) = await store.sources.list_all()
            assert (source.url, source.language, source.poll_interval) == (
                "https://t.me/s/slobidska_ova", "uk", 60)
            await store.sources.record_checks([SourceCheck(
                source.id, "failed", NOW, NOW, error="@slobidska_ova has no public web preview")])
            listing = await h.say(ADMIN, "/sources")
            assert "Telegram channel @slobidska_ova" in listing.plain
            assert "last error: @slobidska_ova has no public web preview" in listing.plain
            paused = await h.say(ADMIN, "/pausesource @slobidska_ova")
            assert "aused" in paused.plain
        finally:
            await feeds.stop()


def test_admin_counts_agree_with_their_nouns() -> None:
    assert [count(n, "chat", "chats") for n in (0, 1, 2, 1234)] == [
        "0 chats", "1 chat", "2 chats", "1,234 chats"]
