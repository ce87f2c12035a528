"""parse_feed on real publisher feeds and on hostile or broken bodies we wrote."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from datapaths import shared_feed

from bot.errors import FeedParseError
from bot.news.clean import html_to_text, one_line
from bot.news.parse import decode_body, parse_feed, parse_well_formed, parse_with_feedparser

FEEDS = Path(__file__).resolve().parent.parent / "data" / "feeds"


def fixture(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


@pytest.mark.parametrize(("name", "count", "title"), [
    ("bbc-world.xml", 34, "BBC News"),
    ("aljazeera.xml", 25, None),
    ("kyiv-independent.xml", 15, "The Kyiv Independent"),
    ("ukrainska-pravda.xml", 20, "Ukrainska Pravda"),
    ("ukrinform.xml", 30, "Latest news"),
    ("unian-uk.xml", 50, "Інформаційне Агентство УНІАН"),
    ("liga-ru.xml", 12, "ЛІГА.Новости"),
])
def test_real_feeds(name: str, count: int, title: str | None) -> None:
    feed = parse_feed(shared_feed(name).read_bytes(), url=f"https://example.org/{name}")
    assert len(feed.items) == count
    if title:
        assert feed.title == title
    assert feed.warning is None
    assert all(it.title and it.published_at and it.published_at.tzinfo for it in feed.items)
    assert all(it.link and it.link.startswith("http") for it in feed.items)


def test_rss2_content_and_guid() -> None:
    feed = parse_feed(shared_feed("ukrainska-pravda.xml").read_bytes())
    first = feed.items[0]
    assert first.title == "German chancellor arrives in Kyiv"
    assert first.content_html and len(first.content_html) > len(first.summary_html or "")
    assert first.published_at == datetime(2026, 10, 4, 5, 40, tzinfo=UTC)


def test_not_a_feed_is_a_clear_error() -> None:
    with pytest.raises(FeedParseError, match="HTML page"):
        parse_feed(fixture("not-a-feed.html"), content_type="text/html")
    with pytest.raises(FeedParseError, match="empty"):
        parse_feed(b"  \n")
    with pytest.raises(FeedParseError, match="not a feed"):
        parse_feed(b"just some text, not xml at all")
    with pytest.raises(FeedParseError, match="invalid JSON"):
        parse_feed(b"{not json")
    with pytest.raises(FeedParseError, match="items"):
        parse_feed(b'{"version": "https://jsonfeed.org/version/1.1"}')


def test_truncated_xml_keeps_the_items_read() -> None:
    feed = parse_feed(fixture("truncated.xml"))
    assert [it.guid for it in feed.items][:2] == ["wire-1", "wire-2"]
    assert feed.items[0].title == "Evacuation buses leave Kherson as shelling continues"
    assert feed.warning and "malformed XML" in feed.warning
    assert feed.ttl == 15


def test_entity_bomb_is_refused_without_expanding_it() -> None:
    # Memory, not time: expanded, the bomb is about a gigabyte of text; refused at the
    # declarations, parsing it allocates next to nothing (tracemalloc also sees expat's
    # buffers, which Python allocates for it).
    body = fixture("billion-laughs.xml")
    tracemalloc.start()
    try:
        with pytest.raises(FeedParseError, match="entities"):
            parse_feed(body)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak


def test_external_entity_is_refused_and_never_read() -> None:
    with pytest.raises(FeedParseError, match="entities") as err:
        parse_feed(fixture("xxe.xml"))
    assert "root:" not in str(err.value)


def test_plain_doctype_without_entities_is_fine() -> None:
    feed = parse_feed(fixture("rss091-doctype.xml"))
    assert feed.items[0].title == "Café owners in Lviv reopen after blackout"


@pytest.mark.parametrize("name", ["cp1251-no-charset.xml", "cp1251-declared-utf8.xml",
                                  "cp1251-declared.xml"])
def test_cyrillic_charsets(name: str) -> None:
    feed = parse_feed(fixture(name))
    assert feed.title == "Новости Харькова"
    assert feed.items[0].title == "В Харькове восстановили электроснабжение после обстрела"
    if name != "cp1251-declared.xml":
        assert feed.warning and "cp1251" in feed.warning


def test_charset_from_content_type_and_latin_text() -> None:
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Café Zürich</title>'
            '<item><title>Grüße aus Köln</title><link>https://de.example.org/1</link></item>'
            '</channel></rss>').encode("latin-1")
    feed = parse_feed(body, content_type="application/rss+xml; charset=ISO-8859-1")
    assert feed.title == "Café Zürich" and feed.items[0].title == "Grüße aus Köln"
    text, enc, note = decode_body(body)  # no declaration: not UTF-8, not Cyrillic
    assert enc == "cp1252" and "Zürich" in text and note


def test_items_without_link_date_title_and_duplicate_guids() -> None:
    feed = parse_feed(fixture("edge-items.xml"))
    by_title = {it.title: it for it in feed.items}
    assert by_title["Item without a link"].link is None
    assert by_title["Item without a date"].published_at is None
    no_title = next(it for it in feed.items if it.guid == "edge-no-title")
    assert no_title.title is None and "Mykolaiv" in (no_title.summary_html or "")
    assert by_title["Item dated in the future"].published_at == datetime(2100, 1, 1, tzinfo=UTC)
    # The exact repeat is dropped; the different item that reused the guid loses the guid.
    dup = [it for it in feed.items if it.link and "dup-" in it.link]
    assert [(it.guid, it.link) for it in dup] == [
        ("edge-dup", "https://edge.example.net/dup-a"),
        (None, "https://edge.example.net/dup-b"),
    ]


def test_json_feed() -> None:
    feed = parse_feed(fixture("feed.json"), content_type="application/feed+json")
    assert feed.title == "JSON Wire" and feed.warning is None
    first, second = feed.items
    assert first.guid == "json-1" and first.author == "Jane Doe"
    assert first.published_at == datetime(2026, 10, 3, 18, 15, tzinfo=UTC)
    assert first.categories == ("shelling", "Kharkiv")
    assert second.guid == "2"
    assert second.content_html == "<p>First paragraph.</p><p>Second paragraph.</p>"
    # An XML body labelled JSON is still parsed as XML.
    atom = parse_feed(fixture("atom.xml"), content_type="application/json")
    assert atom.title == "Atom Dispatch"
    # Detected by the leading brace too.
    assert parse_feed(fixture("feed.json")).items == feed.items


def test_atom_and_rss1() -> None:
    atom = parse_feed(fixture("atom.xml"))
    entry = atom.items[0]
    assert entry.title == "Zaporizhzhia plant <b>loses</b> external power again"
    assert entry.link == "https://atom.example.com/2026/10/03/zaporizhzhia-power"
    assert entry.content_html and "ceasefire" in entry.content_html
    assert entry.categories == ("nuclear",) and entry.author == "Atom Reporter"
    rdf = parse_feed(fixture("rss1.xml"))
    assert rdf.title == "RDF Bulletin"
    assert rdf.items[0].published_at == datetime(2026, 10, 3, 9, 0, tzinfo=UTC)


def test_bytes_are_never_opened_as_a_path(tmp_path: Path) -> None:
    # feedparser opens str/bytes arguments that name a file: parse_feed must not.
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><title>secret</title></channel></rss>')
    with pytest.raises(FeedParseError):
        parse_feed(str(secret).encode())


def test_fifty_megabytes_do_not_explode() -> None:
    pad = "x" * 4000
    items = "".join(f"<item><title>Headline {i}</title><link>https://big.example.org/{i}</link>"
                    f"<description>{pad}</description></item>" for i in range(12_300))
    body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big'
            f"</title>{items}</channel></rss>").encode()
    assert len(body) > 50_000_000
    feed = parse_feed(body)
    # Only the first 8 MB are read: the complete items there, and a warning saying so.
    assert len(feed.items) == 1947
    assert feed.items[0].title == "Headline 0"
    assert feed.warning and "first part" in feed.warning


def test_json_feed_items_of_the_wrong_shape_are_ignored() -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1", "items": [
        "not an object", {"id": 1, "title": ["not", "a", "string"], "url": 5},
        {"id": "ok", "title": "Fine", "url": "https://j.example.org/ok"}]}).encode()
    feed = parse_feed(body)
    assert [it.title for it in feed.items] == ["['not', 'a', 'string']", "Fine"]


def _equivalent(name: str, data: bytes) -> None:
    fast = parse_well_formed(data, "https://feeds.example.org/")
    assert fast is not None, name
    title, items, ttl = fast
    fp_title, fp_items, fp_ttl, _ = parse_with_feedparser(data, "https://feeds.example.org/")
    assert (title, ttl) == (fp_title, fp_ttl), name
    assert len(items) == len(fp_items), name
    for a, b in zip(items, fp_items, strict=True):
        assert (a.guid, a.link, a.published_at, a.categories) == (
            b.guid, b.link, b.published_at, b.categories), name
        assert one_line(html_to_text(a.title or "")) == one_line(html_to_text(b.title or ""))
        assert html_to_text(a.content_html or a.summary_html or "") == html_to_text(
            b.content_html or b.summary_html or ""), name


@pytest.mark.parametrize("name", ["bbc-world.xml", "aljazeera.xml", "kyiv-independent.xml",
                                  "ukrainska-pravda.xml", "ukrinform.xml", "unian-uk.xml",
                                  "liga-ru.xml"])
def test_fast_path_reads_real_feeds_as_feedparser_does(name: str) -> None:
    _equivalent(name, shared_feed(name).read_bytes())


@pytest.mark.parametrize("name", ["atom.xml", "rss1.xml", "edge-items.xml"])
def test_fast_path_reads_our_fixtures_as_feedparser_does(name: str) -> None:
    _equivalent(name, fixture(name))


def test_unusual_documents_fall_back_to_feedparser() -> None:
    assert parse_well_formed(fixture("truncated.xml")) is None
    xhtml = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>X</title><entry><id>1</id>'
             b'<title>T</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
             b"<p>Hello <b>there</b></p></div></content></entry></feed>")
    assert parse_well_formed(xhtml) is None
    feed = parse_feed(xhtml)
    assert "there" in html_to_text(feed.items[0].content_html or "")
    unescaped = (b'<rss version="2.0"><channel><title>T</title><item><title>A</title>'
                 b"<description><p>Raw <b>HTML</b></p></description></item></channel></rss>")
    assert parse_well_formed(unescaped) is None
    assert "HTML" in html_to_text(parse_feed(unescaped).items[0].summary_html or "")
    relative = (b'<rss version="2.0"><channel><title>T</title><item><title>A</title>'
                b"<link>/news/1</link><pubDate>Sat, 03 Oct 2026 10:00:00 +0300</pubDate>"
                b"</item></channel></rss>")
    item = parse_feed(relative, url="https://site.example.org/rss").items[0]
    assert item.link == "https://site.example.org/news/1"
    assert item.published_at == datetime(2026, 10, 3, 7, 0, tzinfo=UTC)
