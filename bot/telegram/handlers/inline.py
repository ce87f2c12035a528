"""Inline mode: "@HeraldBot kherson" typed in any chat offers the latest Kherson stories to
share (answerInlineQuery). A city, topic or place by any of its names gets its latest
stories; other words are searched. Answers are cached here for CACHE_SECONDS per (language,
query) and by Telegram (cache_time); each user gets limits.inline_per_minute queries (inline
queries arrive as people type), the rest are not answered. Operators switch inline mode on
with @BotFather (/setinline)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import InlineQueryResultArticle, InputTextMessageContent, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, InlineQueryHandler

from bot.alerts.html import MAX_MESSAGE, bold, escape, link, truncate_html, truncate_text
from bot.alerts.render import clean_line, source_host
from bot.domain import Story
from bot.i18n import ngettext_for, pick_language, translator
from bot.telegram.context import Context, services_of
from bot.telegram.stories import age, focused_summary
from bot.telegram.throttle import FloodLimiter

log = logging.getLogger(__name__)
RESULTS = 10  # stories offered per query
CACHE_SECONDS = 60  # ours and Telegram's (cache_time)
CACHE_SIZE = 1000  # distinct (language, query) answers kept
QUERY_MAX = 64  # characters of a query that are looked at
SEARCH_DAYS = 7


class AnswerCache:
    """Answers by key for `ttl` seconds, at most `size` of them (the oldest go first)."""

    def __init__(self, ttl: float = CACHE_SECONDS, size: int = CACHE_SIZE,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.size, self.now = ttl, size, now
        self._items: OrderedDict[tuple[str, str], tuple[float, list[Any]]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> list[Any] | None:
        hit = self._items.get(key)
        if hit is None or self.now() - hit[0] > self.ttl:
            return None
        return hit[1]

    def put(self, key: tuple[str, str], value: list[Any]) -> None:
        self._items[key] = (self.now(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def share_text(story: Story, summary: str, lang: str) -> str:
    """The message a user shares: linked headline, summary, source and how many carry it."""
    _ = translator(lang)
    ngettext = ngettext_for(lang)
    lines = [bold(link(story.url, truncate_text(clean_line(story.title) or "…", 300)))]
    if summary:
        lines.append(escape(truncate_text(summary, 600)))
    meta = []
    if host := source_host(story.url):
        meta.append(escape(_("Source: {link}")).format(link=link(story.url, host)))
    if story.source_count > 1:
        more = story.source_count - 1
        meta.append(escape(ngettext("+{n} source", "+{n} sources", more).format(n=more)))
    meta.append(escape(_("via Herald")))
    lines.append(" · ".join(meta))
    return truncate_html("\n".join(lines), MAX_MESSAGE)


def articles(stories: Sequence[Story], summaries: dict[int, str], *, now: Any,
             lang: str) -> list[InlineQueryResultArticle]:
    """One shareable article per story (id: the story id)."""
    out = []
    for story in stories:
        summary = summaries.get(story.id, "")
        description = " · ".join(x for x in (source_host(story.url),
                                              age(story.published_at, now, lang)) if x)
        out.append(InlineQueryResultArticle(
            id=str(story.id), title=truncate_text(clean_line(story.title) or "…", 200),
            description=truncate_text(description + ("\n" + summary if summary else ""), 200),
            input_message_content=InputTextMessageContent(
                share_text(story, summary, lang), parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True)),
            url=story.url if story.url and story.url.startswith(("http://", "https://"))
            else None))
    return out


async def find_stories(services: Any, text: str) -> tuple[list[Story], dict[int, str]]:
    """The latest stories for a name Herald knows (city, topic, place), else a search."""
    classifier = services.need_classifier()
    found = classifier.resolve(text, limit=1)
    if found and found[0].score >= 0.99:
        kind, key = found[0].kind, found[0].key
        stories = await services.store.news.latest_by_tag(kind, key, limit=RESULTS)
        return stories, {s.id: focused_summary(s, classifier, kind, key) for s in stories}
    words = " ".join(w for w in text.split() if len(w) > 1)[:QUERY_MAX]
    if not words:
        return [], {}
    since = services.clock.now() - timedelta(days=SEARCH_DAYS)
    stories = await services.store.news.search(words, limit=RESULTS, since=since)
    return stories, {s.id: clean_line(s.summary) for s in stories}


async def on_inline_query(update: Update, context: Context) -> None:
    """Answer "@HeraldBot <words>" with the matching latest stories to share."""
    query = update.inline_query
    if query is None:
        return
    services = services_of(context)
    data = context.application.bot_data
    limiter = data.get("inline_limiter")
    if limiter is None:
        limiter = data["inline_limiter"] = FloodLimiter(
            services.config.limits.inline_per_minute)
    if limiter.hit(query.from_user.id) > 0:
        log.info("inline query throttled", extra={"user": query.from_user.id})
        return  # typing faster than the limit: the later queries are answered
    lang = pick_language(query.from_user.language_code,
                         services.config.briefings.default_language)
    text = " ".join(query.query.split())[:QUERY_MAX]
    if not text:
        await query.answer([], cache_time=CACHE_SECONDS)
        return
    cache: AnswerCache = data.setdefault("inline_cache", AnswerCache())
    key = (lang, text.casefold())
    results = cache.get(key)
    if results is None:
        stories, summaries = await find_stories(services, text)
        results = articles(stories, summaries, now=services.clock.now(), lang=lang)
        cache.put(key, results)
    await query.answer(results, cache_time=CACHE_SECONDS)


def register(application: Application) -> None:
    """Add the inline query handler."""
    application.add_handler(InlineQueryHandler(on_inline_query))
