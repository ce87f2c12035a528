"""Rows of the news tables to domain values and back (shared by reading and writing)."""

from __future__ import annotations

from typing import Any

from bot.domain import Evidence, Item, Story, TagKind, Tags
from storage.repos.values import aware
from storage.tables import stories

CHUNK = 500  # bound parameters per IN (...) list, far below both backends' limits

STORY_COLS = (stories.c.id, stories.c.title, stories.c.url, stories.c.summary, stories.c.text,
              stories.c.published_at, stories.c.first_seen_at, stories.c.updated_at,
              stories.c.source_count, stories.c.cities, stories.c.topics, stories.c.places)


def tags_to_json(tags: Tags) -> dict[str, Any]:
    return {"cities": list(tags.cities), "topics": list(tags.topics),
            "places": list(tags.places),
            "evidence": [[e.kind.value, e.key, e.term, e.field, e.start, e.end]
                         for e in tags.evidence]}


def tags_from_json(data: Any) -> Tags:
    if not isinstance(data, dict):
        return Tags()
    ev = []
    for e in data.get("evidence") or ():
        try:
            ev.append(Evidence(TagKind(e[0]), str(e[1]), str(e[2]), str(e[3]), int(e[4]),
                               int(e[5])))
        except (ValueError, IndexError, TypeError):
            continue
    return Tags(cities=tuple(data.get("cities") or ()), topics=tuple(data.get("topics") or ()),
                evidence=tuple(ev), places=tuple(data.get("places") or ()))


def story_of_row(row: Any) -> Story:
    return Story(id=row.id, title=row.title, url=row.url, summary=row.summary,
                 published_at=aware(row.published_at),
                 first_seen_at=aware(row.first_seen_at), updated_at=aware(row.updated_at),
                 source_count=row.source_count, cities=tuple(row.cities or ()),
                 topics=tuple(row.topics or ()), text=row.text or "",
                 places=tuple(row.places or ()))


def item_of_row(row: Any) -> Item:
    return Item(id=row.id, source_id=row.source_id, story_id=row.story_id, key=row.key,
                url=row.url, title=row.title, text=row.text, summary=row.summary,
                published_at=aware(row.published_at), fetched_at=aware(row.fetched_at),
                language=row.language, tags=tags_from_json(row.tags))
