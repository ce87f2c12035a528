"""Render one alert: headline, focused summary, source, tags, what matched, and its buttons.

Every feed and user string is escaped; the message never exceeds Telegram's 4096
characters (counted as Telegram does): the summary gives way first, the other parts
have fixed display caps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.alerts.html import (
    MAX_MESSAGE,
    bold,
    escape,
    is_http_url,
    link,
    truncate_html,
    truncate_text,
    visible_length,
)
from bot.domain import Story, Subscription, TagKind
from bot.i18n import ngettext_for, translator
from bot.news.places import shown_places
from bot.news.text import strip_invisible

TITLE_MAX = 400
TAGS_MAX = 300
FOLLOW_MAX = 300
BUTTON_LABEL_MAX = 28
MAX_UNFOLLOW_BUTTONS = 4
CALLBACK_MAX_BYTES = 64
MIN_SUMMARY = 20  # below this, a summary cut to fit is dropped rather than shown as a stub

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NON_WORD = re.compile(r"[^\w]+")

Labeller = Callable[[TagKind, str], str]


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """HTML text plus an InlineKeyboardMarkup as a plain dict (or None)."""

    text: str
    reply_markup: dict[str, Any] | None = None


def clean_line(text: str | None) -> str:
    """One line of display text: control characters removed, whitespace collapsed, and no
    bidi control or other invisible character (stories and labels stored before they were
    stripped where text enters must not reorder an alert either)."""
    return " ".join(_CONTROL.sub(" ", strip_invisible(text or "")).split())


def hashtag(text: str) -> str:
    """A Telegram hashtag for a topic ('war crimes' -> '#war_crimes'); '' when nothing is left."""
    body = _NON_WORD.sub("_", clean_line(text).lower()).strip("_")
    return f"#{body}" if body else ""


def source_host(url: str | None) -> str:
    """The host to show for a source link ('www.bbc.co.uk' -> 'bbc.co.uk'); a Telegram
    post's channel ('https://t.me/kharkivoda/123' -> 't.me/kharkivoda')."""
    if not is_http_url(url):
        return ""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if host == "t.me":
        channel = parts.path.strip("/").split("/", 1)[0]
        return f"t.me/{channel}" if channel else host
    return host[4:] if host.startswith("www.") else host


def _label(labels: Labeller, kind: TagKind, key: str) -> str:
    """The display name of a tag; an unknown key shows as itself rather than failing."""
    try:
        return clean_line(labels(kind, key)) or key
    except (KeyError, LookupError, ValueError):
        return clean_line(key)


def _unique(values: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for v in values:
        if v and v.casefold() not in seen:
            seen.add(v.casefold())
            out.append(v)
    return out


def _compose(title_html: str, summary: str, source_html: str, tags: str, follow: str) -> str:
    lines = [bold(title_html)]
    if summary:
        lines.append(escape(summary))
    lines.extend(line for line in (source_html, escape(tags), escape(follow)) if line)
    return "\n".join(lines)


def render_alert(story: Story, matched: Sequence[Subscription], *, focused_summary: str,
                 lang: str, labels: Labeller, limit: int = MAX_MESSAGE,
                 channel: bool = False) -> RenderedMessage:
    """The alert for one chat about one story, saying which of its subscriptions matched
    (a channel's post does not: its readers follow the channel, not the places)."""
    _ = translator(lang)
    ngettext = ngettext_for(lang)
    url = story.url if is_http_url(story.url) else None

    title = truncate_text(clean_line(story.title) or _("(untitled story)"), TITLE_MAX)
    title_html = link(url, title)

    source_parts = []
    if url:
        # The template is ours but still escaped: a translation must not break the HTML.
        source_parts.append(escape(_("Source: {link}")).format(link=link(url, source_host(url))))
    if story.source_count > 1:
        more = story.source_count - 1
        source_parts.append(escape(
            ngettext("+{n} source", "+{n} sources", more).format(n=more)))
    source_html = " · ".join(source_parts)

    cities = _unique([_label(labels, TagKind.CITY, c) for c in story.cities]
                     + [_label(labels, TagKind.PLACE, p)
                        for p in shown_places(story.places, story.cities)])
    topics = _unique([hashtag(_label(labels, TagKind.TOPIC, t)) for t in story.topics])
    tag_parts = [", ".join(cities)] if cities else []
    tag_parts += [" ".join(topics)] if topics else []
    tags = truncate_text(("📍 " if cities else "") + " · ".join(tag_parts), TAGS_MAX)

    names = _unique([clean_line(s.label) or s.key for s in matched])
    follow = truncate_text(_("You follow: {names}").format(names=", ".join(names)),
                           FOLLOW_MAX) if names and not channel else ""

    summary = clean_line(focused_summary)
    text = _compose(title_html, summary, source_html, tags, follow)
    if visible_length(text) > limit and summary:
        base = visible_length(_compose(title_html, "", source_html, tags, follow))
        room = limit - base - 1  # the summary's own line break
        summary = truncate_text(summary, room) if room >= MIN_SUMMARY else ""
        text = _compose(title_html, summary, source_html, tags, follow)
    if visible_length(text) > limit:  # only with a tiny custom limit: cut the whole message
        text = truncate_html(text, limit)
    return RenderedMessage(text=text, reply_markup=alert_keyboard(matched, lang, story=story))


def callback(action: str, arg: str) -> str:
    """callback_data 'action:arg', checked against Telegram's 64-byte limit."""
    data = f"{action}:{arg}"
    if len(data.encode("utf-8")) > CALLBACK_MAX_BYTES:
        raise ValueError(f"callback_data over {CALLBACK_MAX_BYTES} bytes: {data[:80]!r}")
    return data


def alert_keyboard(matched: Sequence[Subscription], lang: str, *,
                   story: Story | None = None) -> dict[str, Any]:
    """'Unfollow <name>' per matched subscription (a few at most) and 'Mute 1 h'; with
    "All N sources" (callback 'srcs:<story id>') when more than one outlet carries the story."""
    _ = translator(lang)
    ngettext = ngettext_for(lang)
    buttons: list[dict[str, str]] = []
    seen: set[int] = set()
    for sub in matched:
        if sub.id in seen or len(buttons) >= MAX_UNFOLLOW_BUTTONS:
            continue
        seen.add(sub.id)
        name = truncate_text(clean_line(sub.label) or sub.key, BUTTON_LABEL_MAX)
        buttons.append({"text": _("Unfollow {name}").format(name=name),
                        "callback_data": callback("unf", str(sub.id))})
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    last = [{"text": _("Mute 1 h"), "callback_data": callback("mute", "1h")}]
    if story is not None and story.source_count > 1:
        last.insert(0, {"text": ngettext("All {n} source", "All {n} sources",
                                         story.source_count).format(n=story.source_count),
                        "callback_data": callback("srcs", str(story.id))})
    rows.append(last)
    return {"inline_keyboard": rows}

