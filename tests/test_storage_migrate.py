from __future__ import annotations

from storage.migrate import current
from storage.store import Store


async def test_migrate_is_idempotent(db_url: str) -> None:
    s = await Store.open(db_url)
    await s.close()
    s = await Store.open(db_url)
    try:
        assert await current(s.engine) is not None
    finally:
        await s.close()


async def test_migrations_match_the_tables(db_url: str) -> None:
    """The migrated schema is exactly storage.tables: a changed table needs a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.tables import metadata

    s = await Store.open(db_url)
    try:
        async with s.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(
                    c, opts={"compare_type": True}), metadata))
    finally:
        await s.close()
    assert diff == []


async def test_0003_gives_stories_and_their_tags_a_publication_time(db_url: str) -> None:
    """Stories stored before 0003 get their earliest item's publication time, never later
    than when they were first seen; their tags take the story's time."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import JSON, DateTime, column, insert, select, table

    from bot.domain import TagKind
    from storage.migrate import upgrade
    from storage.repos.values import aware

    ts = DateTime(timezone=True)  # typed, so each backend gets the format Herald writes
    sources = table("sources", column("id"), column("name"), column("url"),
                    column("language"), column("cities", JSON), column("topics", JSON),
                    column("poll_interval"), column("paused"), column("origin"),
                    column("failure_count"), column("created_at", ts))
    stories = table("stories", column("id"), column("title"), column("summary"),
                    column("text"), column("first_seen_at", ts), column("updated_at", ts),
                    column("source_count"), column("cities", JSON), column("topics", JSON))
    items = table("items", column("id"), column("source_id"), column("story_id"),
                  column("key"), column("title"), column("text"), column("summary"),
                  column("published_at", ts), column("fetched_at", ts), column("language"),
                  column("tags", JSON))
    tags_before = table("story_tags", column("story_id"), column("kind"), column("key"),
                        column("seen_at", ts))
    tags_after = table("story_tags", column("story_id"), column("published_at", ts))
    stories_after = table("stories", column("id"), column("published_at", ts))

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    s = await Store.open(db_url, migrate=False)
    try:
        await upgrade(s.engine, "0002")
        async with s.engine.begin() as conn:
            await conn.execute(insert(sources).values(
                id=1, name="S", url="https://s.example/rss", language="en", cities=[],
                topics=[], poll_interval=600, paused=False, origin="config", failure_count=0,
                created_at=now))
            for sid in (1, 2, 3):
                await conn.execute(insert(stories).values(
                    id=sid, title="t", summary="", text="", first_seen_at=now, updated_at=now,
                    source_count=1, cities=[], topics=[]))
                await conn.execute(insert(tags_before).values(
                    story_id=sid, kind="city", key="kherson", seen_at=now))
            # Story 1: two items, the earlier published 3 days ago. Story 2: an item dated
            # after it was seen (a wrong clock). Story 3: no items.
            published = [(1, now - timedelta(days=1)), (1, now - timedelta(days=3)),
                         (2, now + timedelta(hours=1))]
            for n, (sid, at) in enumerate(published, 1):
                await conn.execute(insert(items).values(
                    id=n, source_id=1, story_id=sid, key=f"k{n}", title="t", text="",
                    summary="", published_at=at, fetched_at=now, language="en", tags={}))
        await upgrade(s.engine)
        async with s.engine.connect() as conn:
            rows = (await conn.execute(
                select(stories_after.c.id, stories_after.c.published_at,
                       tags_after.c.published_at.label("tagged"))
                .join(tags_after, tags_after.c.story_id == stories_after.c.id))).all()
        got = {r.id: (aware(r.published_at), aware(r.tagged)) for r in rows}
        assert got == {1: (now - timedelta(days=3),) * 2, 2: (now, now), 3: (now, now)}
        latest = await s.news.latest_by_tag(TagKind.CITY, "kherson")
        assert [(x.id, x.published_at) for x in latest] == [
            (3, now), (2, now), (1, now - timedelta(days=3))]
        assert len(await s.news.items_of_story(1)) == 2  # nothing lost on the way
    finally:
        await s.close()
