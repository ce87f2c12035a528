"""Parse a fetched body into RawItems: RSS 0.9x/1.0/2.0 and Atom, JSON Feed.

Pure and thread-safe (it runs in a worker process or thread, see bot.news.cpu). Hostile or
broken input is handled here: DOCTYPEs that declare entities (billion laughs, XXE) are
refused, the charset is decided by us (charset.py), an oversized body is cut at an item
boundary, well-formed documents take the fast path (parse_fast.py) and the rest go to
feedparser, so a truncated document keeps the items that were read.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any

import feedparser

from bot.domain import RawItem
from bot.errors import FeedParseError
from bot.news.charset import decode_body, with_utf8_declaration
from bot.news.feed_values import (
    as_str,
    clean_str,
    dedupe_guids,
    parse_iso,
    parse_ttl,
    short,
    struct_to_dt,
    text_as_html,
)
from bot.news.parse_fast import parse_well_formed

__all__ = ["MAX_ITEMS", "MAX_PARSE_BYTES", "ParsedFeed", "decode_body", "parse_feed",
           "parse_well_formed", "parse_with_feedparser"]

# Past this size the body is cut at the last complete item: feedparser keeps the whole
# document tree in memory, and no real news feed is this large.
MAX_PARSE_BYTES = 8_000_000
MAX_ITEMS = 2_000

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ITEM_END = re.compile(rb"</(?:item|entry)\s*>", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
                         re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: tuple[RawItem, ...]
    ttl: int | None  # minutes, from RSS <ttl>
    warning: str | None  # e.g. a recoverable XML error on a still-usable feed
    # A Telegram channel preview: the `?before=` value of the page of older posts
    before: int | None = None


def parse_feed(body: bytes, *, url: str = "", content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS/Atom/JSON Feed body; raise FeedParseError when it is not a usable feed."""
    if not body or not body.strip():
        raise FeedParseError("empty body")
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    # Content types lie ("application/json" on an RSS body): the first byte decides.
    if head == b"{" or (head != b"<" and content_type and "json" in content_type.lower()):
        return _parse_json_feed(body)
    return _parse_xml_feed(body, url=url, content_type=content_type)


# --- XML feeds ----------------------------------------------------------------------


def _parse_xml_feed(body: bytes, *, url: str, content_type: str | None) -> ParsedFeed:
    warnings: list[str] = []
    _refuse_entity_declarations(body)
    if len(body) > MAX_PARSE_BYTES:
        body = _cut_at_item_boundary(body, MAX_PARSE_BYTES)
        warnings.append(f"body larger than {MAX_PARSE_BYTES} bytes: parsed the first part only")
    text, _encoding, note = decode_body(body, content_type)
    if note:
        warnings.append(note)
    data = with_utf8_declaration(text)
    fast = parse_well_formed(data, url)
    if fast is not None:
        title, entries_fast, ttl = fast
        if len(entries_fast) > MAX_ITEMS:
            warnings.append(f"{len(entries_fast)} items: kept the first {MAX_ITEMS}")
        return ParsedFeed(title=title, items=dedupe_guids(entries_fast[:MAX_ITEMS]), ttl=ttl,
                          warning="; ".join(warnings) or None)
    # Malformed or unusual documents go to feedparser, which recovers what it can.
    title, entries, ttl, note = parse_with_feedparser(data, url)
    if note:
        warnings.append(note)
    if len(entries) > MAX_ITEMS:
        warnings.append(f"{len(entries)} items: kept the first {MAX_ITEMS}")
    return ParsedFeed(title=title, items=dedupe_guids(entries[:MAX_ITEMS]), ttl=ttl,
                      warning="; ".join(warnings) or None)


def parse_with_feedparser(data: bytes, url: str = ""
                          ) -> tuple[str | None, list[RawItem], int | None, str | None]:
    """feedparser's reading of a UTF-8 document: (title, items, ttl, warning)."""
    # A BytesIO (never bytes or str): feedparser opens str/bytes arguments as file names
    # or URLs, and this input is untrusted.
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-type": "application/xml; charset=utf-8",
                          "content-location": url},
        sanitize_html=False,  # html_to_text drops markup later; sanitizing is wasted work
        resolve_relative_uris=False,
    )
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        if _HTML_START.match(data[:4096]):
            raise FeedParseError("not a feed: got an HTML page")
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not a feed: {short(reason) if reason else 'no feed elements'}")
    warning = None
    if parsed.get("bozo"):
        warning = (f"malformed XML, kept {len(entries)} items: "
                   f"{short(parsed.get('bozo_exception'))}")
    feed = parsed.get("feed") or {}
    return (clean_str(feed.get("title")), [_entry_to_raw(e) for e in entries],
            parse_ttl(feed.get("ttl")), warning)


def _refuse_entity_declarations(body: bytes) -> None:
    """Refuse DOCTYPEs with ENTITY declarations: entity bombs and external entities (XXE)."""
    prolog = body[:65536]
    m = _DOCTYPE.search(prolog)
    if m is None:
        return
    if _ENTITY_DECL.search(body, m.end(), m.end() + 1_000_000):
        raise FeedParseError("refused: the document declares XML entities "
                             "(entity expansion or external entity attack)")


def _cut_at_item_boundary(body: bytes, limit: int) -> bytes:
    """Keep the document up to the last complete item before `limit` bytes, closed again."""
    ends = list(_ITEM_END.finditer(body, 0, limit))
    if not ends:
        return body[:limit]
    head = body[:4096]
    closing = b""
    if b"<rss" in head:
        closing = b"</channel></rss>"
    elif b"<feed" in head:
        closing = b"</feed>"
    elif b"<rdf:RDF" in head:
        closing = b"</rdf:RDF>"
    return body[: ends[-1].end()] + closing


def _entry_to_raw(e: Any) -> RawItem:
    content_html = None
    for c in e.get("content") or ():
        value = c.get("value")
        if value and (content_html is None or len(value) > len(content_html)):
            content_html = value
    summary = e.get("summary")
    if summary and content_html and summary.strip() == content_html.strip():
        summary = None
    link = e.get("link") or None
    guid = e.get("id") or None
    return RawItem(
        guid=clean_str(guid),
        link=clean_str(link),
        title=clean_str(e.get("title")),
        summary_html=summary or None,
        content_html=content_html,
        published_at=struct_to_dt(e.get("published_parsed") or e.get("updated_parsed")
                                   or e.get("created_parsed")),
        author=clean_str(e.get("author")),
        categories=tuple(t["term"] for t in (e.get("tags") or ()) if t.get("term"))[:20],
    )


# --- JSON Feed ----------------------------------------------------------------------


def _parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"not a feed: invalid JSON ({short(exc)})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedParseError("not a feed: JSON without an items list")
    version = str(doc.get("version") or "")
    warning = None if version.startswith("https://jsonfeed.org/version/") else (
        "JSON feed without a jsonfeed.org version")
    raw: list[RawItem] = []
    for it in doc["items"][:MAX_ITEMS]:
        if not isinstance(it, dict):
            continue
        authors: list[Any] = it.get("authors") or (
            [it["author"]] if isinstance(it.get("author"), dict) else [])
        author = next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")),
                      None)
        content = it.get("content_html") or text_as_html(it.get("content_text"))
        tags: list[Any] = it["tags"] if isinstance(it.get("tags"), list) else []
        raw.append(RawItem(
            guid=clean_str(as_str(it.get("id"))),
            link=clean_str(as_str(it.get("url")) or as_str(it.get("external_url"))),
            title=clean_str(as_str(it.get("title"))),
            summary_html=text_as_html(as_str(it.get("summary"))),
            content_html=content if isinstance(content, str) else None,
            published_at=parse_iso(it.get("date_published") or it.get("date_modified")),
            author=clean_str(as_str(author)),
            categories=tuple(str(t) for t in tags if isinstance(t, str | int))[:20],
        ))
    return ParsedFeed(title=clean_str(as_str(doc.get("title"))), items=dedupe_guids(raw),
                      ttl=None, warning=warning)
