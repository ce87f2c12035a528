"""Repository for items, stories and story_tags: store items into stories, look them up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain import CleanItem, Evidence, Item, Story, TagKind, Tags
from storage.repos.base import Repo
from storage.tables import items, stories, story_tags

_CHUNK = 500  # bound parameters per IN (...) list, far below both backends' limits
PHRASE_WINDOW = timedelta(days=7)  # how far back phrase lookups and searches scan
_SCAN_PAGE = 500


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


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every datetime Herald sees is aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _db_time(value: datetime) -> datetime:
    """Aware UTC for PostgreSQL; SQLite stores it as text without the offset, compared as text."""
    return _utc(value)


def _chunks(seq: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), _CHUNK):
        yield seq[i:i + _CHUNK]


def tags_to_json(tags: Tags) -> dict[str, Any]:
    return {"cities": list(tags.cities), "topics": list(tags.topics),
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
                evidence=tuple(ev))


def _story(row: Any) -> Story:
    return Story(id=row.id, title=row.title, url=row.url, summary=row.summary,
                 first_seen_at=_utc(row.first_seen_at), updated_at=_utc(row.updated_at),
                 source_count=row.source_count, cities=tuple(row.cities or ()),
                 topics=tuple(row.topics or ()), text=row.text or "")


def _item(row: Any) -> Item:
    return Item(id=row.id, source_id=row.source_id, story_id=row.story_id, key=row.key,
                url=row.url, title=row.title, text=row.text, summary=row.summary,
                published_at=_utc(row.published_at), fetched_at=_utc(row.fetched_at),
                language=row.language, tags=tags_from_json(row.tags))


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    out = list(first)
    out.extend(x for x in second if x not in out)
    return out


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_STORY_COLS = (stories.c.id, stories.c.title, stories.c.url, stories.c.summary, stories.c.text,
               stories.c.first_seen_at, stories.c.updated_at, stories.c.source_count,
               stories.c.cities, stories.c.topics)


class NewsRepo(Repo):
    """items, stories and story_tags (insert new items, attach to stories, latest by tag, search)"""

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if not self.store.is_sqlite else sqlite
        return dialect.insert(table)

    async def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """The subset of `keys` already stored."""
        found: set[str] = set()
        if not keys:
            return found
        unique = list(dict.fromkeys(keys))
        async with self.session.begin() as s:
            for chunk in _chunks(unique):
                rows = await s.execute(select(items.c.key).where(items.c.key.in_(chunk)))
                found.update(r[0] for r in rows)
        return found

    async def add_items(self, batch: Sequence[NewItem]) -> list[StoredItem]:
        """Insert new items in one transaction; start or join stories; skip known keys."""
        if not batch:
            return []
        async with self.session.begin() as s:
            # 1. New stories, one per lead item (bulk insert, ids in parameter order).
            leads = [i for i, n in enumerate(batch) if n.story_id is None and n.same_as is None]
            story_of: dict[int, int] = {}
            if leads:
                rows = [self._story_row(batch[i]) for i in leads]
                for i, sid in zip(leads, await self._insert_stories(s, rows), strict=True):
                    story_of[i] = sid
            for i, n in enumerate(batch):
                if n.story_id is not None:
                    story_of[i] = n.story_id
                elif n.same_as is not None:
                    story_of[i] = story_of[n.same_as]
            new_story_ids = {story_of[i] for i in leads}

            # 2. Items; a key stored meanwhile (another instance) is skipped, not an error.
            item_rows = [self._item_row(n, story_of[i]) for i, n in enumerate(batch)]
            stmt = (self._insert(items).on_conflict_do_nothing(index_elements=["key"])
                    .returning(items.c.id, items.c.key))
            inserted: dict[str, int] = {}
            seen_keys: set[str] = set()
            unique_rows = []
            for row in item_rows:
                if row["key"] not in seen_keys:
                    seen_keys.add(row["key"])
                    unique_rows.append(row)
            for chunk in _chunks(unique_rows):
                res = await s.execute(stmt, list(chunk))
                inserted.update((r.key, r.id) for r in res)
            first_of_key: dict[str, int] = {}
            for i, row in enumerate(item_rows):
                first_of_key.setdefault(row["key"], i)
            ok = [i for i, row in enumerate(item_rows)
                  if first_of_key[row["key"]] == i and row["key"] in inserted]

            # 3. Stories whose items all lost the race are removed again.
            touched = {story_of[i] for i in ok}
            orphans = new_story_ids - touched
            if orphans:
                await s.execute(delete(stories).where(stories.c.id.in_(list(orphans))))
            # 4. Source counts, tags and timestamps of every story that gained items.
            await self._update_stories(s, batch, ok, story_of, new_story_ids)
            # 5. Read back what the caller needs; a new story with just its lead is known.
            story_rows: dict[int, Story] = {}
            per_story: dict[int, int] = {}
            for i in ok:
                per_story[story_of[i]] = per_story.get(story_of[i], 0) + 1
            ok_set = set(ok)
            for i in leads:
                sid = story_of[i]
                if i in ok_set and per_story.get(sid) == 1:
                    story_rows[sid] = self._new_story(sid, batch[i])
            for chunk in _chunks(sorted(touched - story_rows.keys())):
                res = await s.execute(select(*_STORY_COLS).where(stories.c.id.in_(chunk)))
                story_rows.update({r.id: _story(r) for r in res})
        out = []
        reported: set[int] = set()
        for i in ok:
            n = batch[i]
            sid = story_of[i]
            c = n.item
            out.append(StoredItem(
                index=i,
                item=Item(id=inserted[c.key], source_id=c.source_id, story_id=sid, key=c.key,
                          url=c.url, title=c.title, text=c.text, summary=n.summary,
                          published_at=_utc(c.published_at), fetched_at=_utc(n.fetched_at),
                          language=c.language, tags=n.tags),
                story=story_rows[sid],
                # The first stored item of a new story announces it (normally its lead).
                new_story=sid in new_story_ids and sid not in reported,
            ))
            reported.add(sid)
        return out

    async def _insert_stories(self, s: Any, rows: list[dict[str, Any]]) -> list[int]:
        """Insert stories; return their ids in the order of `rows`."""
        if not self.store.is_sqlite:
            res = await s.execute(
                stories.insert().returning(stories.c.id, sort_by_parameter_order=True), rows)
            return list(res.scalars().all())
        # Asked to keep the order, SQLAlchemy sends one INSERT per row on SQLite. Unordered it
        # sends one multi-row INSERT, and SQLite gives an INTEGER PRIMARY KEY table max(id)+1
        # for each row in turn, so the returned ids sorted are the ids in row order.
        res = await s.execute(stories.insert().returning(stories.c.id), rows)
        return sorted(res.scalars().all())

    @staticmethod
    def _new_story(sid: int, n: NewItem) -> Story:
        c = n.item
        at = _utc(n.fetched_at)
        return Story(id=sid, title=c.title, url=c.url, summary=n.summary, first_seen_at=at,
                     updated_at=at, source_count=1, cities=tuple(n.tags.cities),
                     topics=tuple(n.tags.topics), text=c.text)

    @staticmethod
    def _story_row(n: NewItem) -> dict[str, Any]:
        c = n.item
        return {"title": c.title, "url": c.url, "summary": n.summary, "text": c.text,
                "first_seen_at": _db_time(n.fetched_at), "updated_at": _db_time(n.fetched_at),
                "source_count": 1, "cities": list(n.tags.cities),
                "topics": list(n.tags.topics),
                "fingerprint": list(c.fingerprint) if c.fingerprint else None}

    @staticmethod
    def _item_row(n: NewItem, story_id: int) -> dict[str, Any]:
        c = n.item
        return {"source_id": c.source_id, "story_id": story_id, "key": c.key,
                "guid": (c.guid or None) and c.guid[:2000], "url": c.url, "title": c.title,
                "text": c.text, "summary": n.summary, "published_at": _db_time(c.published_at),
                "fetched_at": _db_time(n.fetched_at), "language": c.language,
                "tags": tags_to_json(n.tags)}

    async def _update_stories(self, s: Any, batch: Sequence[NewItem], ok: list[int],
                              story_of: dict[int, int], new_story_ids: set[int]) -> None:
        by_story: dict[int, list[int]] = {}
        for i in ok:
            by_story.setdefault(story_of[i], []).append(i)
        old_ids = [sid for sid in by_story if sid not in new_story_ids]
        # Sources already on the old stories (items stored before this batch).
        known_sources: dict[int, set[int]] = {sid: set() for sid in old_ids}
        current: dict[int, Any] = {}
        batch_keys = [batch[i].item.key for i in ok]
        for chunk in _chunks(old_ids):
            res = await s.execute(
                select(items.c.story_id, items.c.source_id).distinct()
                .where(items.c.story_id.in_(chunk), items.c.key.not_in(batch_keys)))
            for r in res:
                known_sources[r.story_id].add(r.source_id)
            res = await s.execute(
                select(stories.c.id, stories.c.source_count, stories.c.cities,
                       stories.c.topics).where(stories.c.id.in_(chunk)))
            current.update({r.id: r for r in res})
        tag_rows: list[dict[str, Any]] = []
        for sid, idxs in by_story.items():
            new_sources = {batch[i].item.source_id for i in idxs}
            when = max(batch[i].fetched_at for i in idxs)
            cities: list[str] = []
            topics: list[str] = []
            for i in idxs:
                cities = _union(cities, batch[i].tags.cities)
                topics = _union(topics, batch[i].tags.topics)
            if sid in new_story_ids:
                if len(idxs) == 1:
                    tag_rows.extend(self._tag_rows(sid, cities, topics, when))
                    continue
                # Several items of this batch form the new story: count their sources.
                await s.execute(update(stories).where(stories.c.id == sid).values(
                    source_count=len(new_sources), cities=cities, topics=topics,
                    updated_at=_db_time(when)))
                tag_rows.extend(self._tag_rows(sid, cities, topics, when))
                continue
            row = current.get(sid)
            if row is None:
                continue
            added = new_sources - known_sources[sid]
            all_cities = _union(row.cities or (), cities)
            all_topics = _union(row.topics or (), topics)
            await s.execute(update(stories).where(stories.c.id == sid).values(
                source_count=row.source_count + len(added), cities=all_cities,
                topics=all_topics, updated_at=_db_time(when)))
            fresh_c = [c for c in cities if c not in (row.cities or ())]
            fresh_t = [t for t in topics if t not in (row.topics or ())]
            tag_rows.extend(self._tag_rows(sid, fresh_c, fresh_t, when))
        if tag_rows:
            stmt = self._insert(story_tags).on_conflict_do_nothing()
            for chunk in _chunks(tag_rows):
                await s.execute(stmt, list(chunk))

    @staticmethod
    def _tag_rows(sid: int, cities: Iterable[str], topics: Iterable[str], when: datetime
                  ) -> list[dict[str, Any]]:
        at = _db_time(when)
        return ([{"story_id": sid, "kind": TagKind.CITY.value, "key": c, "seen_at": at}
                 for c in cities]
                + [{"story_id": sid, "kind": TagKind.TOPIC.value, "key": t, "seen_at": at}
                   for t in topics])

    # --- reading ----------------------------------------------------------------------

    async def recent_fingerprints(self, since: datetime
                                  ) -> list[tuple[int, tuple[int, ...], datetime]]:
        """(story id, fingerprint, lead publication time) of stories first seen since `since`."""
        published = (select(func.min(items.c.published_at))
                     .where(items.c.story_id == stories.c.id).scalar_subquery())
        async with self.session.begin() as s:
            res = await s.execute(
                select(stories.c.id, stories.c.fingerprint, stories.c.first_seen_at,
                       published.label("published"))
                .where(stories.c.first_seen_at >= _db_time(since))
                .order_by(stories.c.first_seen_at))
            return [(r.id, tuple(r.fingerprint), _utc(r.published or r.first_seen_at))
                    for r in res if r.fingerprint]

    async def get_story(self, story_id: int) -> Story | None:
        async with self.session.begin() as s:
            row = (await s.execute(select(*_STORY_COLS).where(stories.c.id == story_id))).first()
        return _story(row) if row else None

    async def _stories_by_ids(self, s: Any, ids: Sequence[int]) -> dict[int, Story]:
        out: dict[int, Story] = {}
        for chunk in _chunks(list(ids)):
            res = await s.execute(select(*_STORY_COLS).where(stories.c.id.in_(chunk)))
            out.update({r.id: _story(r) for r in res})
        return out

    async def latest_by_tag(self, kind: TagKind, key: str, limit: int = 5) -> list[Story]:
        """Most recently tagged stories for a city or topic; phrases search title and text."""
        if TagKind(kind) is TagKind.PHRASE:
            return await self.search(key, limit=limit)
        async with self.session.begin() as s:
            res = await s.execute(
                select(*_STORY_COLS).join(story_tags, story_tags.c.story_id == stories.c.id)
                .where(story_tags.c.kind == TagKind(kind).value, story_tags.c.key == key)
                .order_by(story_tags.c.seen_at.desc(), stories.c.id.desc()).limit(limit))
            return [_story(r) for r in res]

    async def latest_for(self, tags: Sequence[tuple[TagKind, str]], limit: int = 10
                         ) -> list[Story]:
        """Latest stories matching any of the tags (a chat's subscriptions), newest first."""
        seen: dict[int, datetime] = {}
        phrases = [key for kind, key in tags if TagKind(kind) is TagKind.PHRASE]
        async with self.session.begin() as s:
            # One index range per tag (kind, key, seen_at): cost does not grow with history.
            for kind, key in tags:
                if TagKind(kind) is TagKind.PHRASE:
                    continue
                res = await s.execute(
                    select(story_tags.c.story_id, story_tags.c.seen_at)
                    .where(story_tags.c.kind == TagKind(kind).value, story_tags.c.key == key)
                    .order_by(story_tags.c.seen_at.desc()).limit(limit))
                for r in res:
                    at = _utc(r.seen_at)
                    if r.story_id not in seen or seen[r.story_id] < at:
                        seen[r.story_id] = at
            found = await self._stories_by_ids(s, list(seen))
        for phrase in phrases:
            for story in await self.search(phrase, limit=limit):
                found.setdefault(story.id, story)
                seen.setdefault(story.id, story.updated_at)
        ordered = sorted(found.values(), key=lambda st: (seen.get(st.id, st.updated_at), st.id),
                         reverse=True)
        return ordered[:limit]

    async def search(self, words: str, limit: int = 5, since: datetime | None = None
                     ) -> list[Story]:
        """Recent stories whose title or text contains all the words (case-insensitive)."""
        terms = [w.casefold() for w in words.split() if w.strip()]
        if not terms:
            return []
        if since is None:
            latest = await self._latest_seen()
            if latest is None:
                return []
            since = latest - PHRASE_WINDOW
        conds = []
        for t in terms:
            if not self.store.is_sqlite:
                variants = [t]  # ILIKE folds every script
            elif t.isascii():
                variants = [t]  # SQLite's LIKE folds ASCII
            else:
                # SQLite's LIKE compares other scripts exactly: ask for the spellings text
                # uses (lower, Capitalized, UPPER); Python below applies the real rule.
                variants = list(dict.fromkeys([t, t.capitalize(), t.title(), t.upper()]))
            conds.append(or_(*[self._contains(col, v) for v in variants
                               for col in (stories.c.title, stories.c.text)]))
        out: list[Story] = []
        before: tuple[datetime, int] | None = None
        async with self.session.begin() as s:
            while len(out) < limit:
                q = select(*_STORY_COLS).where(stories.c.first_seen_at >= _db_time(since), *conds)
                if before is not None:
                    q = q.where(or_(stories.c.first_seen_at < _db_time(before[0]),
                                    and_(stories.c.first_seen_at == _db_time(before[0]),
                                         stories.c.id < before[1])))
                q = q.order_by(stories.c.first_seen_at.desc(), stories.c.id.desc()
                               ).limit(_SCAN_PAGE)
                rows = (await s.execute(q)).all()
                for r in rows:
                    hay = f"{r.title}\n{r.text}".casefold()
                    if all(t in hay for t in terms):
                        out.append(_story(r))
                        if len(out) >= limit:
                            break
                if len(rows) < _SCAN_PAGE:
                    break
                before = (_utc(rows[-1].first_seen_at), rows[-1].id)
        return out

    def _contains(self, col: Any, word: str) -> Any:
        pattern = _like_pattern(word)
        if self.store.is_sqlite:
            return col.like(pattern, escape="\\")
        return col.ilike(pattern, escape="\\")

    async def _latest_seen(self) -> datetime | None:
        async with self.session.begin() as s:
            value = (await s.execute(select(func.max(stories.c.first_seen_at)))).scalar()
        return _utc(value) if value is not None else None

    async def stories_since(self, since: datetime, tags: Sequence[tuple[TagKind, str]],
                            until: datetime | None = None, limit: int = 200
                            ) -> list[tuple[Story, tuple[tuple[TagKind, str], ...]]]:
        """Stories first seen in [since, until) that match any tag, with the tags matched."""
        matched: dict[int, list[tuple[TagKind, str]]] = {}
        async with self.session.begin() as s:
            for kind, key in tags:
                kind = TagKind(kind)
                if kind is TagKind.PHRASE:
                    continue
                q = (select(story_tags.c.story_id)
                     .join(stories, stories.c.id == story_tags.c.story_id)
                     .where(story_tags.c.kind == kind.value, story_tags.c.key == key,
                            story_tags.c.seen_at >= _db_time(since),
                            stories.c.first_seen_at >= _db_time(since)))
                if until is not None:
                    q = q.where(stories.c.first_seen_at < _db_time(until))
                for r in await s.execute(q.limit(limit * 5)):
                    matched.setdefault(r.story_id, []).append((kind, key))
            found = await self._stories_by_ids(s, list(matched))
        for kind, key in tags:
            if TagKind(kind) is not TagKind.PHRASE:
                continue
            for story in await self.search(key, limit=limit, since=since):
                if until is not None and story.first_seen_at >= until:
                    continue
                found.setdefault(story.id, story)
                matched.setdefault(story.id, []).append((TagKind.PHRASE, key))
        ordered = sorted(found.values(), key=lambda st: (st.first_seen_at, st.id), reverse=True)
        return [(st, tuple(dict.fromkeys(matched[st.id]))) for st in ordered[:limit]]

    async def items_of_story(self, story_id: int) -> list[Item]:
        """The story's items, oldest first (the lead first)."""
        async with self.session.begin() as s:
            res = await s.execute(select(items).where(items.c.story_id == story_id)
                                  .order_by(items.c.fetched_at, items.c.id))
            return [_item(r) for r in res]

    async def item_by_url(self, url: str) -> Item | None:
        """The newest item with this canonical URL."""
        async with self.session.begin() as s:
            row = (await s.execute(select(items).where(items.c.url == url)
                                   .order_by(items.c.id.desc()).limit(1))).first()
        return _item(row) if row else None

    async def counts_since(self, since: datetime) -> tuple[int, int]:
        """(items fetched, stories first seen) since `since`."""
        async with self.session.begin() as s:
            n_items = (await s.execute(select(func.count()).select_from(items)
                                       .where(items.c.fetched_at >= _db_time(since)))).scalar()
            n_stories = (await s.execute(select(func.count()).select_from(stories)
                                         .where(stories.c.first_seen_at >= _db_time(since)))
                         ).scalar()
        return int(n_items or 0), int(n_stories or 0)
