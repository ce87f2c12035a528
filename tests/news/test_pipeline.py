"""The item pipeline end to end: real feeds and our hostile fixtures into a real database."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from datapaths import shared_feed

from bot.clock import FakeClock
from bot.domain import RawItem, Source, SourceConfig, TagKind
from bot.errors import FeedParseError
from bot.news.classify import Classifier, get_classifier
from bot.news.parse import parse_feed
from bot.news.pipeline import Pipeline, PipelineResult
from bot.news.stages import clean_batch
from storage.store import Store

FEEDS = Path(__file__).resolve().parent.parent / "data" / "feeds"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return get_classifier()


async def add_source(store: Store, name: str, **kw: object) -> Source:
    return await store.sources.add(
        SourceConfig(name=name, url=f"https://{name}.example.org/rss", **kw),  # type: ignore[arg-type]
        now=NOW)


def items_of(path: Path) -> tuple[RawItem, ...]:
    return parse_feed(path.read_bytes()).items


def rss(items: Iterable[RawItem]) -> bytes:
    """An RSS 2.0 body carrying these items, as a publisher would serve it."""
    out = ['<?xml version="1.0" encoding="utf-8"?>'
           '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
           "<channel><title>Test feed</title>"]
    for it in items:
        out.append("<item>")
        for tag, value in (("guid", it.guid), ("link", it.link), ("title", it.title),
                           ("description", it.summary_html),
                           ("content:encoded", it.content_html)):
            if value is not None:
                out.append(f"<{tag}>{escape(value)}</{tag}>")
        if it.published_at is not None:
            out.append(f"<pubDate>{format_datetime(it.published_at, usegmt=True)}</pubDate>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "".join(out).encode()


async def process(pipe: Pipeline, source: Source, body: bytes) -> PipelineResult:
    """One fetched body through the pipeline, as the poller hands it over."""
    _feed, result = await pipe.process_body(source, body)
    return result


async def test_same_feed_twice_stores_nothing_new(store: Store, classifier: Classifier) -> None:
    clock = FakeClock(NOW)
    pipe = Pipeline(store, classifier, clock)
    await pipe.load()
    src = await add_source(store, "ukrinform")
    raw = shared_feed("ukrinform.xml").read_bytes()
    first = await process(pipe, src, raw)
    assert first.new_items == 30 and first.errors == () and first.skipped == 0
    assert len(first.new_stories) + first.merged == 30
    assert len(first.new_stories) >= 28
    clock.advance(600)
    again = await process(pipe, src, raw)
    assert (again.new_items, again.new_stories, again.merged, again.skipped) == (0, (), 0, 30)
    # After a restart nothing is remembered in memory: the database says what is known.
    restarted = Pipeline(store, classifier, clock)
    await restarted.load()
    again = await process(restarted, src, raw)
    assert (again.new_items, again.new_stories, again.merged, again.skipped) == (0, (), 0, 30)
    assert await store.news.counts_since(NOW) == (30, len(first.new_stories))
    # Stored stories carry tags, a summary and a canonical URL.
    # "Kharkiv region" is the oblast: its stories are listed under the oblast's place tag
    kharkiv = await store.news.latest_by_tag(TagKind.PLACE, "UA63000000000041885")
    assert any("Kharkiv region" in s.title for s in kharkiv)
    story = next(s for s in first.new_stories if s.title.startswith("Russian forces attack Odesa"))
    assert "odesa" in story.cities and story.summary and story.url
    assert story.url.startswith("https://www.ukrinform.net/")


async def test_same_story_from_two_sources_is_one_story(store: Store,
                                                        classifier: Classifier) -> None:
    clock = FakeClock(NOW)
    pipe = Pipeline(store, classifier, clock)
    await pipe.load()
    up = await add_source(store, "pravda")
    ukrinform = await add_source(store, "ukrinform")
    r1 = await process(pipe, up, shared_feed("ukrainska-pravda.xml").read_bytes())
    vivaldi = next(s for s in r1.new_stories if "Vivaldi" in s.title)
    clock.advance(300)
    r2 = await process(pipe, ukrinform, shared_feed("ukrinform.xml").read_bytes())
    assert r2.merged >= 2 and r2.new_items == 30
    # The later source does not announce the story again.
    assert not any("Vivaldi" in s.title for s in r2.new_stories)
    story = await store.news.get_story(vivaldi.id)
    assert story is not None and story.source_count == 2
    items = await store.news.items_of_story(vivaldi.id)
    assert {i.source_id for i in items} == {up.id, ukrinform.id}

    # A restart rebuilds the index from the database: a third source still joins.
    clock.advance(600)
    fresh = Pipeline(store, classifier, clock)
    await fresh.load()
    assert len(fresh.index) == len(r1.new_stories) + len(r2.new_stories)
    ki = await add_source(store, "kyivindependent")
    copy = RawItem(guid="ki-vivaldi", link="https://ki.example.org/vivaldi",
                   title="Zelensky: Ukrainian forces liberated up to 140 sq km in Operation "
                         "Vivaldi",
                   summary_html="<p>Ukrainian forces have liberated 125-140 square kilometers "
                                "in Operation Vivaldi, President Zelensky said.</p>",
                   published_at=datetime(2026, 10, 3, 20, 0, tzinfo=UTC))
    r3 = await process(fresh, ki, rss([copy]))
    assert r3.new_items == 1 and r3.new_stories == () and r3.merged == 1
    story = await store.news.get_story(vivaldi.id)
    assert story is not None and story.source_count == 3


async def test_bbc_and_al_jazeera_merge_the_ferry_fire(store: Store,
                                                       classifier: Classifier) -> None:
    pipe = Pipeline(store, classifier, FakeClock(NOW))
    bbc = await add_source(store, "bbc")
    aj = await add_source(store, "aljazeera")
    await process(pipe, bbc, shared_feed("bbc-world.xml").read_bytes())
    res = await process(pipe, aj, shared_feed("aljazeera.xml").read_bytes())
    assert res.new_items == 25 and res.merged >= 4
    ferry = [s for s in await store.news.search("ferry") if "Philippines" in s.title]
    assert len(ferry) == 1 and ferry[0].source_count == 2
    assert len(await store.news.items_of_story(ferry[0].id)) == 3


async def test_hostile_and_odd_feeds(store: Store, classifier: Classifier) -> None:
    pipe = Pipeline(store, classifier, FakeClock(NOW))
    src = await add_source(store, "fixtures", language="ru")
    total_new = 0
    refused = []
    for path in sorted(FEEDS.iterdir()):
        try:
            res = await process(pipe, src, path.read_bytes())
        except FeedParseError as exc:
            refused.append((path.name, str(exc)))
            continue
        assert res.errors == (), (path.name, res.errors)
        total_new += res.new_items
    assert sorted(n for n, _ in refused) == ["billion-laughs.xml", "not-a-feed.html", "xxe.xml"]
    # The same cp1251 item arrives in three files: stored once.
    hits = await store.news.search("электроснабжение")
    assert len(hits) == 1 and hits[0].title.startswith("В Харькове")
    assert "kharkiv" in hits[0].cities
    # Nothing of /etc/passwd and no expanded entity was stored anywhere.
    assert await store.news.search("root:", limit=100, since=NOW) == []
    assert await store.news.search("lollol", limit=100, since=NOW) == []
    assert await store.news.search("Leak", limit=100, since=NOW) == []
    n_items, _ = await store.news.counts_since(NOW)
    assert n_items == total_new


async def test_edge_items(store: Store, classifier: Classifier) -> None:
    pipe = Pipeline(store, classifier, FakeClock(NOW))
    src = await add_source(store, "edge")
    res = await process(pipe, src, (FEEDS / "edge-items.xml").read_bytes())
    # 7 entries after parsing; the empty one is skipped.
    assert (res.new_items, res.skipped) == (6, 1)
    stories = {s.title: s for s in res.new_stories}
    assert stories["Item dated in the future"].first_seen_at == NOW
    no_title = next(s for s in res.new_stories if s.title.startswith("Residents of Mykolaiv"))
    assert "mykolaiv" in no_title.cities
    items = await store.news.items_of_story(stories["Item dated in the future"].id)
    assert items[0].published_at == NOW
    undated = await store.news.items_of_story(stories["Item without a date"].id)
    assert undated[0].published_at == NOW
    linkless = await store.news.items_of_story(stories["Item without a link"].id)
    assert linkless[0].url is None and linkless[0].key.startswith(f"g:{src.id}:")
    # Two different items shared a guid: both are stored (their text is so alike that they
    # are one story).
    shared = await store.news.items_of_story(stories["First item with a shared guid"].id)
    assert [i.title for i in shared] == ["First item with a shared guid",
                                         "Second item with a shared guid"]


def test_one_bad_item_does_not_stop_cleaning() -> None:
    good = RawItem(guid="ok", link="https://b.example.org/ok", title="Power restored in Lviv",
                   summary_html="Engineers restored power in Lviv.")
    bad = RawItem(guid="bad", link="https://b.example.org/bad", title=12345,  # type: ignore[arg-type]
                  summary_html=None)
    cleaned, skipped, errors = clean_batch(1, "en", [bad, good], NOW)
    assert [c.title for c in cleaned] == ["Power restored in Lviv"] and skipped == 0
    assert len(errors) == 1 and "b.example.org/bad" in errors[0]


class FailsOn:
    """The real classifier, except that it breaks on one title (a bug in one item)."""

    def __init__(self, inner: Classifier, title: str) -> None:
        self.inner, self.title = inner, title

    def classify(self, title: str, text: str, **kw: Any) -> Any:
        if title == self.title:
            raise RuntimeError("classifier bug")
        return self.inner.classify(title, text, **kw)


async def test_one_bad_item_does_not_stop_the_batch(store: Store,
                                                    classifier: Classifier) -> None:
    pipe = Pipeline(store, FailsOn(classifier, "Shelling in Kherson"),  # type: ignore[arg-type]
                    FakeClock(NOW))
    src = await add_source(store, "broken")
    body = rss([RawItem(guid="bad", link="https://b.example.org/bad",
                        title="Shelling in Kherson", summary_html="Shelling in Kherson."),
                RawItem(guid="ok", link="https://b.example.org/ok",
                        title="Power restored in Lviv",
                        summary_html="Engineers restored power in Lviv.")])
    res = await process(pipe, src, body)
    assert res.new_items == 1 and len(res.errors) == 1
    assert "b.example.org/bad" in res.errors[0] and "classifier bug" in res.errors[0]
    assert [s.title for s in res.new_stories] == ["Power restored in Lviv"]


async def test_event_loop_stays_responsive(sqlite_store: Store, classifier: Classifier) -> None:
    pipe = Pipeline(sqlite_store, classifier, FakeClock(NOW))
    src = await add_source(sqlite_store, "big")
    base = items_of(shared_feed("ukrainska-pravda.xml"))
    body = rss(RawItem(guid=f"{it.guid}-{n}", link=f"{it.link}?copy={n}",
                       title=f"{it.title} {n}", summary_html=it.summary_html,
                       content_html=it.content_html, published_at=it.published_at)
               for n in range(10) for it in base)
    # CPU time, not wall time: how much of the work ran on the event loop's own thread,
    # whatever else the machine is doing (the loop's lag itself: bench/bench_poll.py).
    loop_cpu, all_cpu = time.thread_time(), time.process_time()
    res = await process(pipe, src, body)
    loop_cpu, all_cpu = time.thread_time() - loop_cpu, time.process_time() - all_cpu
    assert res.new_items == 200
    print(f"loop thread {loop_cpu:.3f} s of {all_cpu:.3f} s CPU")
    assert loop_cpu < 0.5 * all_cpu, (loop_cpu, all_cpu)


async def test_unstorable_characters_are_cleaned(store: Store, classifier: Classifier) -> None:
    pipe = Pipeline(store, classifier, FakeClock(NOW))
    src = await add_source(store, "json")
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": ['
            b'{"id": "nul\\u0000", "url": "https://j.example.org/1",'
            b' "title": "Power cut\\u0000 in Lviv \\ud800", "content_text": "Lights out\\u0007."},'
            b'{"id": "long", "url": "https://j.example.org/' + b"a" * 3000 + b'",'
            b' "title": "A link too long to store", "content_text": "Text."}]}')
    res = await process(pipe, src, body)
    assert res.errors == () and res.new_items == 2
    titles = {s.title: s for s in res.new_stories}
    assert "Power cut in Lviv" in titles and titles["Power cut in Lviv"].text == "Lights out."
    long_item = (await store.news.items_of_story(titles["A link too long to store"].id))[0]
    assert long_item.url is None and long_item.key.startswith(f"g:{src.id}:")


async def _refuse_items(store: Store, refuse: bool) -> None:
    """Make the database refuse (or accept again) every row inserted into items."""
    if store.is_sqlite:
        ddl = (["CREATE TRIGGER refuse_items BEFORE INSERT ON items "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"] if refuse
               else ["DROP TRIGGER refuse_items"])
    else:
        ddl = (["CREATE FUNCTION refuse_items() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                "CREATE TRIGGER refuse_items BEFORE INSERT ON items "
                "FOR EACH ROW EXECUTE FUNCTION refuse_items()"] if refuse
               else ["DROP TRIGGER refuse_items ON items", "DROP FUNCTION refuse_items()"])
    async with store.engine.begin() as conn:
        for statement in ddl:
            await conn.exec_driver_sql(statement)


async def test_a_database_refusing_everything_is_an_error(store: Store,
                                                          classifier: Classifier) -> None:
    pipe = Pipeline(store, classifier, FakeClock(NOW))
    real = await add_source(store, "real")
    raw = (FEEDS / "truncated.xml").read_bytes()
    # The database itself refuses every item (a trigger), whoever's they are.
    await _refuse_items(store, True)
    with pytest.raises(Exception):  # noqa: B017 - the database's own error, whatever it is
        await process(pipe, real, raw)
    await _refuse_items(store, False)
    assert await store.news.counts_since(NOW) == (0, 0)
    # Nothing was remembered as stored: the same source stores them all afterwards.
    res = await process(pipe, real, raw)
    assert res.new_items == 3
