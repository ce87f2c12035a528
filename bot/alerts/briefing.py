"""Compose a briefing: stories since the last one, grouped by what the chat follows (pure).

Stories are ranked by how many sources carried them, then by publication time; the top
ones get a focused summary; the rest beyond `max_stories` become "N more stories". The
result is a list of Telegram HTML messages, each within 4096 UTF-16 units, split between
lines (never inside a tag or a word).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.alerts.html import MAX_MESSAGE, bold, escape, link, truncate_text, utf16_len
from bot.domain import Story, Subscription, TagKind
from bot.i18n import format_day, ngettext_for, translator

TITLE_MAX = 250
SUMMARY_MAX = 400
GROUP_ICONS = {TagKind.CITY: "📍", TagKind.PLACE: "📍", TagKind.TOPIC: "🏷",
               TagKind.PHRASE: "🔎"}

Match = tuple[TagKind, str]
Summarizer = Callable[[Story, Subscription], str]


@dataclass(frozen=True, slots=True)
class BriefingInput:
    """Everything one briefing is made of."""

    lang: str
    follows: Sequence[Subscription]  # in the order groups are shown
    stories: Sequence[tuple[Story, tuple[Match, ...]]]  # each with the follows it matched
    when: datetime  # the slot (or now for /briefing), in the chat's local time
    since: datetime | None  # start of the period, local time; None = first briefing
    max_stories: int = 30
    with_summary: int = 3
    skip_empty: bool = False


def rank(stories: Sequence[tuple[Story, tuple[Match, ...]]]
         ) -> list[tuple[Story, tuple[Match, ...]]]:
    """Most sources first, then the most recently published, then the newest id."""
    return sorted(stories, key=lambda sm: (-sm[0].source_count,
                                           -sm[0].published_at.timestamp(), -sm[0].id))


def _fmt(when: datetime, lang: str) -> str:
    return format_day(when, lang, time=True)


def _story_lines(story: Story, summary: str | None, lang: str) -> str:
    ngettext = ngettext_for(lang)
    title = truncate_text(" ".join(story.title.split()) or "…", TITLE_MAX)
    line = "• " + link(story.url, title)
    others = story.source_count - 1
    if others > 0:
        line += " · " + escape(ngettext("+{n} source", "+{n} sources", others).format(n=others))
    if summary:
        text = truncate_text(" ".join(summary.split()), SUMMARY_MAX)
        line += "\n   <i>" + escape(text) + "</i>"
    return line


def _group_header(follow: Subscription, continued: bool, lang: str) -> str:
    _ = translator(lang)
    label = follow.label if follow.kind != TagKind.PHRASE else f"“{follow.label}”"
    text = bold(GROUP_ICONS.get(follow.kind, "•") + " " + escape(label))
    return text + (" " + escape(_("(continued)")) if continued else "")


def _header(inp: BriefingInput, shown: int, total: int) -> str:
    _ = translator(inp.lang)
    ngettext = ngettext_for(inp.lang)
    head = bold(escape(_("Herald briefing · {when}").format(when=_fmt(inp.when, inp.lang))))
    if total == 0:
        return head
    count = ngettext("{n} story", "{n} stories", total).format(n=total)
    if inp.since is not None:
        count = _("{count} since {since}").format(count=count, since=_fmt(inp.since, inp.lang))
    return head + "\n" + escape(count)


@dataclass(frozen=True, slots=True)
class _Block:
    text: str
    group: int | None  # index of the follow this line belongs to
    opens_group: bool = False  # carries the group header


def _pack(blocks: Sequence[_Block], headers: dict[int, Subscription], lang: str) -> list[str]:
    """Pack blocks greedily into messages of at most MAX_MESSAGE UTF-16 units.

    Lines of one group are joined by a newline, groups by a blank line; a group that
    continues on the next message repeats its header. No block is near the limit alone.
    """
    messages: list[str] = []
    parts: list[str] = []
    size = 0
    prev_group: int | None = None
    for block in blocks:
        sep = "\n" if block.group is not None and block.group == prev_group else "\n\n"
        n = utf16_len(block.text)
        if parts and size + len(sep) + n > MAX_MESSAGE:
            messages.append("".join(parts))
            parts, size = [], 0
            if block.group is not None and not block.opens_group:
                head = _group_header(headers[block.group], True, lang)
                parts, size = [head], utf16_len(head)
                sep = "\n"
        if parts:
            parts.append(sep)
            size += len(sep)
        parts.append(block.text)
        size += n
        prev_group = block.group
    if parts:
        messages.append("".join(parts))
    return messages


def compose_briefing(inp: BriefingInput, summarize: Summarizer | None = None,
                     lines: dict[tuple[int, str, str | None], str] | None = None) -> list[str]:
    """The briefing as HTML messages; [] when it is empty and the chat skips empty ones.

    `lines` may be shared across the briefings of one pass: a story's line is the same
    for every chat with the same language and summary (a memo, not an input).
    """
    _ = translator(inp.lang)
    ngettext = ngettext_for(inp.lang)
    ranked = rank(inp.stories)
    total = len(ranked)
    if total == 0:
        if inp.skip_empty:
            return []
        empty = (_("Nothing new since the last briefing.") if inp.follows
                 else _("You follow nothing yet: try /subscribe Kherson."))
        return [_header(inp, 0, 0) + "\n" + escape(empty)]
    shown = ranked[: max(inp.max_stories, 0)]
    summarized = {story.id for story, _m in shown[: max(inp.with_summary, 0)]}
    order = {(f.kind, f.key): i for i, f in enumerate(inp.follows)}
    # Each story goes to the first group (in the chat's order) it matched, once.
    groups: dict[int, list[tuple[Story, Subscription]]] = {}
    for story, matches in shown:
        idx = min((order[m] for m in matches if m in order), default=None)
        if idx is None:
            continue
        groups.setdefault(idx, []).append((story, inp.follows[idx]))
    blocks: list[_Block] = [_Block(_header(inp, len(shown), total), None)]
    headers: dict[int, Subscription] = {}
    for idx in sorted(groups):
        follow = inp.follows[idx]
        headers[idx] = follow
        group_lines: list[str] = []
        for story, sub in groups[idx]:
            summary = None
            if story.id in summarized:
                summary = summarize(story, sub) if summarize else story.summary
            key = (story.id, inp.lang, summary)
            line = lines.get(key) if lines is not None else None
            if line is None:
                line = _story_lines(story, summary, inp.lang)
                if lines is not None:
                    lines[key] = line
            group_lines.append(line)
        # The header travels with its first story so a group never starts at a page end.
        blocks.append(_Block(_group_header(follow, False, inp.lang) + "\n" + group_lines[0],
                             idx, opens_group=True))
        blocks.extend(_Block(line, idx) for line in group_lines[1:])
    rest = total - len(shown)
    if rest > 0:
        more = ngettext("…and {n} more story", "…and {n} more stories", rest).format(n=rest)
        blocks.append(_Block(escape(more), None))
    return _pack(blocks, headers, inp.lang)
