"""NewsRepo contract, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

import storage.repos.news as news_repo
from bot.domain import CleanItem, Evidence, SourceConfig, TagKind, Tags
from storage.repos.news import NewItem
from storage.store import Store

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


async def make_sources(store: Store, n: int) -> list[int]:
    out = []
    for i in range(n):
        src = await store.sources.add(
            SourceConfig(name=f"S{i}", url=f"https://s{i}.example.org/rss"), now=NOW)
        out.append(src.id)
    return out


def new(source_id: int, key: str, title: str, *, text: str = "", cities: tuple[str, ...] = (),
        topics: tuple[str, ...] = (), at: datetime = NOW, story_id: int | None = None,
        same_as: int | None = None, url: str | None = None,
        published: datetime | None = None) -> NewItem:
    """An item fetched at `at` and published at `published` (default: `at`)."""
    item = CleanItem(source_id=source_id, key=key, guid=key, url=url or f"https://x.org/{key}",
                     title=title, text=text or f"{title}. More words here.",
                     published_at=published or at, language="en", fingerprint=(1, 2, 3))
    ev = tuple(Evidence(TagKind.CITY, c, c.title(), "title", 0, len(c)) for c in cities)
    return NewItem(item=item, summary=f"summary of {title}",
                   tags=Tags(cities=cities, topics=topics, evidence=ev), fetched_at=at,
                   story_id=story_id, same_as=same_as)


async def test_add_items_new_stories_and_existing_keys(store: Store) -> None:
    s1, s2 = await make_sources(store, 2)
    repo = store.news
    stored = await repo.add_items([
        new(s1, "k1", "Evacuation buses leave Kherson", cities=("kherson",),
            topics=("humanitarian",)),
        new(s2, "k2", "Power restored in Odesa", cities=("odesa",), topics=("energy",)),
    ])
    assert [x.new_story for x in stored] == [True, True]
    assert stored[0].story.title == "Evacuation buses leave Kherson"
    assert stored[0].story.cities == ("kherson",) and stored[0].story.source_count == 1
    assert stored[0].item.story_id == stored[0].story.id
    # What add_items reports is what is stored.
    for x in stored:
        assert x.story == await repo.get_story(x.story.id)
        assert [x.item] == await repo.items_of_story(x.story.id)
    assert await repo.existing_keys(["k1", "k2", "k3"]) == {"k1", "k2"}
    assert await repo.existing_keys([]) == set()

    # The same keys again: nothing stored, nothing new.
    again = await repo.add_items([new(s1, "k1", "Evacuation buses leave Kherson")])
    assert again == []
    assert await repo.counts_since(NOW - timedelta(hours=1)) == (2, 2)

    items = await repo.items_of_story(stored[0].story.id)
    assert [i.key for i in items] == ["k1"]
    assert items[0].tags.evidence[0].key == "kherson"
    assert items[0].published_at == NOW and items[0].fetched_at.tzinfo is not None


async def test_attach_counts_distinct_sources_and_unions_tags(store: Store) -> None:
    s1, s2, s3 = await make_sources(store, 3)
    repo = store.news
    first = await repo.add_items([new(s1, "a1", "Shelling in Kherson", cities=("kherson",),
                                      topics=("shelling",))])
    sid = first[0].story.id
    later = NOW + timedelta(minutes=5)
    res = await repo.add_items([
        new(s1, "a2", "Kherson shelled again", story_id=sid, topics=("casualties",), at=later),
        new(s2, "a3", "Kherson under fire", story_id=sid, cities=("kherson", "mykolaiv"),
            at=later),
    ])
    assert [x.new_story for x in res] == [False, False]
    story = await repo.get_story(sid)
    assert story is not None
    # s1 was already there: only s2 adds a source.
    assert story.source_count == 2
    assert story.cities == ("kherson", "mykolaiv")
    assert story.topics == ("shelling", "casualties")
    assert story.updated_at == later and story.first_seen_at == NOW
    # A third source in a new batch, and the same source twice in one batch.
    await repo.add_items([new(s3, "a4", "x", story_id=sid), new(s3, "a5", "y", story_id=sid)])
    story = await repo.get_story(sid)
    assert story is not None and story.source_count == 3
    by_tag = await repo.latest_by_tag(TagKind.CITY, "mykolaiv")
    assert [s.id for s in by_tag] == [sid]


async def test_same_batch_story_and_duplicate_keys(store: Store) -> None:
    s1, s2 = await make_sources(store, 2)
    repo = store.news
    res = await repo.add_items([
        new(s1, "b1", "Ferry fire in the Philippines", topics=("casualties",)),
        new(s2, "b2", "Philippines ferry fire kills five", same_as=0, cities=("manila",)),
        new(s2, "b2", "Philippines ferry fire kills five", same_as=0),  # repeated key
    ])
    assert len(res) == 2
    assert res[0].new_story and not res[1].new_story
    assert res[0].story.id == res[1].story.id
    assert res[1].story.source_count == 2
    assert res[1].story.cities == ("manila",)
    assert await repo.latest_by_tag(TagKind.CITY, "manila") == [res[1].story]


async def test_concurrent_inserts_of_the_same_key_store_one(store: Store) -> None:
    (s1,) = await make_sources(store, 1)
    repo = store.news
    results = await asyncio.gather(*(repo.add_items([new(s1, "race", "Race")]) for _ in range(4)),
                                   return_exceptions=True)
    stored = [r for r in results if isinstance(r, list) and r]
    assert all(not isinstance(r, BaseException) for r in results), results
    assert len(stored) == 1
    assert await repo.counts_since(NOW - timedelta(days=1)) == (1, 1)


async def test_lookups_by_tag_latest_for_and_since(store: Store) -> None:
    (s1,) = await make_sources(store, 1)
    repo = store.news
    ids = []
    for i in range(6):
        at = NOW + timedelta(minutes=i)
        cities = ("kherson",) if i % 2 == 0 else ("kyiv",)
        topics = ("sanctions",) if i == 5 else ()
        res = await repo.add_items([new(s1, f"t{i}", f"Story {i}", cities=cities, topics=topics,
                                        at=at)])
        ids.append(res[0].story.id)
    latest = await repo.latest_by_tag(TagKind.CITY, "kherson", limit=2)
    assert [s.id for s in latest] == [ids[4], ids[2]]
    assert await repo.latest_by_tag(TagKind.CITY, "lviv") == []
    mixed = await repo.latest_for([(TagKind.CITY, "kyiv"), (TagKind.TOPIC, "sanctions")],
                                  limit=10)
    assert [s.id for s in mixed] == [ids[5], ids[3], ids[1]]
    since = await repo.stories_since(NOW + timedelta(minutes=2),
                                     [(TagKind.CITY, "kherson"), (TagKind.TOPIC, "sanctions"),
                                      (TagKind.CITY, "kyiv")],
                                     until=NOW + timedelta(minutes=5))
    assert [(s.id, tags) for s, tags in since] == [
        (ids[4], ((TagKind.CITY, "kherson"),)),
        (ids[3], ((TagKind.CITY, "kyiv"),)),
        (ids[2], ((TagKind.CITY, "kherson"),)),
    ]
    # Without `until`, story 5 matches two tags.
    since_all = await repo.stories_since(NOW + timedelta(minutes=5),
                                         [(TagKind.CITY, "kyiv"), (TagKind.TOPIC, "sanctions")])
    assert since_all[0][1] == ((TagKind.CITY, "kyiv"), (TagKind.TOPIC, "sanctions"))


async def test_search_and_phrases_fold_case_in_every_script(store: Store) -> None:
    (s1,) = await make_sources(store, 1)
    repo = store.news
    await repo.add_items([
        new(s1, "p1", "NATO rules out a No-Fly Zone", text="Allies said no to a no-fly zone."),
        new(s1, "p2", "Бої за Азовсталь тривають", text="Захисники АЗОВСТАЛІ тримаються.",
            at=NOW + timedelta(minutes=1)),
        new(s1, "p3", "Weather in Lviv", text="Sunny with 50% chance of 100_percent rain.",
            at=NOW + timedelta(minutes=2)),
    ])
    assert [s.title for s in await repo.search("no-fly ZONE")] == ["NATO rules out a No-Fly Zone"]
    assert [s.title for s in await repo.search("азовсталь")] == ["Бої за Азовсталь тривають"]
    assert [s.title for s in await repo.search("азовсталі")] == ["Бої за Азовсталь тривають"]
    assert await repo.search("zone lviv") == []
    assert [s.title for s in await repo.search("50%")] == ["Weather in Lviv"]
    assert await repo.search("0_p") != [] and await repo.search("%%") == []
    assert await repo.search("   ") == []
    assert await repo.search("zone", since=NOW + timedelta(minutes=1)) == []
    phrase = await repo.latest_by_tag(TagKind.PHRASE, "no-fly zone")
    assert [s.title for s in phrase] == ["NATO rules out a No-Fly Zone"]
    mixed = await repo.latest_for([(TagKind.PHRASE, "азовсталь")])
    assert [s.title for s in mixed] == ["Бої за Азовсталь тривають"]


async def test_fingerprints_item_by_url_and_counts(store: Store) -> None:
    (s1,) = await make_sources(store, 1)
    repo = store.news
    await repo.add_items([new(s1, "f1", "Old", at=NOW - timedelta(days=3)),
                          new(s1, "f2", "Fresh", url="https://news.example.org/a?b=1")])
    fps = await repo.recent_fingerprints(NOW - timedelta(hours=48))
    assert [(r.fingerprint, r.published_at) for r in fps] == [((1, 2, 3), NOW)]
    # The time returned is the lead item's publication time.
    res = await repo.add_items([new(s1, "f3", "Late", at=NOW + timedelta(minutes=1))])
    await repo.add_items([new(s1, "f4", "Later", at=NOW + timedelta(minutes=2),
                              story_id=res[0].story.id)])
    fps = await repo.recent_fingerprints(NOW + timedelta(seconds=1))
    assert [r.published_at for r in fps] == [NOW + timedelta(minutes=1)]
    item = await repo.item_by_url("https://news.example.org/a?b=1")
    assert item is not None and item.title == "Fresh"
    assert await repo.item_by_url("https://news.example.org/missing") is None
    assert await repo.get_story(10_000) is None
    assert await repo.counts_since(NOW - timedelta(hours=1)) == (3, 2)
    assert await repo.counts_since(NOW - timedelta(days=4)) == (4, 3)


async def test_a_storys_time_is_its_lead_items_publication_time(store: Store) -> None:
    (s1,) = await make_sources(store, 1)
    repo = store.news
    res = await repo.add_items([
        new(s1, "old", "Kherson a year ago", cities=("kherson",),
            published=NOW - timedelta(days=400)),
        new(s1, "future", "Kherson tomorrow", cities=("kherson",),
            published=NOW + timedelta(days=1)),  # a publisher's wrong clock counts as now
        new(s1, "join", "Kherson a year ago, again", same_as=0, published=NOW),
    ])
    assert [x.story.published_at for x in res] == [NOW - timedelta(days=400), NOW,
                                                    NOW - timedelta(days=400)]
    assert {x.story.first_seen_at for x in res} == {NOW}
    for x in res:
        assert x.story == await repo.get_story(x.story.id)


async def test_latest_and_search_order_by_publication_not_by_arrival(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    s1, s2 = await make_sources(store, 2)
    repo = store.news
    fresh = (await repo.add_items([new(s1, "fresh", "Fresh Kherson news", cities=("kherson",),
                                       topics=("energy",),
                                       published=NOW - timedelta(minutes=20))]))[0].story
    # Then a new source's back catalogue arrives: seen after the fresh story, published long
    # before it.
    later = NOW + timedelta(minutes=5)
    old = [x.story for x in await repo.add_items([
        new(s2, f"d{d}", f"Kherson {d} days ago", cities=("kherson",), at=later,
            published=later - timedelta(days=d)) for d in (3, 40, 400)])]
    order = [fresh.id] + [s.id for s in old]
    assert [s.id for s in await repo.latest_by_tag(TagKind.CITY, "kherson", limit=10)] == order
    assert [s.id for s in await repo.latest_by_tag(TagKind.CITY, "kherson", limit=2)] == order[:2]
    mixed = await repo.latest_for([(TagKind.TOPIC, "energy"), (TagKind.CITY, "kherson")],
                                  limit=3)
    assert [s.id for s in mixed] == order[:3]
    # Search scans by arrival and still returns the most recently published, on any page size.
    assert [s.id for s in await repo.search("kherson", limit=10)] == order
    assert [s.id for s in await repo.search("kherson", limit=2)] == order[:2]
    monkeypatch.setattr(news_repo, "_SCAN_PAGE", 1)
    assert [s.id for s in await repo.search("kherson", limit=2)] == order[:2]
    assert [s.id for s in await repo.search("days ago", limit=2)] == order[1:3]
    # A tag the story gains from a later report carries the story's own time: the year-old
    # story does not come first for Odesa because Odesa was mentioned today.
    await repo.add_items([
        new(s1, "news-odesa", "Odesa today", cities=("odesa",), at=later + timedelta(hours=1)),
        new(s1, "join-odesa", "Odesa and Kherson", cities=("odesa",), story_id=old[2].id,
            at=later + timedelta(hours=2))])
    odesa = await repo.latest_by_tag(TagKind.CITY, "odesa")
    assert [s.title for s in odesa] == ["Odesa today", "Kherson 400 days ago"]
    assert odesa[1].published_at == later - timedelta(days=400)
    assert odesa[1].cities == ("kherson", "odesa")


async def test_stories_since_count_what_was_published_in_the_window(store: Store) -> None:
    (s1,) = await make_sources(store, 1)
    repo = store.news
    tags = [(TagKind.CITY, "kherson")]

    async def add(key: str, seen: timedelta, published: timedelta) -> int:
        res = await repo.add_items([new(s1, key, f"Kherson {key}", cities=("kherson",),
                                        at=NOW + seen, published=NOW + published)])
        return res[0].story.id

    before = await add("before", -timedelta(hours=1), -timedelta(hours=1))
    news = await add("news", timedelta(hours=1), timedelta(minutes=50))
    late = await add("late", timedelta(minutes=30), -timedelta(hours=2))  # a slow feed
    old = await add("old", timedelta(hours=2), -timedelta(days=3))  # a back catalogue
    until = NOW + timedelta(hours=12)
    assert [s.id for s, _ in await repo.stories_since(NOW, tags, until=until)] == [news]
    got = await repo.stories_since(NOW, tags, until=until,
                                   published_since=NOW - timedelta(hours=6))
    assert [s.id for s, _ in got] == [news, late]
    wide = await repo.stories_since(NOW - timedelta(hours=2), tags, until=until,
                                    published_since=NOW - timedelta(days=4))
    assert [s.id for s, _ in wide] == [news, before, late, old]


async def test_items_of_a_removed_source_are_left_out_quietly(store: Store) -> None:
    """/removesource while the source's feed was processed: its batch stores nothing and
    raises nothing (before: IntegrityError, FOREIGN KEY constraint failed)."""
    s1, s2 = await make_sources(store, 2)
    repo = store.news
    earlier = await repo.add_items([new(s2, "old", "Power restored in Odesa")])
    assert await store.sources.remove(s1)
    res = await repo.add_items([
        new(s1, "g1", "Shelling in Kherson", cities=("kherson",)),
        new(s1, "g2", "Kherson shelled overnight", same_as=0),
        new(s1, "g3", "Odesa too", story_id=earlier[0].story.id),
    ])
    assert res == []
    assert await repo.existing_keys(["g1", "g2", "g3"]) == set()
    assert await repo.counts_since(NOW - timedelta(hours=1)) == (1, 1)  # no story either
    assert await repo.get_story(earlier[0].story.id) == earlier[0].story


async def test_a_batch_with_a_removed_source_keeps_the_items_of_the_others(store: Store
                                                                          ) -> None:
    s1, s2 = await make_sources(store, 2)
    assert await store.sources.remove(s1)
    res = await store.news.add_items([
        new(s1, "a", "Lead from the removed source"),
        new(s2, "b", "Joins that lead", same_as=0),
        new(s2, "c", "Joins it too", same_as=0),
        new(s2, "d", "A story of its own"),
    ])
    # Positions are those of the batch given; the first item left of the story leads it.
    assert [x.index for x in res] == [1, 2, 3]
    assert [x.new_story for x in res] == [True, False, True]
    assert res[0].story.id == res[1].story.id != res[2].story.id
    assert res[1].story.title == "Joins that lead" and res[1].story.source_count == 1
    assert await store.news.existing_keys(["a", "b", "c", "d"]) == {"b", "c", "d"}
    assert [i.key for i in await store.news.items_of_story(res[0].story.id)] == ["b", "c"]
