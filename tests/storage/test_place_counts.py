"""NewsRepo.place_counts_since: stories per place code in a window (the /map counts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import CleanItem, SourceConfig, Tags
from storage.repos.news import NewItem
from storage.store import Store

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
KHARKIV, IZIUM_RAION, KHERSON, ODESA = ("UA63000000000041885", "UA63040000000023521",
                                        "UA65000000000030969", "UA51000000000030770")


def _item(source_id: int, key: str, places: tuple[str, ...], published: datetime,
          story_id: int | None = None) -> NewItem:
    item = CleanItem(source_id=source_id, key=key, guid=key, url=f"https://x.org/{key}",
                     title=f"Story {key}", text=f"Story {key}. More words.",
                     published_at=published, language="uk", fingerprint=(1, 2, 3))
    return NewItem(item=item, summary="s", tags=Tags(places=places), fetched_at=published,
                   story_id=story_id)


async def test_counts_stories_per_code_in_the_window(store: Store) -> None:
    src = await store.sources.add(SourceConfig(name="S", url="https://s.example.org/rss"),
                                  now=NOW)
    old = NOW - timedelta(hours=25)
    stored = await store.news.add_items([
        _item(src.id, "a", (IZIUM_RAION, KHARKIV), NOW - timedelta(hours=1)),
        _item(src.id, "b", (KHARKIV,), NOW - timedelta(hours=23)),
        _item(src.id, "c", (KHERSON,), NOW - timedelta(minutes=5)),
        _item(src.id, "d", (KHERSON,), old),  # older than the window
    ])
    # A second item of story "a" (another source's copy) does not count the story twice.
    await store.news.add_items([_item(src.id, "a2", (KHARKIV,), NOW, stored[0].story.id)])
    since = NOW - timedelta(hours=24)
    counts = await store.news.place_counts_since(since, [KHARKIV, KHERSON, ODESA])
    assert counts == {KHARKIV: 2, KHERSON: 1}
    assert await store.news.place_counts_since(since, [IZIUM_RAION]) == {IZIUM_RAION: 1}
    assert await store.news.place_counts_since(since, []) == {}
    assert await store.news.place_counts_since(old - timedelta(minutes=1), [KHERSON]) == {
        KHERSON: 2}
