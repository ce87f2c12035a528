"""Safe Telegram HTML: escape, link, measure as Telegram does, truncate.

Telegram counts a message's length after entity parsing (tags and attributes do not
count, `&amp;` counts as one character) in UTF-16 code units; 4096 is the ceiling.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

MAX_MESSAGE = 4096
ELLIPSIS = "…"

# One token of our HTML: a tag, an entity, a run of text, or a stray < or &.
_TOKEN = re.compile(r"<[^<>]*>|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});|[^<&]+|[<&]")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)")
_SPACE = re.compile(r"\s")


def escape(text: str) -> str:
    """Escape a feed or user string for Telegram HTML (<, >, & and quotes)."""
    return html.escape(text, quote=True)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def is_http_url(url: str | None) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace or control characters."""
    if not url or len(url) > 2000 or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def link(url: str | None, text: str) -> str:
    """An <a> element when the URL is a valid http(s) URL, else just the escaped text."""
    if not is_http_url(url):
        return escape(text)
    return f'<a href="{escape(url or "")}">{escape(text)}</a>'


def bold(inner_html: str) -> str:
    """Wrap already-safe HTML in <b>."""
    return f"<b>{inner_html}</b>"


def _cut_prefix(text: str, budget: int) -> str:
    """The longest prefix of `text` within `budget` UTF-16 units (never half a surrogate)."""
    if budget <= 0:
        return ""
    return text.encode("utf-16-le")[: budget * 2].decode("utf-16-le", errors="ignore")


def _cut_at_word(text: str, budget: int) -> str:
    """The longest prefix within budget that ends between words (may be empty)."""
    prefix = _cut_prefix(text, budget)
    if len(prefix) == len(text):
        return prefix
    if not _SPACE.match(text[len(prefix)]):  # the cut falls inside a word: back off
        spaces = [m.start() for m in _SPACE.finditer(prefix)]
        prefix = prefix[: spaces[-1]] if spaces else ""
    return prefix.rstrip()


def truncate_text(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Plain text within `limit` UTF-16 units, cut between words and marked with an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    room = limit - utf16_len(ellipsis)
    if room < 0:
        return ""
    return _cut_at_word(text, room) + ellipsis


def visible_length(html_text: str) -> int:
    """Length of HTML as Telegram counts it: text after entity decoding, without tags."""
    n = 0
    for tok in _TOKEN.findall(html_text):
        if tok.startswith("<") and len(tok) > 1:
            continue
        n += utf16_len(html.unescape(tok) if tok.startswith("&") else tok)
    return n


def _tag_name(tok: str) -> tuple[bool, str] | None:
    m = _TAG.match(tok)
    return (m.group(1) == "/", m.group(2).lower()) if m else None


def truncate_html(html_text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """Cut HTML to `limit` visible units, never inside a tag, entity or word; close open tags."""
    if visible_length(html_text) <= limit:
        return html_text
    room = limit - utf16_len(ellipsis)
    if room < 0:
        return ""
    out: list[str] = []
    stack: list[str] = []
    used = 0
    for tok in _TOKEN.findall(html_text):
        tag = _tag_name(tok) if tok.startswith("<") and len(tok) > 1 else None
        if tag is not None:
            closing, name = tag
            if closing:
                if stack and stack[-1] == name:
                    stack.pop()
            elif not tok.rstrip(">").endswith("/"):
                stack.append(name)
            out.append(tok)
            continue
        is_entity = tok.startswith("&") and len(tok) > 1
        text = html.unescape(tok) if is_entity else tok
        size = utf16_len(text)
        if used + size <= room:
            out.append(tok if is_entity else escape(text))
            used += size
            continue
        # The cut falls in this token: keep what fits (an entity is all or nothing) ...
        kept = "" if is_entity else _cut_prefix(text, room - used)
        out.append(escape(kept))
        # ... and when that leaves a word half-kept (a word may span tokens: AT&amp;T),
        # drop its kept part.
        if not text[len(kept)].isspace():
            _drop_partial_word(out)
        break
    _trim_trailing_space(out)
    return "".join(out) + escape(ellipsis) + "".join(f"</{name}>" for name in reversed(stack))


def _drop_partial_word(out: list[str]) -> None:
    """Remove the trailing word fragment from the kept tokens (tags stay)."""
    for i in range(len(out) - 1, -1, -1):
        if out[i].startswith("<"):
            continue
        piece = html.unescape(out[i])
        if piece[-1:].isspace():
            return
        spaces = [m.start() for m in _SPACE.finditer(piece)]
        if spaces:
            out[i] = escape(piece[: spaces[-1] + 1])
            return
        out[i] = ""


def _trim_trailing_space(out: list[str]) -> None:
    for i in range(len(out) - 1, -1, -1):
        if out[i].startswith("<"):
            continue
        piece = html.unescape(out[i]).rstrip()
        out[i] = escape(piece)
        if piece:
            return
