"""Items whose text changed at the source (an edited Telegram post): plain functions of a
Connection (see sync_runner), run in one transaction.

An edit updates the item (title, text, summary, tags) and, when the item leads its story,
the story's title, summary and text; the story gains the edit's new cities, topics and
places (as a story does when another report joins it) and loses none. Nothing is queued
for alerts: the story was announced when it was new, and is never announced twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain import TagKind, Tags
from storage.repos.news_rows import CHUNK, tags_to_json
from storage.repos.values import aware, chunks
from storage.tables import items, stories, story_tags


@dataclass(frozen=True, slots=True)
class ItemEdit:
    """The new content of a stored item (found by its key)."""

    key: str
    title: str
    text: str
    summary: str
    tags: Tags


def item_contents(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
    """(title, text) of each of `keys` that is stored."""
    out: dict[str, tuple[str, str]] = {}
    for chunk in chunks(list(dict.fromkeys(keys)), CHUNK):
        for r in conn.execute(select(items.c.key, items.c.title, items.c.text)
                              .where(items.c.key.in_(chunk))):
            out[r.key] = (r.title, r.text or "")
    return out


def _union(first: Sequence[str], second: Sequence[str]) -> list[str]:
    out = list(first)
    out.extend(x for x in second if x not in out)
    return out


@dataclass(frozen=True, slots=True)
class EditedItem:
    """An item updated by update_items: its story, and whether it leads it."""

    key: str
    story_id: int
    lead: bool


def update_items(conn: Connection, edits: Sequence[ItemEdit]) -> list[EditedItem]:
    """Apply the edits; return the items updated. No commit."""
    done: list[EditedItem] = []
    insert = (sqlite if conn.dialect.name == "sqlite" else postgresql).insert
    for e in edits:
        row = conn.execute(select(items.c.id, items.c.story_id, items.c.url)
                           .where(items.c.key == e.key)).first()
        if row is None:
            continue  # removed meanwhile (its source was removed)
        conn.execute(update(items).where(items.c.id == row.id).values(
            title=e.title, text=e.text, summary=e.summary, tags=tags_to_json(e.tags)))
        story = conn.execute(select(stories.c.url, stories.c.cities, stories.c.topics,
                                    stories.c.places, stories.c.published_at)
                             .where(stories.c.id == row.story_id)).first()
        if story is None:
            continue
        lead = story.url is not None and story.url == row.url
        done.append(EditedItem(e.key, row.story_id, lead))
        values: dict[str, Any] = {
            "cities": _union(story.cities or [], e.tags.cities),
            "topics": _union(story.topics or [], e.tags.topics),
            "places": _union(story.places or [], e.tags.places)}
        if lead:
            values.update(title=e.title, text=e.text, summary=e.summary)
        conn.execute(update(stories).where(stories.c.id == row.story_id).values(values))
        at = aware(story.published_at)
        tag_rows = (
            [{"story_id": row.story_id, "kind": TagKind.CITY.value, "key": k,
              "published_at": at} for k in values["cities"]]
            + [{"story_id": row.story_id, "kind": TagKind.TOPIC.value, "key": k,
                "published_at": at} for k in values["topics"]]
            + [{"story_id": row.story_id, "kind": TagKind.PLACE.value, "key": k,
                "published_at": at} for k in values["places"]])
        for part in chunks(tag_rows, CHUNK):
            conn.execute(insert(story_tags).on_conflict_do_nothing(), part)
    return done
