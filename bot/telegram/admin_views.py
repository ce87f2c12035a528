"""What the admin commands show and do, apart from Telegram: /stats, /sources, /addsource,
source lookup, /why. Each returns HTML (every stored or user string escaped) or raises
UserInputError with a message fit to show."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.alerts.html import escape, link, truncate_text
from bot.domain import Source, SourceConfig, TagKind
from bot.errors import FeedParseError, FetchError, UnsafeURLError, UserInputError
from bot.i18n import ngettext_for
from bot.news.channels import channel_of, channel_source_url, parse_channel_ref
from bot.news.clean import canonical_url
from bot.news.text import strip_invisible
from bot.news.urls import validate_source_url
from bot.services import Services

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 3900  # room under Telegram's 4096 for a split message
STATS_SOURCES = 30  # /stats lists every source up to this many


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML made of whole lines into messages under `limit` characters."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        if current and size + len(line) + 1 > limit:
            parts.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        parts.append("\n".join(current))
    return parts


def ago(when: datetime | None, now: datetime) -> str:
    """'never', '45 s ago', '12 min ago', '3 h ago', '2 d ago'."""
    if when is None:
        return "never"
    s = max(0, int((now - when).total_seconds()))
    if s < 60:
        return f"{s} s ago"
    if s < 3600:
        return f"{s // 60} min ago"
    if s < 86400:
        return f"{s // 3600} h ago"
    return f"{s // 86400} d ago"


def source_health(src: Source) -> str:
    """An icon for a source: paused, healthy, failing, dead or not checked yet."""
    if src.paused:
        return "⏸"
    if src.failure_count >= 5:
        return "❌"
    if src.failure_count > 0:
        return "⚠️"
    return "✅" if src.last_success_at else "🕓"


def sources_text(sources: list[Source], now: datetime) -> str:
    """/sources: one block per source with its health."""
    if not sources:
        return "No sources yet. Add one with /addsource URL [name]."
    lines = [f"<b>Sources</b> ({len(sources)})"]
    for src in sources:
        lines.append(f"{source_health(src)} #{src.id} <b>{escape(src.name)}</b> "
                     f"({escape(src.language)}) · every {src.poll_interval // 60} min")
        channel = channel_of(src.url)
        lines.append(f"   Telegram channel @{escape(channel)} · {escape(src.url)}" if channel
                     else f"   {escape(src.url)}")
        state = f"   last success {ago(src.last_success_at, now)}"
        if src.failure_count:
            state += f" · {count(src.failure_count, 'failure', 'failures')} in a row"
        lines.append(state)
        if src.last_error:
            lines.append(f"   last error: <i>{escape(truncate_text(src.last_error, 200))}</i>")
    return "\n".join(lines)


async def stats_text(services: Services) -> str:
    """/stats: chats, subscriptions, news of the last 24 h, deliveries, queue, sources."""
    store, now = services.store, services.clock.now()
    since = now - timedelta(hours=24)
    chats = await store.chats.counts(top=10)
    n_items, n_stories = await store.news.counts_since(since)
    out = await store.broadcasts.delivery_stats(since)
    channels = await store.channels.stats(since)
    sources = await store.sources.list_all()
    c = chats["chats"]
    subs = chats["subscriptions"]
    lines = [
        "<b>Herald statistics</b>",
        f"Chats: {c.get('active', 0):,} active · {c.get('paused', 0):,} paused · "
        f"{c.get('blocked', 0):,} blocked",
        f"Channels: {channels['active']:,} posting · {channels['paused']:,} paused · "
        f"{count(channels['posts'], 'post', 'posts')} in 24 h "
        f"({count(channels['alerts'], 'story', 'stories')}, "
        f"{count(channels['briefings'], 'briefing', 'briefings')}) · "
        f"{count(channels['edits'], 'edit', 'edits')}",
        "Subscriptions: " + " · ".join(
            count(subs.get(k.value, 0), *KIND_NAMES[k]) for k in TagKind),
    ]
    for kind in (TagKind.CITY, TagKind.PLACE, TagKind.TOPIC):
        top = [t for t in chats["top"] if t["kind"] == kind.value]
        if top:
            lines.append(f"  top {KIND_NAMES[kind][1]}: " + ", ".join(
                f"{escape(t['label'])} {t['followers']:,}" for t in top[:5]))
    lines.append(f"Last 24 h: {count(n_items, 'item', 'items')}, "
                 f"{count(n_stories, 'story', 'stories')}")
    lines.append(_deliveries_line(out, channels))
    lines.append(f"Queue: {out.get('pending', 0):,} waiting · "
                 f"{out.get('sending', 0):,} in flight")
    failing = [s for s in sources if s.failure_count and not s.paused]
    paused = sum(1 for s in sources if s.paused)
    lines.append(f"Sources: {len(sources)} · {len(sources) - len(failing) - paused} healthy · "
                 f"{len(failing)} failing · {paused} paused")
    # Every source when there are few; otherwise the failing ones (/sources has them all).
    shown = sources if len(sources) <= STATS_SOURCES else failing[:STATS_SOURCES]
    for src in shown:
        state = f"last success {ago(src.last_success_at, now)}"
        if src.failure_count:
            state = f"{count(src.failure_count, 'failure', 'failures')}, {state}"
        lines.append(f"  {source_health(src)} #{src.id} {escape(src.name)}: {state}")
    return "\n".join(lines)


def _deliveries_line(out: dict[str, Any], channels: dict[str, int] | None = None) -> str:
    sent = out.get("sent_by_kind", {})
    posts = channels or {}  # a channel's posts are on the Channels line, not here
    return (f"Sent in 24 h to chats: "
            f"{count(sent.get('alert', 0) - posts.get('alerts', 0), 'alert', 'alerts')} · "
            f"{count(sent.get('briefing', 0) - posts.get('briefings', 0), 'briefing', 'briefings')}"
            f" · {count(sent.get('broadcast', 0), 'broadcast message', 'broadcast messages')}"
            f" · failures {out.get('failed', 0):,} (blocked {out.get('blocked', 0):,})")


# The admin views speak English (admins share one working language); their counts agree
# with their nouns through gettext's plural rules all the same.
_plural = ngettext_for("en")
KIND_NAMES = {TagKind.CITY: ("city", "cities"), TagKind.PLACE: ("place", "places"),
              TagKind.TOPIC: ("topic", "topics"), TagKind.PHRASE: ("phrase", "phrases")}


def count(n: int, one: str, many: str) -> str:
    """"1 story", "2 stories", "1,024 stories"."""
    return f"{n:,} {_plural(one, many, n)}"


async def add_source(services: Services, args: str) -> tuple[Source, Any]:
    """/addsource URL [name]: the URL must be safe and a usable feed before it is added."""
    url, _, name = args.strip().partition(" ")
    if not url:
        raise UserInputError("Usage: /addsource URL|@channel [name]")
    channel = parse_channel_ref(url)
    if channel is not None:
        return await _add_channel(services, channel, name)
    allow_private = services.config.poller.allow_private_addresses
    try:
        url = validate_source_url(url, allow_private=allow_private)
    except UnsafeURLError as exc:
        raise UserInputError(f"This URL cannot be a source: {exc}.") from None
    existing = await services.store.sources.by_url(url)
    if existing is not None:
        raise UserInputError(f"This URL is already source #{existing.id} ({existing.name}).")
    if services.poller is None:
        raise UserInputError("The poller is not available in this process.")
    try:
        parsed = await services.poller.check_feed(url)
    except (UnsafeURLError, FetchError, FeedParseError) as exc:
        raise UserInputError(f"Could not use this feed: {exc}.") from None
    if not parsed.items:
        raise UserInputError("This feed has no items; nothing to follow there yet.")
    # The name is shown to admins and users: no bidi control may reorder what is around it.
    name = (strip_invisible(name).strip() or strip_invisible(parsed.title or "").strip()
            or urlsplit(url).hostname or url)
    source = await services.store.sources.add(SourceConfig(name=name[:200], url=url),
                                              now=services.clock.now())
    log.info("source added", extra={"source": source.id, "url": url})
    return source, parsed


async def _add_channel(services: Services, channel: str, name: str) -> tuple[Source, Any]:
    """/addsource @channel [name]: a public channel whose preview page shows posts."""
    url = channel_source_url(channel)
    existing = await services.store.sources.by_url(url)
    if existing is not None:
        raise UserInputError(f"@{channel} is already source #{existing.id} ({existing.name}).")
    if services.poller is None:
        raise UserInputError("The poller is not available in this process.")
    try:
        parsed = await services.poller.check_channel(channel)
    except (UnsafeURLError, FetchError, FeedParseError) as exc:
        raise UserInputError(f"Could not read this channel: {exc}.") from None
    name = (strip_invisible(name).strip() or strip_invisible(parsed.title or "").strip()
            or "@" + channel)
    language = guess_language(" ".join(i.title or "" for i in parsed.items))
    cfg = services.config.poller
    source = await services.store.sources.add(
        SourceConfig(name=name[:200], url=url, language=language,
                     poll_interval=cfg.telegram_interval), now=services.clock.now())
    log.info("source added", extra={"source": source.id, "channel": channel})
    return source, parsed


def guess_language(text: str) -> str:
    """uk, ru or en from the letters of a channel's posts (only what /addsource needs;
    the classifier reads all three languages either way)."""
    low = text.lower()
    uk = sum(low.count(ch) for ch in "іїєґ")
    ru = sum(low.count(ch) for ch in "ыэъё")
    cyrillic = sum(1 for ch in low if "а" <= ch <= "я")
    if cyrillic < 10:
        return "en"
    return "uk" if uk >= ru else "ru"


async def find_source(services: Services, arg: str, action: str) -> Source:
    """A source by id ('12' or '#12') or by URL; UserInputError when there is none."""
    arg = arg.strip()
    if not arg:
        raise UserInputError(f"Usage: /{action}source ID or URL (see /sources)")
    store = services.store.sources
    source = None
    if arg.lstrip("#").isdigit() and len(arg) < 12:
        source = await store.get(int(arg.lstrip("#")))
    else:
        try:
            channel = parse_channel_ref(arg)
        except UserInputError:
            channel = None
        source = await store.by_url(channel_source_url(channel) if channel else arg)
        if source is None:
            wanted = arg.rstrip("/")
            source = next((s for s in await store.list_all()
                           if s.url.rstrip("/") == wanted), None)
    if source is None:
        raise UserInputError(f"No source {arg!r}; /sources lists them.")
    return source


async def why_text(services: Services, args: str) -> str:
    """/why LINK: cities, topics and evidence of the stored item; deliveries as counts."""
    url = args.strip().strip("<>")
    if not url:
        raise UserInputError("Usage: /why LINK (a link to a news item Herald has seen)")
    store = services.store
    item = None
    for candidate in dict.fromkeys((canonical_url(url), url)):
        if candidate:
            item = await store.news.item_by_url(candidate)
            if item is not None:
                break
    if item is None:
        raise UserInputError("Herald has not seen an item with this link.")
    label = services.classifier.label if services.classifier is not None else (
        lambda _k, key: key)
    tags = item.tags
    source = await store.sources.get(item.source_id)
    lines = [f"<b>{link(item.url, item.title)}</b>",
             f"Source: {escape(source.name) if source else '?'} · story #{item.story_id}"]
    lines.append("Cities: " + (", ".join(escape(str(label(TagKind.CITY, c)))
                                         for c in tags.cities) or "none"))
    lines.append("Topics: " + (", ".join(escape(str(label(TagKind.TOPIC, t)))
                                         for t in tags.topics) or "none"))
    evidence: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ev in tags.evidence:
        where = "source" if ev.field == "source" else ev.field
        entry = f"“{ev.term}” ({where})"
        bucket = evidence[(ev.kind.value, ev.key)]
        if entry not in bucket:
            bucket.append(entry)
    if evidence:
        lines.append("<b>Evidence</b>")
        for (kind, key), terms in evidence.items():
            shown = ", ".join(terms[:5]) + (f" and {len(terms) - 5} more"
                                            if len(terms) > 5 else "")
            lines.append(f"  {escape(str(label(TagKind(kind), key)))}: "
                         f"{escape(truncate_text(shown, 300))}")
    counts = await store.broadcasts.story_deliveries(item.story_id)
    if counts:
        lines.append("<b>Deliveries</b> (chats): " + " · ".join(
            f"{kind} {status} {n:,}" for (kind, status), n in sorted(counts.items())))
    else:
        lines.append("Deliveries: not sent to any chat.")
    return "\n".join(lines)
