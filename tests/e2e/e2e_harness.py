"""End-to-end harness: the real runtime (runner.serve) against the Bot API emulator and a
local feed server, on a SQLite file. Tests play users and publish feed items."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from datapaths import migrated_sqlite_file
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.config import Config, DeliveryConfig, PollerConfig, TelegramConfig
from bot.domain import DeliveryKind, OutboxStatus, SourceConfig
from bot.runtime import Runtime
from bot.telegram.runner import Webhook, serve
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator, SentMessage
from bot.testing.feed_server import FeedServer
from storage.tables import outbox

SOURCES = ("alpha", "beta")  # two local outlets: /alpha.xml and /beta.xml
POLL = 0.2  # poller tick (seconds); max_interval 0 makes every source due at each tick
# Deadlines are generous: a loaded CI machine is slow, and a passing run never waits for them.
REPLY_TIMEOUT = 20.0
ALERT_TIMEOUT = 30.0
OBSERVER_GROUP = 10_000  # after every handler group of the bot (see Harness.observe)


@dataclass
class FeedItem:
    guid: str
    title: str
    text: str
    link: str
    published: datetime = field(default_factory=lambda: datetime.now(UTC))


def rss(name: str, items: list[FeedItem]) -> bytes:
    """An RSS 2.0 document with these items (newest first)."""
    body = "".join(
        f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f'<guid isPermaLink="false">{escape(i.guid)}</guid>'
        f"<pubDate>{format_datetime(i.published)}</pubDate>"
        f"<description>{escape(i.text)}</description></item>"
        for i in sorted(items, key=lambda i: i.published, reverse=True))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(name)}</title><link>https://{name}.example/</link>"
            f"<description>{escape(name)}</description>{body}</channel></rss>").encode()


class Harness:
    """One running bot with its emulator and feeds."""

    def __init__(self, emu: BotApiEmulator, feeds: FeedServer, cfg: Config) -> None:
        self.emu, self.feeds, self.cfg = emu, feeds, cfg
        self.items: dict[str, list[FeedItem]] = {name: [] for name in SOURCES}
        self.runtime: Runtime | None = None
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.handled: list[Update] = []  # every update, once the bot's handlers are done

    def observe(self, application: Any) -> None:
        """Record each update after the bot's own handlers have run (a handler group after
        all of Herald's; handlers block, so an update shows up here only once it has been
        handled). This is the positive event a negative check waits for."""
        async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            self.handled.append(update)

        application.add_handler(TypeHandler(Update, record), group=OBSERVER_GROUP)

    async def send_and_wait_handled(self, chat_id: int, text: str, *,
                                    timeout: float = REPLY_TIMEOUT, **kwargs: Any) -> None:
        """Send a user message and wait until the bot has finished handling it (whether or
        not it answered)."""
        message_id = self.emu.user_message(chat_id, text, **kwargs)
        deadline = asyncio.get_running_loop().time() + timeout
        while not any(u.effective_message is not None and u.effective_chat is not None
                      and u.effective_chat.id == chat_id
                      and u.effective_message.message_id == message_id for u in self.handled):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"message {text!r} to {chat_id} was not handled")
            await asyncio.sleep(0.02)

    async def settled(self, timeout: float = ALERT_TIMEOUT) -> None:
        """Wait until the outbox has nothing waiting or being sent: every message enqueued
        so far has reached the emulator (or failed). Call it after `publish` (whose poll
        cycles enqueue the alerts) and before checking that something did NOT arrive."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (await self.services.store.outbox.pending_count()) > 0:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"outbox not drained within {timeout}s")
            await asyncio.sleep(0.05)

    async def outbox_rows(self, chat_id: int, kind: DeliveryKind | None = None) -> int:
        """Outbox rows ever enqueued for a chat (any status but cancelled; of one kind)."""
        q = select(func.count()).select_from(outbox).where(
            outbox.c.chat_id == chat_id, outbox.c.status != OutboxStatus.CANCELLED.value)
        if kind is not None:
            q = q.where(outbox.c.kind == kind.value)
        async with self.services.store.session.begin() as s:
            return int((await s.execute(q)).scalar_one())

    @property
    def services(self) -> Any:
        assert self.runtime is not None and self.runtime.services is not None
        return self.runtime.services

    def serve_feeds(self) -> None:
        for name, items in self.items.items():
            self.feeds.set_feed(f"/{name}.xml", rss(name, items))

    async def publish(self, source: str, item: FeedItem, *, wait: bool = True) -> None:
        """Add an item to a source's feed; by default wait until the poller has read it."""
        self.items[source].append(item)
        self.serve_feeds()
        if wait:
            await self.polled(source)

    async def polled(self, source: str, times: int = 2, timeout: float = ALERT_TIMEOUT) -> None:
        """Wait until the source's feed has been requested `times` more times: a poll cycle
        runs its sources' new stories through matching into the outbox before the next
        cycle starts, so after two more requests the published item is processed."""
        path = f"/{source}.xml"
        target = self.feeds.request_count(path) + times
        deadline = asyncio.get_running_loop().time() + timeout
        while self.feeds.request_count(path) < target:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{path} was not polled")
            await asyncio.sleep(0.05)

    async def say(self, chat_id: int, text: str, *, timeout: float = REPLY_TIMEOUT,
                  **kwargs: Any) -> SentMessage:
        """Send a user message and return the bot's first message to that chat after it (an
        alert that happens to arrive first is not the answer: answers wait their chat's turn
        behind an alert already on its way)."""
        since = self.emu.mark()
        self.emu.user_message(chat_id, text, **kwargs)
        return await self.emu.wait_for(
            lambda m: m.chat_id == chat_id and not any(
                d.startswith("mute:") for _t, d in m.buttons()), timeout, since=since)

    async def press(self, chat_id: int, message: SentMessage, text_or_data: str, *,
                    user_id: int | None = None) -> str:
        """Press the button whose label contains text (or whose data equals it)."""
        data = next((d for t, d in message.buttons() if text_or_data == d), None) or next(
            (d for t, d in message.buttons() if text_or_data.casefold() in t.casefold()), None)
        assert data is not None, f"no button {text_or_data!r} in {message.buttons()}"
        return self.emu.press_button(chat_id, message.message_id, data, user_id=user_id)

    async def answer_of(self, query_id: str, timeout: float = REPLY_TIMEOUT) -> str | None:
        """The text of the callback answer for a button press (every press is answered)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for a in self.emu.callback_answers:
                if a.callback_query_id == query_id:
                    return a.text
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"callback {query_id} was not answered")
            await asyncio.sleep(0.02)

    def alerts(self, chat_id: int) -> list[SentMessage]:
        """Alerts the chat received (they carry the Mute button)."""
        return [m for m in self.emu.sent(chat_id)
                if any(d == "mute:1h" for _t, d in m.buttons()) and not m.edited]

    async def wait_alert(self, chat_id: int, predicate: Callable[[SentMessage], bool],
                         timeout: float = ALERT_TIMEOUT) -> SentMessage:
        return await self.emu.wait_for(
            lambda m: m.chat_id == chat_id and any(d == "mute:1h" for _t, d in m.buttons())
            and predicate(m), timeout, since=0)


def e2e_config(db: Path, base_url: str, feeds: FeedServer, **overrides: Any) -> Config:
    """A config for the tests: emulator, local feeds polled every ~second, SQLite file."""
    sources = tuple(SourceConfig(name=f"{n.title()} News", url=feeds.url(f"/{n}.xml"),
                                 poll_interval=30) for n in SOURCES)
    cfg = Config(
        admins=(900,),
        telegram=TelegramConfig(token=DEFAULT_TOKEN, base_url=base_url,
                                base_file_url=base_url.replace("/bot", "/file/bot"),
                                polling_timeout=1),
        poller=PollerConfig(tick_seconds=POLL, min_interval=0, max_interval=0,
                            allow_private_addresses=True, timeout=5.0, cpu_workers=0),
        delivery=DeliveryConfig(global_rate=30.0, private_chat_rate=1.0),
        sources=sources,
    )
    cfg = replace(cfg, database=replace(cfg.database, url=f"sqlite+aiosqlite:///{db}"))
    return replace(cfg, **overrides) if overrides else cfg


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *, webhook: Webhook | None = None,
                  emulator: BotApiEmulator | None = None,
                  prepare: Callable[[Harness], None] | None = None,
                  **overrides: Any) -> AsyncIterator[Harness]:
    """Start emulator, feeds and the bot; stop all of them afterwards."""
    emu = emulator or BotApiEmulator(chat_burst=5.0)
    feeds = FeedServer()
    base_url = await emu.start()
    await feeds.start()
    h = Harness(emu, feeds, e2e_config(tmp_path / "herald.db", base_url, feeds, **overrides))
    if h.cfg.database.url.endswith(str(tmp_path / "herald.db")):
        await migrated_sqlite_file(tmp_path / "herald.db")  # a copy: no migration per test
    if prepare is not None:
        prepare(h)
    h.serve_feeds()
    ready = asyncio.Event()

    async def on_ready(runtime: Runtime) -> None:
        h.runtime = runtime
        h.observe(runtime._app)  # the Application (private: only tests look at it)
        ready.set()

    h.task = asyncio.create_task(serve(h.cfg, stop=h.stop, ready=on_ready, webhook=webhook))
    try:
        done, _ = await asyncio.wait([h.task, asyncio.create_task(ready.wait())], timeout=60,
                                     return_when=asyncio.FIRST_COMPLETED)
        if h.task in done:
            h.task.result()  # raises why the bot did not start
        assert ready.is_set(), "the bot did not start within 60 s"
        yield h
    finally:
        h.stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(h.task, 20)
        await feeds.stop()
        await emu.stop()


def item(guid: str, title: str, text: str, *, source: str = "alpha",
         minutes_ago: float = 0) -> FeedItem:
    """A feed item with a link on the source's own (reserved .example) domain."""
    return FeedItem(guid=guid, title=title, text=text,
                    link=f"https://{source}.example/news/{guid}",
                    published=datetime.now(UTC) - timedelta(minutes=minutes_ago))
