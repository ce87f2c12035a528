"""Replies that list stories (/kherson, /latest, /search): pure rendering, one screen at most."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.alerts.html import (
    MAX_MESSAGE,
    bold,
    escape,
    link,
    truncate_html,
    truncate_text,
    visible_length,
)
from bot.alerts.render import clean_line, source_host
from bot.domain import Story, TagKind
from bot.i18n import format_day, ngettext_for, translator
from bot.news.summarize import summarize_focused

TITLE_MAX = 300
SUMMARY_MAX = 300
LATEST_LIMIT = 5
DATE_AFTER_DAYS = 30  # older stories show their date rather than "N days ago"


def focused_summary(story: Story, classifier: Any, kind: TagKind | None, key: str | None) -> str:
    """The sentences of the story about (kind, key); its plain summary otherwise."""
    if not story.text or kind is None or key is None:
        return clean_line(story.summary)

    def about(sentence: str) -> bool:
        return bool(classifier.mentions(sentence, kind, key))

    try:
        return clean_line(summarize_focused(story.title, story.text, about,
                                            max_sentences=2, max_chars=SUMMARY_MAX))
    except (KeyError, ValueError):  # a key the classifier no longer knows
        return clean_line(story.summary)


def age(when: datetime, now: datetime, lang: str) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago' in the chat's language; from 30 days
    on the date itself ('2025-10-26'), which reads better than '400 days ago'."""
    _ = translator(lang)
    ngettext = ngettext_for(lang)
    minutes = max(0, int((now - when).total_seconds() // 60))
    if minutes < 1:
        return _("just now")
    if minutes < 60:
        return _("{n} min ago").format(n=minutes)
    hours = minutes // 60
    if hours < 48:
        return _("{n} h ago").format(n=hours)
    days = hours // 24
    if days >= DATE_AFTER_DAYS:
        return format_day(when, lang, year=True)
    return ngettext("{n} day ago", "{n} days ago", days).format(n=days)


def render_entry(n: int, story: Story, summary: str, *, now: datetime, lang: str) -> str:
    """One numbered story: linked headline, summary, then source, '+N sources' and age."""
    ngettext = ngettext_for(lang)
    title = truncate_text(clean_line(story.title) or "…", TITLE_MAX)
    lines = [f"{n}. " + bold(link(story.url, title))]
    if summary:
        lines.append(escape(truncate_text(summary, SUMMARY_MAX)))
    meta = [source_host(story.url)]
    if story.source_count > 1:
        more = story.source_count - 1
        meta.append(ngettext("+{n} source", "+{n} sources", more).format(n=more))
    meta.append(age(story.published_at, now, lang))  # when it happened, not when we saw it
    lines.append("<i>" + escape(" · ".join(m for m in meta if m)) + "</i>")
    return "\n".join(lines)


def render_story_list(heading: str, stories: Sequence[Story], summaries: Mapping[int, str], *,
                      now: datetime, lang: str, empty: str, footer: str = "",
                      limit: int = MAX_MESSAGE, first: int = 1) -> str:
    """Heading plus numbered stories (from `first`: a later page goes on counting), within
    `limit` visible characters (one screen)."""
    head = bold(escape(clean_line(heading)))
    if not stories:
        return head + "\n" + escape(empty)
    tail = ("\n\n" + escape(footer)) if footer else ""
    parts = [head]
    for i, story in enumerate(stories, first):
        entry = render_entry(i, story, summaries.get(story.id, ""), now=now, lang=lang)
        candidate = "\n\n".join([*parts, entry]) + tail
        if visible_length(candidate) > limit:
            # Try the entry without its summary before giving up on it and the rest.
            entry = render_entry(i, story, "", now=now, lang=lang)
            candidate = "\n\n".join([*parts, entry]) + tail
            if visible_length(candidate) > limit:
                break
        parts.append(entry)
    text = "\n\n".join(parts) + tail
    return text if visible_length(text) <= limit else truncate_html(text, limit)


def summaries_for(stories: Sequence[Story], classifier: Any,
                  focus: Callable[[Story], tuple[TagKind | None, str | None]]
                  ) -> dict[int, str]:
    """Focused summaries for each story; `focus` says which tag each is shown for."""
    out: dict[int, str] = {}
    for story in stories:
        kind, key = focus(story)
        out[story.id] = focused_summary(story, classifier, kind, key)
    return out
