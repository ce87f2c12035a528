"""Writing a batch of new items into stories: plain functions of a Connection (see sync_runner).

A batch costs a fixed handful of statements whatever its size: new stories (one multi-row
INSERT ... RETURNING), items (one, ON CONFLICT DO NOTHING for a key another writer stored
meanwhile), story tags (one); and only when items join stories stored earlier: those
stories and their sources (two SELECTs) and their new counts and tags (one executemany
UPDATE). The stories handed back are composed from what was written, not read again.

A source can be removed while its feed is being processed (`/removesource` mid-poll). Its
items then have nowhere to go (the foreign key) and nobody wants them, so the batch first
locks the sources it writes for and leaves out the items of those that are gone: no
IntegrityError, and nothing stored for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, false, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain import CleanItem, Item, Story, TagKind, Tags
from storage.repos.news_rows import (
    CHUNK,
    STORY_COLS,
    story_of_row,
    tags_to_json,
)
from storage.repos.values import aware, chunks
from storage.tables import alert_queue, items, sources, stories, story_tags


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item ready to store, and where it belongs.

    `story_id` attaches it to an existing story; `same_as` to the story of an earlier
    entry of the same batch (its index); neither starts a new story with this item as lead.
    """

    item: CleanItem
    summary: str
    tags: Tags
    fetched_at: datetime
    story_id: int | None = None
    same_as: int | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One inserted item, its story as stored after the batch, and whether the story is new."""

    index: int  # position in the batch given to add_items
    item: Item
    story: Story
    new_story: bool
    grown: bool = False  # an earlier story that this batch brought a new source


_UPDATE_STORY = (
    update(stories).where(stories.c.id == bindparam("b_id"))
    .values(source_count=bindparam("b_count", type_=stories.c.source_count.type),
            cities=bindparam("b_cities", type_=stories.c.cities.type),
            places=bindparam("b_places", type_=stories.c.places.type),
            topics=bindparam("b_topics", type_=stories.c.topics.type),
            updated_at=bindparam("b_updated", type_=stories.c.updated_at.type)))


def existing_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """The subset of `keys` already stored."""
    found: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(keys)), CHUNK):
        found.update(r[0] for r in conn.execute(select(items.c.key).where(items.c.key.in_(chunk))))
    return found


def add_items(conn: Connection, batch: Sequence[NewItem], queue_alerts: bool = True
              ) -> list[StoredItem]:
    """Insert new items; start or join stories; skip keys stored meanwhile and the items of
    sources removed meanwhile. No commit.

    With `queue_alerts`, each new story is also marked in the alert queue (same
    transaction): its followers are owed an alert until AlertService clears the mark."""
    if not batch:
        return []
    wanted = {n.item.source_id for n in batch}
    alive = lock_sources(conn, wanted)
    if alive == wanted:
        return _add_items(conn, batch, queue_alerts)
    kept, positions = drop_gone_sources(batch, alive)
    if not kept:
        return []
    return [replace(st, index=positions[st.index])
            for st in _add_items(conn, kept, queue_alerts)]


def lock_sources(conn: Connection, ids: Iterable[int]) -> set[int]:
    """Those of `ids` whose source exists, kept from deletion until the transaction ends.

    PostgreSQL: FOR KEY SHARE on their rows, so a DELETE of one waits for this transaction
    (the poller's bookkeeping UPDATEs do not). SQLite allows one writer at a time, so this
    transaction takes the write lock first (a DELETE that matches nothing takes it) and no
    other connection can remove a source until it commits.
    """
    if conn.dialect.name == "sqlite":
        conn.execute(delete(sources).where(false()))
    found: set[int] = set()
    for chunk in chunks(sorted(set(ids)), CHUNK):
        found.update(conn.execute(select(sources.c.id).where(sources.c.id.in_(chunk))
                                  .with_for_update(read=True, key_share=True)).scalars())
    return found


def drop_gone_sources(batch: Sequence[NewItem], alive: set[int]
                      ) -> tuple[list[NewItem], list[int]]:
    """The items whose source is in `alive`, and the position in `batch` of each.

    `same_as` is renumbered for the shorter batch; an item whose lead was left out starts
    the story in its place (the first such item), and the others of that story join it.
    """
    kept: list[NewItem] = []
    positions: list[int] = []
    new_pos: dict[int, int] = {}  # position in batch -> position in kept
    for i, n in enumerate(batch):
        if n.item.source_id not in alive:
            continue
        if n.same_as is not None:
            lead = new_pos.get(n.same_as)
            if lead is None:
                new_pos[n.same_as] = len(kept)  # this item leads that story now
            n = replace(n, same_as=lead)
        new_pos[i] = len(kept)
        kept.append(n)
        positions.append(i)
    return kept, positions


def _add_items(conn: Connection, batch: Sequence[NewItem], queue_alerts: bool
               ) -> list[StoredItem]:
    is_sqlite = conn.dialect.name == "sqlite"
    # 1. New stories, one per lead item (ids in row order).
    leads = [i for i, n in enumerate(batch) if n.story_id is None and n.same_as is None]
    story_of: dict[int, int] = {}
    if leads:
        ids = _insert_stories(conn, [_story_row(batch[i]) for i in leads], is_sqlite)
        story_of.update(zip(leads, ids, strict=True))
    for i, n in enumerate(batch):
        if n.story_id is not None:
            story_of[i] = n.story_id
        elif n.same_as is not None:
            story_of[i] = story_of[n.same_as]
    new_story_ids = {story_of[i] for i in leads}

    # 2. Items; a key stored meanwhile (another instance) is skipped, not an error.
    first_of_key: dict[str, int] = {}
    for i, n in enumerate(batch):
        first_of_key.setdefault(n.item.key, i)
    unique_rows = [_item_row(batch[i], story_of[i]) for i in first_of_key.values()]
    dialect = sqlite if is_sqlite else postgresql
    stmt = (dialect.insert(items).on_conflict_do_nothing(index_elements=["key"])
            .returning(items.c.id, items.c.key))
    inserted: dict[str, int] = {}
    for rows in chunks(unique_rows, CHUNK):
        inserted.update((r.key, r.id) for r in conn.execute(stmt, rows))
    ok = [i for i in first_of_key.values() if batch[i].item.key in inserted]
    ok.sort()

    # 3. Stories whose items all lost the race are removed again.
    touched = {story_of[i] for i in ok}
    orphans = new_story_ids - touched
    if orphans:
        conn.execute(delete(stories).where(stories.c.id.in_(list(orphans))))
    # The obligation to alert the new stories' followers is stored with them: a crash or
    # an error before their alerts are queued leaves these marks for the next cycle.
    queued = sorted(new_story_ids - orphans) if queue_alerts else []
    if queued:
        when = aware(max(n.fetched_at for n in batch))
        for part in chunks(queued, CHUNK):
            conn.execute(alert_queue.insert(),
                         [{"story_id": sid, "created_at": when, "grown": False}
                          for sid in part])
    # 4. Counts, tags and times of every story that gained items; the stories as stored.
    lead_of = {story_of[i]: i for i in leads}
    grown: set[int] = set()
    story_rows = _update_stories(conn, batch, ok, story_of, lead_of, is_sqlite, grown)
    # A story stored earlier that more outlets now carry is matched again (same mark):
    # its alerts are edited ("+3 sources"), "important only" follows may now be due.
    if queue_alerts and grown:
        when = aware(max(n.fetched_at for n in batch))
        mark = (sqlite if is_sqlite else postgresql).insert(alert_queue).on_conflict_do_nothing()
        for part in chunks(sorted(grown), CHUNK):
            conn.execute(mark, [{"story_id": sid, "created_at": when, "grown": True}
                                for sid in part])

    out = []
    reported: set[int] = set()
    for i in ok:
        n = batch[i]
        sid = story_of[i]
        story = story_rows.get(sid)
        if story is None:
            continue  # the story was deleted by another writer: its items went with it
        c = n.item
        out.append(StoredItem(
            index=i,
            item=Item(id=inserted[c.key], source_id=c.source_id, story_id=sid, key=c.key,
                      url=c.url, title=c.title, text=c.text, summary=n.summary,
                      published_at=aware(c.published_at), fetched_at=aware(n.fetched_at),
                      language=c.language, tags=n.tags),
            story=story,
            # The first stored item of a new story announces it (normally its lead).
            new_story=sid in new_story_ids and sid not in reported,
            grown=sid in grown,
        ))
        reported.add(sid)
    return out


def _insert_stories(conn: Connection, rows: list[dict[str, Any]], is_sqlite: bool) -> list[int]:
    """Insert stories; return their ids in the order of `rows`."""
    if not is_sqlite:
        res = conn.execute(
            stories.insert().returning(stories.c.id, sort_by_parameter_order=True), rows)
        return list(res.scalars().all())
    # Asked to keep the order, SQLAlchemy sends one INSERT per row on SQLite. Unordered it
    # sends one multi-row INSERT, and SQLite gives an INTEGER PRIMARY KEY table max(id)+1
    # for each row in turn, so the returned ids sorted are the ids in row order.
    res = conn.execute(stories.insert().returning(stories.c.id), rows)
    return sorted(res.scalars().all())


def published_of(n: NewItem) -> datetime:
    """The publication time of a story led by `n`: the item's, never after it was fetched
    (a date in the future counts as the time it was seen)."""
    return min(aware(n.item.published_at), aware(n.fetched_at))


def _story_row(n: NewItem) -> dict[str, Any]:
    c = n.item
    return {"title": c.title, "url": c.url, "summary": n.summary, "text": c.text,
            "published_at": published_of(n),
            "first_seen_at": aware(n.fetched_at), "updated_at": aware(n.fetched_at),
            "source_count": 1, "cities": list(n.tags.cities),
            "topics": list(n.tags.topics), "places": list(n.tags.places),
            "fingerprint": list(c.fingerprint) if c.fingerprint else None}


def _item_row(n: NewItem, story_id: int) -> dict[str, Any]:
    c = n.item
    return {"source_id": c.source_id, "story_id": story_id, "key": c.key,
            "guid": (c.guid or None) and c.guid[:2000], "url": c.url, "title": c.title,
            "text": c.text, "summary": n.summary, "published_at": aware(c.published_at),
            "fetched_at": aware(n.fetched_at), "language": c.language,
            "tags": tags_to_json(n.tags)}


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    out = list(first)
    out.extend(x for x in second if x not in out)
    return out


def _update_stories(conn: Connection, batch: Sequence[NewItem], ok: list[int],
                    story_of: dict[int, int], lead_of: dict[int, int], is_sqlite: bool,
                    grown: set[int] | None = None) -> dict[int, Story]:
    """Write counts, tags and times of the stories that gained items; return them as stored.

    `lead_of` maps the batch's new stories to the position of the item they were made from;
    the earlier stories that gained a source are added to `grown`.
    """
    by_story: dict[int, list[int]] = {}
    for i in ok:
        by_story.setdefault(story_of[i], []).append(i)
    old_ids = [sid for sid in by_story if sid not in lead_of]
    # The old stories as stored, and the sources of their items from before this batch.
    current: dict[int, Story] = {}
    known_sources: dict[int, set[int]] = {sid: set() for sid in old_ids}
    batch_keys = [batch[i].item.key for i in ok]
    for chunk in chunks(old_ids, CHUNK):
        for r in conn.execute(select(*STORY_COLS).where(stories.c.id.in_(chunk))):
            current[r.id] = story_of_row(r)
        pairs = conn.execute(
            select(items.c.story_id, items.c.source_id).distinct()
            .where(items.c.story_id.in_(chunk), items.c.key.not_in(batch_keys)))
        for story_id, source_id in pairs:
            known_sources[story_id].add(source_id)
    out: dict[int, Story] = {}
    updates: list[dict[str, Any]] = []
    tag_rows: list[dict[str, Any]] = []
    for sid, idxs in by_story.items():
        new_sources = {batch[i].item.source_id for i in idxs}
        when = aware(max(batch[i].fetched_at for i in idxs))
        cities: list[str] = []
        topics: list[str] = []
        places: list[str] = []
        for i in idxs:
            cities = _union(cities, batch[i].tags.cities)
            topics = _union(topics, batch[i].tags.topics)
            places = _union(places, batch[i].tags.places)
        if sid in lead_of:
            # The row was made from the lead, stored or not (its key may have lost a race).
            lead = batch[lead_of[sid]]
            c = lead.item
            story = Story(id=sid, title=c.title, url=c.url, summary=lead.summary,
                          published_at=published_of(lead),
                          first_seen_at=aware(lead.fetched_at), updated_at=when,
                          source_count=len(new_sources), cities=tuple(cities),
                          topics=tuple(topics), text=c.text, places=tuple(places))
            fresh_c, fresh_t, fresh_p = cities, topics, places
            changed = idxs != [lead_of[sid]]  # a lone stored lead is already as written
        else:
            row = current.get(sid)
            if row is None:
                continue
            added = new_sources - known_sources[sid]
            story = Story(id=sid, title=row.title, url=row.url, summary=row.summary,
                          published_at=row.published_at,
                          first_seen_at=row.first_seen_at, updated_at=when,
                          source_count=row.source_count + len(added),
                          cities=tuple(_union(row.cities, cities)),
                          topics=tuple(_union(row.topics, topics)), text=row.text,
                          places=tuple(_union(row.places, places)))
            fresh_c = [x for x in cities if x not in row.cities]
            fresh_t = [x for x in topics if x not in row.topics]
            fresh_p = [x for x in places if x not in row.places]
            changed = True
            if added and grown is not None:
                grown.add(sid)
        out[sid] = story
        if changed:
            updates.append({"b_id": sid, "b_count": story.source_count,
                            "b_cities": list(story.cities), "b_topics": list(story.topics),
                            "b_places": list(story.places),
                            "b_updated": aware(when)})
        # A tag carries the story's publication time, also one gained from a later report:
        # /kherson lists the story when it happened, not as new when Kherson is mentioned.
        tag_rows.extend(_tag_rows(sid, fresh_c, fresh_t, story.published_at, fresh_p))
    if updates:
        conn.execute(_UPDATE_STORY, updates)
    if tag_rows:
        dialect = sqlite if is_sqlite else postgresql
        stmt = dialect.insert(story_tags).on_conflict_do_nothing()
        for rows in chunks(tag_rows, CHUNK):
            conn.execute(stmt, rows)
    return out


def _tag_rows(sid: int, cities: Iterable[str], topics: Iterable[str], published: datetime,
              places: Iterable[str] = ()) -> list[dict[str, Any]]:
    at = aware(published)
    return ([{"story_id": sid, "kind": TagKind.CITY.value, "key": c, "published_at": at}
             for c in cities]
            + [{"story_id": sid, "kind": TagKind.TOPIC.value, "key": t, "published_at": at}
               for t in topics]
            # every level: /kharkiv_oblast lists a Balakliia story through its oblast's row
            + [{"story_id": sid, "kind": TagKind.PLACE.value, "key": p, "published_at": at}
               for p in places])
