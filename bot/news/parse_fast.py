"""The fast path: well-formed RSS 2.0/0.9x, RSS 1.0 and Atom read with ElementTree (C expat).

feedparser costs about a millisecond per item; most feeds are well-formed and simple, so
they are read here and only the rest pays for feedparser's recovery (parse.py). Entity
declarations are refused before this runs; defusedxml refuses them again.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urljoin

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedET

from bot.domain import RawItem
from bot.news.feed_values import clean_str, parse_date, parse_ttl

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
            return _text(channel.find("title")), items, parse_ttl(_text(channel.find("ttl")))
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
    return clean_str(el.text)


def _rss_item(e: Any, ns: str, base: str) -> RawItem:
    guid_el = e.find("guid")
    guid = _text(guid_el) if guid_el is not None else e.get(f"{_RDF}about")
    link = _text(e.find(f"{ns}link"))
    date = _text(e.find("pubDate")) or _text(e.find(f"{_DC}date"))
    author = _text(e.find(f"{ns}author")) or _text(e.find(f"{_DC}creator"))
    cats = tuple(c for c in (_text(x) for x in e.iterfind("category")) if c)
    return RawItem(
        guid=clean_str(guid), link=_absolute(link, base), title=_text(e.find(f"{ns}title")),
        summary_html=_text(e.find(f"{ns}description")), content_html=_text(e.find(_CONTENT)),
        published_at=parse_date(date), author=author, categories=cats[:20])


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
        guid=_text(e.find(f"{_ATOM}id")), link=_absolute(clean_str(link), base),
        title=_atom_text(e.find(f"{_ATOM}title")), summary_html=summary, content_html=content,
        published_at=parse_date(_text(e.find(f"{_ATOM}published"))
                                 or _text(e.find(f"{_ATOM}updated"))),
        author=author, categories=cats[:20])


def _absolute(link: str | None, base: str) -> str | None:
    if link and base and not link.startswith(("http://", "https://")):
        return urljoin(base, link)
    return link
