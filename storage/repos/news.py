"""Repository for items, stories and story_tags: store items into stories, look them up."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, func, or_, select

from bot.domain import Item, Story, TagKind
from storage.repos import item_edits, story_writer
from storage.repos.base import Repo
from storage.repos.item_edits import EditedItem, ItemEdit
from storage.repos.news_rows import (
    CHUNK,
    STORY_COLS,
    item_of_row,
    story_of_row,
)
from storage.repos.story_writer import NewItem, StoredItem
from storage.repos.values import aware, chunks
from storage.tables import alert_queue, items, sources, stories, story_tags

PHRASE_WINDOW = timedelta(days=7)  # how far back phrase lookups and searches scan
_SCAN_PAGE = 500

__all__ = ["PHRASE_WINDOW", "EditedItem", "ItemEdit", "NewItem", "NewsRepo", "StoredItem"]


def _newest(stories: Iterable[Story], limit: int) -> list[Story]:
    """The `limit` most recently published stories, newest first."""
    return sorted(stories, key=lambda st: (st.published_at, st.id), reverse=True)[:limit]


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"



class IndexedStory(NamedTuple):
    """A stored story as the near-duplicate index needs it after a restart."""

    id: int
    fingerprint: tuple[int, ...]
    published_at: datetime
    cities: tuple[str, ...]
    places: tuple[str, ...]


class NewsRepo(Repo):
    """items, stories and story_tags (insert new items, attach to stories, latest by tag, search)"""

    async def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """The subset of `keys` already stored."""
        if not keys:
            return set()
        return await self.store.sync.transaction(story_writer.existing_keys, keys)

    async def add_items(self, batch: Sequence[NewItem], *, queue_alerts: bool = True
                        ) -> list[StoredItem]:
        """Insert new items in one transaction; start or join stories; skip known keys;
        mark new stories as owed their alerts (unless not `queue_alerts`)."""
        if not batch:
            return []
        return await self.store.sync.transaction(story_writer.add_items, batch, queue_alerts)

    async def item_contents(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """(title, text) of each of `keys` that is stored."""
        if not keys:
            return {}
        return await self.store.sync.transaction(item_edits.item_contents, keys)

    async def update_items(self, edits: Sequence[ItemEdit]) -> list[EditedItem]:
        """Store the new content of edited items (and of the stories they lead) in one
        transaction, queueing no alert; the items updated."""
        if not edits:
            return []
        return await self.store.sync.transaction(item_edits.update_items, edits)

    # --- the alert queue: stories whose followers are not matched yet ------------------

    async def pending_alerts(self, limit: int = 100) -> list[Story]:
        """Stories still waiting for their alerts to be queued, oldest first."""
        async with self.session.begin() as s:
            ids = list((await s.execute(
                select(alert_queue.c.story_id)
                .order_by(alert_queue.c.created_at, alert_queue.c.story_id).limit(limit)
            )).scalars())
            found = await self._stories_by_ids(s, ids)
        return [found[i] for i in ids if i in found]

    async def grown_marks(self, story_ids: Sequence[int]) -> set[int]:
        """Those of the stories whose mark is for growth (matched before, gained an outlet),
        not for being new."""
        found: set[int] = set()
        async with self.session.begin() as s:
            for part in chunks(sorted(set(story_ids)), CHUNK):
                found.update((await s.execute(select(alert_queue.c.story_id).where(
                    alert_queue.c.story_id.in_(part), alert_queue.c.grown.is_(True)))).scalars())
        return found

    async def alerts_queued(self, story_ids: Sequence[int]) -> None:
        """The alerts of these stories are in the outbox: drop their marks."""
        if not story_ids:
            return
        async with self.session.begin() as s:
            for part in chunks(list(story_ids), CHUNK):
                await s.execute(delete(alert_queue).where(alert_queue.c.story_id.in_(part)))

    async def pending_alerts_since(self) -> tuple[int, datetime | None]:
        """(stories waiting for their alerts, when the oldest of them was stored)."""
        async with self.session.begin() as s:
            n, oldest = (await s.execute(
                select(func.count(), func.min(alert_queue.c.created_at)))).one()
        return int(n or 0), aware(oldest) if oldest is not None else None

    # --- reading ----------------------------------------------------------------------

    async def recent_fingerprints(self, since: datetime) -> list[IndexedStory]:
        """What the near-duplicate index keeps of the stories first seen since `since`."""
        async with self.session.begin() as s:
            res = await s.execute(
                select(stories.c.id, stories.c.fingerprint, stories.c.published_at,
                       stories.c.cities, stories.c.places)
                .where(stories.c.first_seen_at >= aware(since))
                .order_by(stories.c.first_seen_at))
            return [IndexedStory(r.id, tuple(r.fingerprint), aware(r.published_at),
                                 tuple(r.cities or ()), tuple(r.places or ()))
                    for r in res if r.fingerprint]

    async def get_story(self, story_id: int) -> Story | None:
        async with self.session.begin() as s:
            row = (await s.execute(select(*STORY_COLS).where(stories.c.id == story_id))).first()
        return story_of_row(row) if row else None

    async def _stories_by_ids(self, s: Any, ids: Sequence[int]) -> dict[int, Story]:
        out: dict[int, Story] = {}
        for chunk in chunks(list(ids), CHUNK):
            res = await s.execute(select(*STORY_COLS).where(stories.c.id.in_(chunk)))
            out.update({r.id: story_of_row(r) for r in res})
        return out

    async def latest_by_tag(self, kind: TagKind, key: str, limit: int = 5) -> list[Story]:
        """The most recently published stories about a city or topic; phrases search title
        and text."""
        if TagKind(kind) is TagKind.PHRASE:
            return await self.search(key, limit=limit)
        async with self.session.begin() as s:
            res = await s.execute(
                select(*STORY_COLS).join(story_tags, story_tags.c.story_id == stories.c.id)
                .where(story_tags.c.kind == TagKind(kind).value, story_tags.c.key == key)
                .order_by(story_tags.c.published_at.desc(), stories.c.id.desc()).limit(limit))
            return [story_of_row(r) for r in res]

    async def latest_for(self, tags: Sequence[tuple[TagKind, str]], limit: int = 10
                         ) -> list[Story]:
        """Latest stories matching any of the tags (a chat's subscriptions), the most recently
        published first."""
        ids: set[int] = set()
        phrases = [key for kind, key in tags if TagKind(kind) is TagKind.PHRASE]
        async with self.session.begin() as s:
            # One index range per tag (kind, key, published_at): cost does not grow with
            # history.
            for kind, key in tags:
                if TagKind(kind) is TagKind.PHRASE:
                    continue
                res = await s.execute(
                    select(story_tags.c.story_id)
                    .where(story_tags.c.kind == TagKind(kind).value, story_tags.c.key == key)
                    .order_by(story_tags.c.published_at.desc()).limit(limit))
                ids.update(res.scalars())
            found = await self._stories_by_ids(s, list(ids))
        for phrase in phrases:
            for story in await self.search(phrase, limit=limit):
                found.setdefault(story.id, story)
        return _newest(found.values(), limit)

    async def search(self, words: str, limit: int = 5, since: datetime | None = None
                     ) -> list[Story]:
        """Stories first seen since `since` (default: a week before the newest) whose title or
        text contains all the words (case-insensitive), the most recently published first."""
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
        # The scan walks the first_seen_at index, newest first. A story is never published
        # after it was first seen, so once `limit` matches were published after the row the
        # scan stands on, no row further down can rank among them.
        best: list[tuple[datetime, int, Story]] = []  # the `limit` newest matches, a heap
        before: tuple[datetime, int] | None = None
        async with self.session.begin() as s:
            while True:
                q = select(*STORY_COLS).where(stories.c.first_seen_at >= aware(since), *conds)
                if before is not None:
                    q = q.where(or_(stories.c.first_seen_at < aware(before[0]),
                                    and_(stories.c.first_seen_at == aware(before[0]),
                                         stories.c.id < before[1])))
                q = q.order_by(stories.c.first_seen_at.desc(), stories.c.id.desc()
                               ).limit(_SCAN_PAGE)
                rows = (await s.execute(q)).all()
                done = len(rows) < _SCAN_PAGE
                for r in rows:
                    hay = f"{r.title}\n{r.text}".casefold()
                    if all(t in hay for t in terms):
                        story = story_of_row(r)
                        entry = (story.published_at, story.id, story)
                        if len(best) < limit:
                            heapq.heappush(best, entry)
                        elif entry[:2] > best[0][:2]:
                            heapq.heapreplace(best, entry)
                    if len(best) >= limit and best[0][0] > aware(r.first_seen_at):
                        done = True
                        break
                if done or not rows:
                    break
                before = (aware(rows[-1].first_seen_at), rows[-1].id)
        return _newest((story for _, _, story in best), limit)

    def _contains(self, col: Any, word: str) -> Any:
        pattern = _like_pattern(word)
        if self.store.is_sqlite:
            return col.like(pattern, escape="\\")
        return col.ilike(pattern, escape="\\")

    async def _latest_seen(self) -> datetime | None:
        async with self.session.begin() as s:
            value = (await s.execute(select(func.max(stories.c.first_seen_at)))).scalar()
        return aware(value) if value is not None else None

    async def stories_since(self, since: datetime, tags: Sequence[tuple[TagKind, str]],
                            until: datetime | None = None, limit: int = 200, *,
                            published_since: datetime | None = None
                            ) -> list[tuple[Story, tuple[tuple[TagKind, str], ...]]]:
        """Stories first seen in [since, until) and published at or after `published_since`
        (default: `since`) that match any tag, with the tags matched, the most recently
        published first."""
        floor = aware(published_since if published_since is not None else since)
        matched: dict[int, list[tuple[TagKind, str]]] = {}
        async with self.session.begin() as s:
            for kind, key in tags:
                kind = TagKind(kind)
                if kind is TagKind.PHRASE:
                    continue
                # One index range per tag (kind, key, published_at), newest first.
                q = (select(story_tags.c.story_id)
                     .join(stories, stories.c.id == story_tags.c.story_id)
                     .where(story_tags.c.kind == kind.value, story_tags.c.key == key,
                            story_tags.c.published_at >= floor,
                            stories.c.first_seen_at >= aware(since)))
                if until is not None:
                    q = q.where(stories.c.first_seen_at < aware(until))
                q = q.order_by(story_tags.c.published_at.desc()).limit(limit * 5)
                for r in await s.execute(q):
                    matched.setdefault(r.story_id, []).append((kind, key))
            found = await self._stories_by_ids(s, list(matched))
        for kind, key in tags:
            if TagKind(kind) is not TagKind.PHRASE:
                continue
            for story in await self.search(key, limit=limit, since=since):
                if until is not None and story.first_seen_at >= until:
                    continue
                if story.published_at < floor:
                    continue
                found.setdefault(story.id, story)
                matched.setdefault(story.id, []).append((TagKind.PHRASE, key))
        return [(st, tuple(dict.fromkeys(matched[st.id]))) for st in _newest(found.values(), limit)]

    async def official_stories(self, story_ids: Sequence[int]) -> set[int]:
        """Those of the stories that an official source (sources.official) carries."""
        found: set[int] = set()
        async with self.session.begin() as s:
            for part in chunks(sorted(set(story_ids)), CHUNK):
                found.update((await s.execute(
                    select(items.c.story_id).distinct()
                    .join(sources, sources.c.id == items.c.source_id)
                    .where(items.c.story_id.in_(part), sources.c.official.is_(True))
                )).scalars())
        return found

    async def story_sources(self, story_id: int) -> list[tuple[str, str | None, str]]:
        """(source name, item URL, item title) of each of the story's items, the lead first."""
        async with self.session.begin() as s:
            rows = (await s.execute(
                select(sources.c.name, items.c.url, items.c.title)
                .join(sources, sources.c.id == items.c.source_id)
                .where(items.c.story_id == story_id)
                .order_by(items.c.fetched_at, items.c.id))).all()
        return [(r.name, r.url, r.title) for r in rows]

    async def items_of_story(self, story_id: int) -> list[Item]:
        """The story's items, oldest first (the lead first)."""
        async with self.session.begin() as s:
            res = await s.execute(select(items).where(items.c.story_id == story_id)
                                  .order_by(items.c.fetched_at, items.c.id))
            return [item_of_row(r) for r in res]

    async def item_by_url(self, url: str) -> Item | None:
        """The newest item with this canonical URL."""
        async with self.session.begin() as s:
            row = (await s.execute(select(items).where(items.c.url == url)
                                   .order_by(items.c.id.desc()).limit(1))).first()
        return item_of_row(row) if row else None

    async def counts_since(self, since: datetime) -> tuple[int, int]:
        """(items fetched, stories first seen) since `since`."""
        async with self.session.begin() as s:
            n_items = (await s.execute(select(func.count()).select_from(items)
                                       .where(items.c.fetched_at >= aware(since)))).scalar()
            n_stories = (await s.execute(select(func.count()).select_from(stories)
                                         .where(stories.c.first_seen_at >= aware(since)))
                         ).scalar()
        return int(n_items or 0), int(n_stories or 0)

    async def place_counts_since(self, since: datetime, codes: Sequence[str]
                                 ) -> dict[str, int]:
        """How many stories published since `since` carry each of these place codes (a
        story carries its places' ancestors too, so an oblast counts every story inside
        it); codes without a story are left out."""
        if not codes:
            return {}
        out: dict[str, int] = {}
        async with self.session.begin() as s:
            for chunk in chunks(list(dict.fromkeys(codes)), CHUNK):
                # One index range per code (kind, key, published_at).
                res = await s.execute(
                    select(story_tags.c.key, func.count())
                    .where(story_tags.c.kind == TagKind.PLACE.value,
                           story_tags.c.key.in_(chunk),
                           story_tags.c.published_at >= aware(since))
                    .group_by(story_tags.c.key))
                out.update({key: int(n) for key, n in res})
        return out
