"""Parse a public channel's web preview page (`https://t.me/s/<channel>`) into RawItems.

The page's structure has been stable for years: each post is a `div.tgme_widget_message`
with `data-post="<channel>/<id>"`; its text (links and `<br>` inside; a photo's, video's or
album's caption too) in `div.tgme_widget_message_text`; its time in
`a.tgme_widget_message_date time[datetime]`; a forward names its origin in
`.tgme_widget_message_forwarded_from`; the channel's title is in
`.tgme_channel_info_header_title`. Service messages and media the page cannot show have no
text and are skipped.

Pure and thread-safe (it runs in a worker process or a thread, like parse_feed). HTML is read
with selectolax (the Lexbor engine): a real HTML5 parser, so a page that is malformed or cut
short is read the way a browser would, and a shape we do not recognise is reported as such.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.domain import RawItem
from bot.errors import FeedParseError
from bot.news.parse import ParsedFeed

MAX_PAGE_BYTES = 4_000_000  # a real page is 50-300 KB; past this it is not one
MAX_POSTS = 200  # a page shows about 20
TITLE_LIMIT = 200  # a longer first line gives its first sentence, or is cut
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«„(]?[A-ZА-ЯЁЇІЄҐ0-9])")
_POST = re.compile(r"([A-Za-z][A-Za-z0-9_]{3,31})/(\d{1,12})")


@dataclass(frozen=True, slots=True)
class PreviewPost:
    """One post as the page shows it (before it becomes a RawItem)."""

    channel: str
    id: int
    text: str  # plain text, lines kept
    published_at: datetime | None
    forwarded_from: str | None  # "tg:<channel>" or "name:<shown name>"


def parse_preview(body: bytes, channel: str) -> ParsedFeed:
    """The posts with text of a preview page as RawItems (oldest first, as shown);
    FeedParseError when the page is empty, too big, not a preview or has no posts."""
    posts, title = read_posts(body, channel)
    items = tuple(item for post in posts if (item := post_to_item(post)) is not None)
    # Older posts are at ?before=<the oldest post shown> (the page's "more" link says so).
    before = min(p.id for p in posts) if posts else None
    return ParsedFeed(title=title, items=items, ttl=None, warning=None,
                      before=before if before and before > 1 else None)


def read_posts(body: bytes, channel: str) -> tuple[list[PreviewPost], str | None]:
    """Every post of the page (text or not) and the channel's title."""
    if not body or not body.strip():
        raise FeedParseError("empty page (no preview HTML)")
    if len(body) > MAX_PAGE_BYTES:
        raise FeedParseError(f"page larger than {MAX_PAGE_BYTES} bytes: not a channel preview")
    tree = LexborHTMLParser(body.decode("utf-8", errors="replace"))
    messages = tree.css("div.tgme_widget_message")
    history = tree.css_first(".tgme_channel_history")
    if not messages and history is None:
        if tree.css_first(".tgme_page") is not None:
            # t.me/<channel> itself: the channel exists but shows no public preview.
            raise FeedParseError(f"@{channel} has no public web preview "
                                 "(the page is the channel's card, not its posts)")
        raise FeedParseError("not a Telegram channel preview: no message list found "
                             "(the page's structure may have changed)")
    title = _text(tree.css_first(".tgme_channel_info_header_title"))
    if not messages:
        raise FeedParseError(f"no posts on @{channel}'s preview page")
    posts: list[PreviewPost] = []
    malformed = 0
    for node in messages[-MAX_POSTS:]:
        post = _read_post(node, channel)
        if post is None:
            malformed += 1
        else:
            posts.append(post)
    if not posts:
        raise FeedParseError(f"preview page of @{channel} changed shape: {malformed} posts "
                             "without a readable data-post")
    return posts, title or None


def _read_post(node: LexborNode, channel: str) -> PreviewPost | None:
    m = _POST.fullmatch((node.attributes.get("data-post") or "").strip())
    if m is None:
        return None
    classes = (node.attributes.get("class") or "").split()
    text = ""
    if "service_message" not in classes:
        body = _own_text(node)
        if body is not None:
            text = _post_text(body)
    when = None
    stamp = node.css_first("a.tgme_widget_message_date time")
    if stamp is not None:
        when = _parse_time(stamp.attributes.get("datetime"))
    return PreviewPost(channel=m.group(1).lower(), id=int(m.group(2)), text=text,
                       published_at=when, forwarded_from=_forwarded_from(node))


def _own_text(message: LexborNode) -> LexborNode | None:
    """The post's own text div: not the quoted text of the post it replies to."""
    for div in message.css("div.tgme_widget_message_text"):
        parent = div.parent
        quoted = False
        while parent is not None and parent is not message and parent.tag != "html":
            if "tgme_widget_message_reply" in (parent.attributes.get("class") or ""):
                quoted = True
                break
            parent = parent.parent
        if not quoted:
            return div
    return None


def _post_text(node: LexborNode) -> str:
    for br in node.css("br"):
        br.replace_with("\n")
    text = node.text(deep=True, separator="")
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    out: list[str] = []
    for line in lines:  # blank lines collapse to one break
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _forwarded_from(node: LexborNode) -> str | None:
    fwd = node.css_first(".tgme_widget_message_forwarded_from")
    if fwd is None:
        return None
    name = fwd.css_first(".tgme_widget_message_forwarded_from_name")
    href = (name.attributes.get("href") or "") if name is not None else ""
    parts = urlsplit(href)
    if parts.hostname in ("t.me", "telegram.me"):
        path = [p for p in parts.path.split("/") if p]
        if path and _POST.fullmatch(f"{path[0]}/1"):
            return "tg:" + path[0].lower()
    shown = _text(name) or _text(fwd)
    return f"name:{shown.casefold()}" if shown else "name:?"


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _text(node: LexborNode | None) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def split_title(text: str) -> tuple[str, str]:
    """A post's title (its first line, or that line's first sentence when long) and the
    rest. Leading emoji and symbols ("🔴", "⚡️") are left out of the title, and so are
    leading lines of nothing else ("🔴🔴🔴")."""
    lines = text.split("\n")
    while len(lines) > 1 and not any(ch.isalnum() for ch in lines[0]):
        lines.pop(0)
    text = "\n".join(lines)
    first, _, rest = text.partition("\n")
    first = _strip_symbols(first)
    if len(first) > TITLE_LIMIT:
        head, *tail = _SENTENCE_END.split(first, maxsplit=1)
        if len(head) <= TITLE_LIMIT and tail:
            return head, (tail[0] + ("\n" + rest if rest else "")).strip()
        cut = first[:TITLE_LIMIT].rsplit(" ", 1)[0].rstrip(",;:-–— ") + "…"
        return cut, text.strip()  # the whole post stays in the text: nothing is lost
    return first, rest.strip()


def _strip_symbols(line: str) -> str:
    i = 0
    while i < len(line) and (unicodedata.category(line[i])[0] in "SZ"
                             or unicodedata.category(line[i]) in ("Cf", "Mn")):
        i += 1
    return line[i:].strip() or line.strip()


def post_to_item(post: PreviewPost) -> RawItem | None:
    """A RawItem for a post with text (None for one without: a service message, media the
    preview cannot show); its link is the post's own, `https://t.me/<channel>/<id>`."""
    if not post.text:
        return None
    title, rest = split_title(post.text)
    if not title:
        return None
    link = f"https://t.me/{post.channel}/{post.id}"
    content = "<br>".join(html.escape(line) for line in rest.split("\n")) if rest else None
    return RawItem(guid=link, link=link, title=html.escape(title), content_html=content,
                   published_at=post.published_at, author=post.forwarded_from)
