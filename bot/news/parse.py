"""Parse a fetched body into RawItems: RSS 0.9x/1.0/2.0 and Atom via feedparser, JSON Feed.

Pure and thread-safe (the poller calls it through asyncio.to_thread). Hostile or broken
input is handled here, before feedparser sees it: DOCTYPEs that declare entities
(billion laughs, XXE) are refused, the charset is decided by us (declared, then UTF-8,
then a Cyrillic-aware guess), an oversized body is cut at an item boundary, and a
truncated document keeps the items that were read.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import xml.etree.ElementTree as ET
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET
from feedparser.datetimes import _parse_date as _feedparser_date

from bot.domain import RawItem
from bot.errors import FeedParseError

# Past this size the body is cut at the last complete item: feedparser keeps the whole
# document tree in memory, and no real news feed is this large.
MAX_PARSE_BYTES = 8_000_000
MAX_ITEMS = 2_000

_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"'][^>]*\?>")
_XML_DECL_ANY = re.compile(rb"^\s*<\?xml[^>]*\?>")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_ITEM_END = re.compile(rb"</(?:item|entry)\s*>", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
                         re.IGNORECASE | re.DOTALL)
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_LATIN_SINGLE_BYTE = {"iso-8859-1", "latin-1", "latin1", "cp1252", "windows-1252", "ascii",
                      "us-ascii", "iso8859-1"}


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: tuple[RawItem, ...]
    ttl: int | None  # minutes, from RSS <ttl>
    warning: str | None  # e.g. a recoverable XML error on a still-usable feed


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
    data = _with_utf8_declaration(text)
    fast = parse_well_formed(data, url)
    if fast is not None:
        title, entries_fast, ttl = fast
        if len(entries_fast) > MAX_ITEMS:
            warnings.append(f"{len(entries_fast)} items: kept the first {MAX_ITEMS}")
        return ParsedFeed(title=title, items=_dedupe_guids(entries_fast[:MAX_ITEMS]), ttl=ttl,
                          warning="; ".join(warnings) or None)
    # Malformed or unusual documents go to feedparser, which recovers what it can.
    title, entries, ttl, note = parse_with_feedparser(data, url)
    if note:
        warnings.append(note)
    if len(entries) > MAX_ITEMS:
        warnings.append(f"{len(entries)} items: kept the first {MAX_ITEMS}")
    return ParsedFeed(title=title, items=_dedupe_guids(entries[:MAX_ITEMS]), ttl=ttl,
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
        raise FeedParseError(f"not a feed: {_short(reason) if reason else 'no feed elements'}")
    warning = None
    if parsed.get("bozo"):
        warning = (f"malformed XML, kept {len(entries)} items: "
                   f"{_short(parsed.get('bozo_exception'))}")
    feed = parsed.get("feed") or {}
    return (_clean_str(feed.get("title")), [_entry_to_raw(e) for e in entries],
            _parse_ttl(feed.get("ttl")), warning)


# --- the fast path: well-formed RSS 2.0/0.9x, RSS 1.0 and Atom through expat ----------------
# feedparser costs about a millisecond per item; most feeds are well-formed and simple, so
# they are read with ElementTree (C expat) and only the rest pays for feedparser's recovery.

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


class _Unusual(Exception):
    """The document needs feedparser (mixed content, XHTML, odd structure)."""


def parse_well_formed(data: bytes, url: str = ""
                      ) -> tuple[str | None, list[RawItem], int | None] | None:
    """(title, items, ttl) of a well-formed RSS/Atom document, or None to use feedparser."""
    try:
        root = DefusedET.fromstring(data, forbid_dtd=False, forbid_entities=True,
                                    forbid_external=True)
    except (ET.ParseError, DefusedXmlException, ValueError):
        return None
    try:
        if root.tag == "rss":
            channel = root.find("channel")
            if channel is None:
                return None
            items = [_rss_item(e, "", url) for e in channel.iterfind("item")]
            return _text(channel.find("title")), items, _parse_ttl(_text(channel.find("ttl")))
        if root.tag == f"{_RDF}RDF":
            channel = root.find(f"{_RSS1}channel")
            items = [_rss_item(e, _RSS1, url) for e in root.iterfind(f"{_RSS1}item")]
            title = _text(channel.find(f"{_RSS1}title")) if channel is not None else None
            return title, items, None
        if root.tag == f"{_ATOM}feed":
            entries = [_atom_entry(e, url) for e in root.iterfind(f"{_ATOM}entry")]
            return _atom_text(root.find(f"{_ATOM}title")), entries, None
    except _Unusual:
        return None
    return None


def _text(el: Any) -> str | None:
    if el is None:
        return None
    if len(el):
        raise _Unusual("element with child elements")
    return _clean_str(el.text)


def _rss_item(e: Any, ns: str, base: str) -> RawItem:
    guid_el = e.find("guid")
    guid = _text(guid_el) if guid_el is not None else e.get(f"{_RDF}about")
    link = _text(e.find(f"{ns}link"))
    date = _text(e.find("pubDate")) or _text(e.find(f"{_DC}date"))
    author = _text(e.find(f"{ns}author")) or _text(e.find(f"{_DC}creator"))
    cats = tuple(c for c in (_text(x) for x in e.iterfind("category")) if c)
    return RawItem(
        guid=_clean_str(guid), link=_absolute(link, base), title=_text(e.find(f"{ns}title")),
        summary_html=_text(e.find(f"{ns}description")), content_html=_text(e.find(_CONTENT)),
        published_at=_parse_date(date), author=author, categories=cats[:20])


def _atom_text(el: Any) -> str | None:
    if el is not None and el.get("type") == "xhtml":
        raise _Unusual("XHTML content")
    return _text(el)


def _atom_entry(e: Any, base: str) -> RawItem:
    link = None
    for ln in e.iterfind(f"{_ATOM}link"):
        if ln.get("rel", "alternate") == "alternate" and ln.get("href"):
            link = ln.get("href")
            break
    author_el = e.find(f"{_ATOM}author")
    author = _text(author_el.find(f"{_ATOM}name")) if author_el is not None else None
    content = _atom_text(e.find(f"{_ATOM}content"))
    summary = _atom_text(e.find(f"{_ATOM}summary"))
    if summary and content and summary.strip() == content.strip():
        summary = None
    cats = tuple(c.get("term") for c in e.iterfind(f"{_ATOM}category") if c.get("term"))
    return RawItem(
        guid=_text(e.find(f"{_ATOM}id")), link=_absolute(_clean_str(link), base),
        title=_atom_text(e.find(f"{_ATOM}title")), summary_html=summary, content_html=content,
        published_at=_parse_date(_text(e.find(f"{_ATOM}published"))
                                 or _text(e.find(f"{_ATOM}updated"))),
        author=author, categories=cats[:20])


def _absolute(link: str | None, base: str) -> str | None:
    if link and base and not link.startswith(("http://", "https://")):
        return urljoin(base, link)
    return link


def _parse_date(value: str | None) -> datetime | None:
    """RFC 822 and ISO 8601 quickly; anything else through feedparser's many formats."""
    if not value:
        return None
    dt: datetime | None = None
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return _struct_to_dt(_feedparser_date(value))
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


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


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str, str | None]:
    """Decode a feed body: BOM, then declared charsets, then UTF-8, then a Cyrillic guess.

    Returns (text, encoding used, note when the declared charset was wrong or missing).
    """
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace"), enc, None
    declared: list[str] = []
    if content_type:
        m = _CHARSET_PARAM.search(content_type)
        if m:
            declared.append(m.group(1))
    m2 = _XML_DECL.match(body[:512])
    if m2:
        declared.append(m2.group(1).decode("ascii"))
    tried: list[str] = []
    for name in declared:
        known = _known_encoding(name)
        if known is None or known in tried:
            continue
        enc = known
        tried.append(enc)
        if enc in _LATIN_SINGLE_BYTE and _looks_cyrillic_cp1251(body):
            # Latin-1/cp1252 decode anything; Russian or Ukrainian text labelled Latin is
            # a common misconfiguration, and mojibake helps no one.
            return body.decode("cp1251"), "cp1251", f"declared charset {name} looks like cp1251"
        try:
            return body.decode(enc), enc, None
        except UnicodeDecodeError:
            continue
    try:
        text = body.decode("utf-8")
        note = f"declared charset {declared[0]} is wrong; decoded as utf-8" if declared else None
        return text, "utf-8", note
    except UnicodeDecodeError:
        pass
    guess = "cp1251" if _looks_cyrillic_cp1251(body) else "cp1252"
    what = f"declared charset {declared[0]} is wrong" if declared else "no charset declared"
    return body.decode(guess, errors="replace"), guess, f"{what}; decoded as {guess}"


def _known_encoding(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _looks_cyrillic_cp1251(body: bytes) -> bool:
    """True when the non-ASCII bytes form words, as cp1251 Cyrillic does.

    In Western single-byte text an accented letter stands alone among ASCII letters
    ("café"); in cp1251 Russian or Ukrainian whole words are high bytes ("Київ").
    """
    sample = body[:200_000]
    runs = _HIGH_RUN.findall(sample)
    high = sum(len(r) for r in runs)
    if high < 8:
        return False
    in_words = sum(len(r) for r in runs if len(r) >= 3)
    letters = sum(1 for r in runs for b in r if b >= 0xC0)
    return in_words / high > 0.6 and letters / high > 0.8


def _with_utf8_declaration(text: str) -> bytes:
    data = text.encode("utf-8")
    if _XML_DECL_ANY.match(data[:512]):
        return _XML_DECL_ANY.sub(b'<?xml version="1.0" encoding="utf-8"?>', data, count=1)
    return data


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
        guid=_clean_str(guid),
        link=_clean_str(link),
        title=_clean_str(e.get("title")),
        summary_html=summary or None,
        content_html=content_html,
        published_at=_struct_to_dt(e.get("published_parsed") or e.get("updated_parsed")
                                   or e.get("created_parsed")),
        author=_clean_str(e.get("author")),
        categories=tuple(t["term"] for t in (e.get("tags") or ()) if t.get("term"))[:20],
    )


def _struct_to_dt(t: Any) -> datetime | None:
    if not t:
        return None
    try:
        return datetime.fromtimestamp(timegm(t), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _parse_ttl(value: Any) -> int | None:
    try:
        ttl = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return ttl if 0 < ttl <= 7 * 24 * 60 else None


# --- JSON Feed ----------------------------------------------------------------------


def _parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        doc = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        raise FeedParseError(f"not a feed: invalid JSON ({_short(exc)})") from None
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
        content = it.get("content_html") or _text_as_html(it.get("content_text"))
        tags: list[Any] = it["tags"] if isinstance(it.get("tags"), list) else []
        raw.append(RawItem(
            guid=_clean_str(_as_str(it.get("id"))),
            link=_clean_str(_as_str(it.get("url")) or _as_str(it.get("external_url"))),
            title=_clean_str(_as_str(it.get("title"))),
            summary_html=_text_as_html(_as_str(it.get("summary"))),
            content_html=content if isinstance(content, str) else None,
            published_at=_parse_iso(it.get("date_published") or it.get("date_modified")),
            author=_clean_str(_as_str(author)),
            categories=tuple(str(t) for t in tags if isinstance(t, str | int))[:20],
        ))
    return ParsedFeed(title=_clean_str(_as_str(doc.get("title"))), items=_dedupe_guids(raw),
                      ttl=None, warning=warning)


def _text_as_html(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    from html import escape

    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# --- helpers ------------------------------------------------------------------------


def _dedupe_guids(items: Any) -> tuple[RawItem, ...]:
    """Drop repeated entries; a guid reused for a different entry is dropped from it."""
    seen_guids: set[str] = set()
    seen_entries: set[tuple[str | None, str | None, str | None]] = set()
    out: list[RawItem] = []
    for it in items:
        ident = (it.guid, it.link, it.title)
        if ident in seen_entries:
            continue
        seen_entries.add(ident)
        if it.guid is not None:
            if it.guid in seen_guids:
                # The publisher reused a guid: keep the entry (its link or title still
                # identify it) but never let the guid collide with the first one.
                it = RawItem(None, it.link, it.title, it.summary_html, it.content_html,
                             it.published_at, it.author, it.categories)
            else:
                seen_guids.add(it.guid)
        out.append(it)
    return tuple(out)


def _as_str(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else str(v)


def _clean_str(v: Any) -> str | None:
    if not isinstance(v, str):
        return None
    v = v.strip()
    return v or None


def _short(exc: Any, limit: int = 200) -> str:
    s = str(exc) if exc is not None else ""
    s = f"{type(exc).__name__}: {s}" if isinstance(exc, BaseException) else s
    return s if len(s) <= limit else s[: limit - 1] + "…"
