"""The demo's news desk: bundled sample sources on the local feed server, publishing as time
passes (and a story soon after someone follows a city or topic, so an alert can be seen).

Items come from bot/testing/data/demo_news.json (written for Herald). Each source is one
RSS or Atom feed on the FeedServer, or a Telegram channel's preview page (format
"telegram", at /s/<slug>; the demo points telegram_preview.base_url there); publishing an
item rewrites its feed or page, and the poller picks it up on its next poll like any real
source.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from sqlalchemy import select

from bot.clock import wait_any
from bot.domain import SourceConfig, TagKind
from bot.news.channels import channel_source_url
from bot.testing.feed_server import FeedServer
from bot.testing.telegram_pages import PagePost, render_preview
from storage.store import Store
from storage.tables import items as items_table

log = logging.getLogger(__name__)
DEMO_POLL_INTERVAL = 30  # the config minimum; poller.max_interval makes local polls faster


@dataclass(frozen=True, slots=True)
class DemoSource:
    slug: str
    name: str
    language: str
    format: str  # rss | atom | telegram (the slug is the channel's username)
    site: str

    @property
    def path(self) -> str:
        return f"/s/{self.slug}" if self.format == "telegram" else f"/{self.slug}.xml"


@dataclass(frozen=True, slots=True)
class DemoItem:
    id: str
    source: str
    title: str
    text: str
    at: float | None = None  # seconds from the start; None = not on the timetable
    on_follow: str | None = None  # a city/topic command name that triggers it
    after: str | None = None  # another item id that triggers it
    delay: float = 3.0

    def link(self, site: str) -> str:
        return f"{site}/news/{self.id}"


@dataclass
class DemoNews:
    sources: list[DemoSource]
    items: list[DemoItem]

    def source(self, slug: str) -> DemoSource:
        return next(s for s in self.sources if s.slug == slug)

    def _posts_of(self, slug: str) -> list[str]:
        # Post numbers grow with time, as a channel's do: timetable items by their time,
        # then the ones published on a follow, in file order (stable from run to run).
        mine = [(i.at if i.at is not None else float("inf"), n, i.id)
                for n, i in enumerate(self.items) if i.source == slug]
        return [item_id for _at, _n, item_id in sorted(mine)]

    def post_id(self, item: DemoItem) -> int:
        """A channel item's post number (1001 and up)."""
        return 1001 + self._posts_of(item.source).index(item.id)

    def item_of_post(self, url: str) -> str | None:
        """The demo item a stored channel post link (https://t.me/<slug>/<n>) came from."""
        slug, _, number = url.removeprefix("https://t.me/").partition("/")
        if not number.isdigit():
            return None
        mine = self._posts_of(slug)
        n = int(number) - 1001
        return mine[n] if 0 <= n < len(mine) else None


def load_demo_news(text: str | None = None) -> DemoNews:
    """The bundled sample sources and items (or those of `text`, a JSON document)."""
    if text is None:
        text = resources.files("bot.testing").joinpath("data/demo_news.json").read_text("utf-8")
    data = json.loads(text)
    sources = [DemoSource(**s) for s in data["sources"]]
    slugs = {s.slug for s in sources}
    items = []
    for raw in data["items"]:
        item = DemoItem(**raw)
        if item.source not in slugs:
            raise ValueError(f"demo item {item.id}: unknown source {item.source!r}")
        items.append(item)
    return DemoNews(sources, items)


def _rss(source: DemoSource, entries: list[tuple[DemoItem, datetime]]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?>',
             '<rss version="2.0"><channel>',
             f"<title>{xml_escape(source.name)}</title><link>{source.site}/</link>",
             f"<description>{xml_escape(source.name)}</description>",
             f"<language>{source.language}</language>"]
    for item, when in entries:
        text = "".join(f"<p>{xml_escape(p)}</p>" for p in item.text.split("\n") if p)
        parts.append(
            f"<item><title>{xml_escape(item.title)}</title><link>{item.link(source.site)}</link>"
            f'<guid isPermaLink="false">demo:{item.id}</guid>'
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{xml_escape(text)}</description></item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def _atom(source: DemoSource, entries: list[tuple[DemoItem, datetime]]) -> bytes:
    updated = max((w for _i, w in entries), default=datetime(2026, 1, 1)).isoformat()
    parts = ['<?xml version="1.0" encoding="utf-8"?>',
             f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{source.language}">',
             f"<title>{xml_escape(source.name)}</title>",
             f'<link href="{source.site}/"/><id>{source.site}/</id><updated>{updated}</updated>']
    for item, when in entries:
        text = "".join(f"<p>{xml_escape(p)}</p>" for p in item.text.split("\n") if p)
        parts.append(
            f"<entry><title>{xml_escape(item.title)}</title>"
            f'<link href="{item.link(source.site)}"/><id>demo:{item.id}</id>'
            f"<updated>{when.isoformat()}</updated><published>{when.isoformat()}</published>"
            f'<content type="html">{xml_escape(text)}</content></entry>')
    parts.append("</feed>")
    return "\n".join(parts).encode("utf-8")


def render_feed(source: DemoSource, entries: list[tuple[DemoItem, datetime]]) -> bytes:
    """The feed body of a source with these (item, published at) entries, newest first."""
    ordered = sorted(entries, key=lambda e: e[1], reverse=True)
    return _atom(source, ordered) if source.format == "atom" else _rss(source, ordered)


@dataclass
class NewsDesk:
    """Publishes demo items into the FeedServer's feeds on a timetable and on follows."""

    news: DemoNews
    server: FeedServer
    now: Callable[[], datetime]
    started: datetime = field(init=False)
    published: dict[str, datetime] = field(default_factory=dict)
    scheduled: dict[str, datetime] = field(default_factory=dict)  # item id -> publish at
    triggered: set[tuple[str, str]] = field(default_factory=set)  # follows seen this run
    exhausted: list[str] = field(default_factory=list)  # follows with no story left to show
    on_publish: Callable[[DemoItem], Any] | None = None

    def __post_init__(self) -> None:
        self.started = self.now()

    def source_configs(self) -> list[SourceConfig]:
        """The [[sources]] of the demo: every demo feed and channel on the local server."""
        return [SourceConfig(name=s.name, url=channel_source_url(s.slug)
                             if s.format == "telegram" else self.server.url(s.path),
                             language=s.language, poll_interval=DEMO_POLL_INTERVAL)
                for s in self.news.sources]

    def start(self, already_stored: Iterable[str] = ()) -> None:
        """Publish the backlog (items 'at' <= 0) and serve every feed."""
        stored = set(already_stored)
        for item in self.news.items:
            if item.at is not None and item.at <= 0:
                self.published[item.id] = self.started + timedelta(seconds=item.at)
            elif item.at is not None:
                self.scheduled[item.id] = self.started + timedelta(seconds=item.at)
            elif item.id in stored:
                # Shown in an earlier demo run: published again with its old place.
                self.published[item.id] = self.started - timedelta(hours=1)
        for source in self.news.sources:
            self._render(source.slug)

    def _render(self, slug: str) -> None:
        source = self.news.source(slug)
        entries = [(i, self.published[i.id]) for i in self.news.items
                   if i.source == slug and i.id in self.published]
        if source.format == "telegram":
            posts = [PagePost(self.news.post_id(i), f"{i.title}\n{i.text}", when)
                     for i, when in entries]
            self.server.set_channel(slug, render_preview(slug, source.name, posts))
            return
        self.server.set_feed(source.path, render_feed(source, entries),
                             content_type="application/atom+xml" if source.format == "atom"
                             else "application/rss+xml")

    def follow(self, command: str) -> DemoItem | None:
        """Someone follows `command` (a city/topic command name): schedule its next story."""
        if ("cmd", command) in self.triggered:
            return None
        self.triggered.add(("cmd", command))
        planned = [i for i in self.news.items if i.on_follow == command]
        for item in planned:
            if item.id not in self.published and item.id not in self.scheduled:
                self.scheduled[item.id] = self.now() + timedelta(seconds=item.delay)
                return item
        if planned:  # every sample story about it was shown in earlier runs
            self.exhausted.append(command)
        return None

    def pending(self, within: float = 15.0) -> int:
        """Items scheduled to publish within the next `within` seconds."""
        horizon = self.now() + timedelta(seconds=within)
        return sum(1 for when in self.scheduled.values() if when <= horizon)

    def tick(self) -> list[DemoItem]:
        """Publish everything due now (and what follows it); the items published."""
        now = self.now()
        due = [i for i in self.news.items if i.id in self.scheduled and self.scheduled[i.id] <= now]
        for item in due:
            del self.scheduled[item.id]
            self.published[item.id] = now
            self._render(item.source)
            for other in self.news.items:  # the same story from a second outlet, later
                if other.after == item.id and other.id not in self.published:
                    self.scheduled[other.id] = now + timedelta(seconds=other.delay)
            if self.on_publish is not None:
                self.on_publish(item)
        return due


async def stored_demo_ids(store: Store, news: DemoNews | None = None) -> set[str]:
    """Ids of demo items an earlier run stored (their links end in /news/<id>, or are a
    demo channel's post links)."""
    async with store.session.begin() as s:
        rows = (await s.execute(select(items_table.c.url).where(
            items_table.c.url.like("%.example/news/%")
            | items_table.c.url.like("https://t.me/%")))).all()
    out = set()
    for (url,) in rows:
        if not url:
            continue
        if url.startswith("https://t.me/"):
            found = news.item_of_post(url) if news is not None else None
            if found:
                out.add(found)
        else:
            out.add(str(url).rsplit("/", 1)[-1])
    return out


async def run_desk(desk: NewsDesk, store: Store, classifier: Any, stop: asyncio.Event,
                   tick: float = 0.5) -> None:
    """Publish on time, and a story soon after each new follow, until `stop`."""
    commands = {(res.kind, res.key): name for name, res in classifier.commands().items()}
    while not stop.is_set():
        try:
            async for batch in store.chats.iter_all_subscriptions():
                for sub in batch:
                    if sub.kind != TagKind.PHRASE and (sub.kind, sub.key) in commands:
                        desk.follow(commands[(sub.kind, sub.key)])
            desk.tick()
        except Exception:  # the demo goes on; the log says why
            log.exception("demo news desk failed")
        await wait_any(stop, timeout=tick)
