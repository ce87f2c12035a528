"""The item pipeline: clean -> skip known keys -> classify -> summarize -> near-dup -> store.

Cleaning and analysis run off the event loop (worker processes, or a thread: bot.news.cpu)
so the bot keeps answering users; the store and the StoryIndex are the only state that
changes, and both change under one lock so two sources carrying the same event cannot both
decide it is new.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.domain import CleanItem, Source, Story
from bot.news.channels import channel_source_url
from bot.news.cpu import CpuRunner
from bot.news.dedup import StoryIndex
from bot.news.parse import ParsedFeed
from bot.news.stages import Analysed, analyse_batch, parse_and_clean, parse_and_clean_preview
from bot.ops.faults import crash_point
from storage.repos.news import ItemEdit, NewItem, StoredItem
from storage.store import Store

if TYPE_CHECKING:
    from bot.news.classify import Classifier

log = logging.getLogger(__name__)
PRUNE_EVERY = timedelta(minutes=30)
KNOWN_KEYS = 200_000  # item keys remembered in memory (about 20 MB at most)


@dataclass(frozen=True, slots=True)
class PipelineResult:
    new_items: int  # items stored
    new_stories: tuple[Story, ...]  # stories this batch started
    merged: int  # stored items that joined an existing story (or another item of the batch)
    skipped: int  # items already stored, repeated in the batch, or with nothing usable
    errors: tuple[str, ...]  # one line per item that failed; the rest of the batch went on
    updated: int = 0  # stored items whose text changed at the source (an edited post)
    # earlier stories that this batch brought a new outlet (their alerts grow: "+2 sources")
    grown_stories: tuple[Story, ...] = ()


class Pipeline:
    """Turns a source's raw items into stored, tagged, deduplicated stories."""

    def __init__(self, store: Store, classifier: Classifier, clock: Clock, *,
                 dedup_window_hours: int = 48, cpu: CpuRunner | None = None,
                 alerting: bool = True) -> None:
        self.store = store
        # New stories are stored with a mark that their followers are owed alerts; a
        # process that never sends alerts (`herald ingest`) stores none, or a later
        # `herald run` would alert old news.
        self.alerting = alerting
        self.classifier = classifier
        # Cleaning and analysis run here: worker processes, or a thread (see bot.news.cpu).
        self.cpu = cpu or CpuRunner(0)
        self.clock = clock
        self.window = timedelta(hours=dedup_window_hours)
        self.index = StoryIndex(self.window)
        self._lock = asyncio.Lock()
        self._pruned_at: datetime | None = None
        # Keys known to be stored, newest last; bounded so memory stays flat.
        self._known: OrderedDict[str, None] = OrderedDict()

    async def load(self) -> None:
        """Rebuild the near-duplicate index from the stories of the recent window."""
        now = self.clock.now()
        rows = await self.store.news.recent_fingerprints(now - self.window)
        for row in rows:
            # Seen "now": kept for one more window at most, never forgotten too early.
            self.index.add(row.id, row.fingerprint, row.published_at, seen=now,
                           guard=row.cities, places=row.places)
        self._pruned_at = now
        log.info("story index loaded", extra={"stories": len(rows)})

    async def process_body(self, source: Source, body: bytes, *, url: str = "",
                           content_type: str | None = None, queue_alerts: bool = True
                           ) -> tuple[ParsedFeed, PipelineResult]:
        """Parse a fetched body and process its items (raises FeedParseError).

        Parsing and cleaning are one call to the CPU runner: the raw items never travel
        between processes. The ParsedFeed returned has the feed's fields, not its items.
        """
        now = self.clock.now()
        feed, cleaned, skipped, errors = await self.cpu.run(
            parse_and_clean, body, url, content_type, source.id, source.language, now)
        return feed, await self._process_cleaned(source, cleaned, skipped, errors, now,
                                                 queue_alerts=queue_alerts)

    async def process_preview(self, source: Source, channel: str, body: bytes, *,
                              queue_alerts: bool = True) -> tuple[ParsedFeed, PipelineResult]:
        """Parse a Telegram channel's preview page and process its posts (raises
        FeedParseError). A post stored before whose text changed (edited) updates its item
        and story in place and never starts a story, so it is never alerted twice."""
        now = self.clock.now()
        feed, cleaned, skipped, errors = await self.cpu.run(
            parse_and_clean_preview, body, channel, source.id, source.language, now)
        return feed, await self._process_cleaned(source, cleaned, skipped, errors, now,
                                                 queue_alerts=queue_alerts, edits=True)

    async def _process_cleaned(self, source: Source, cleaned: list[CleanItem], skipped: int,
                               errors: list[str], now: datetime, *, queue_alerts: bool = True,
                               edits: bool = False) -> PipelineResult:
        updated = 0
        if edits:
            # A page of ~20 posts: the stored text of each is one small query, and a post
            # edited since it was stored is told apart from one merely shown again.
            stored_text = await self.store.news.item_contents([c.key for c in cleaned])
            changed = [c for c in cleaned if c.key in stored_text
                       and stored_text[c.key] != (c.title, c.text)]
            fresh = [c for c in cleaned if c.key not in stored_text]
            if changed:
                updated = await self._update_edited(source, changed, errors)
        else:
            # Most of a re-polled feed was stored by this process already: ask the database
            # only about keys this process has not seen stored.
            unsure = [c.key for c in cleaned if c.key not in self._known]
            known = await self.store.news.existing_keys(unsure) if unsure else set()
            fresh = [c for c in cleaned if c.key not in known and c.key not in self._known]
            self._remember(known)
        skipped += len(cleaned) - len(fresh)
        if fresh:
            # A worker process has its own classifier (same data); a thread uses this one.
            classifier = None if self.cpu.in_processes else self.classifier
            analysed, more_errors = await self.cpu.run(analyse_batch, fresh, source.cities,
                                                       source.topics, classifier)
            errors.extend(more_errors)
        else:
            analysed = []
        if not analysed:
            return PipelineResult(0, (), 0, skipped, tuple(errors), updated)
        queue_alerts = queue_alerts and self.alerting
        publishers = await self._publishers(analysed)
        async with self._lock:
            self._maybe_prune(now)
            # In a thread too: the index is only changed under this lock, so reading it
            # there is safe, and a 2,000-item batch does not stall the loop.
            batch = await asyncio.to_thread(self._link, source, analysed, now, publishers)
            try:
                stored = await self.store.news.add_items(batch, queue_alerts=queue_alerts)
            except Exception as exc:
                if len(batch) == 1:
                    raise
                # Find the item the database refuses; if it refuses them all, it is the
                # database, and the error goes up so the source is polled again.
                log.warning("batch not stored, storing items one by one",
                            extra={"source": source.name, "error": repr(exc)})
                stored, store_errors = await self._store_one_by_one(batch, queue_alerts)
                if not stored:
                    raise
                errors.extend(store_errors)
            if not stored and await self.store.sources.get(source.id) is None:
                # Removed (/removesource) while its feed was processed: the store left its
                # items out. Nothing is wrong, and nothing more is to be done for it.
                log.info("source removed while polling",
                         extra={"source": source.name, "items": len(batch)})
            crash_point("stored")
            new_stories: list[Story] = []
            grown: dict[int, Story] = {}
            merged = 0
            for st in stored:
                if st.grown:
                    grown[st.story.id] = st.story
                c = batch[st.index].item
                publisher = publishers.get(c.origin, source.id) if c.origin else source.id
                if st.new_story:
                    new_stories.append(st.story)
                    self.index.add(st.story.id, c.fingerprint, c.published_at,
                                   guard=st.item.tags.cities, source=publisher, seen=now,
                                   places=st.item.tags.places)
                else:
                    merged += 1
                    self.index.attach(st.story.id, publisher)
            # Only what is surely stored; anything else is asked about again next time.
            self._remember(st.item.key for st in stored)
        skipped += len(batch) - len(stored)  # lost a race with another writer
        return PipelineResult(new_items=len(stored), new_stories=tuple(new_stories),
                              merged=merged, skipped=skipped, errors=tuple(errors),
                              updated=updated, grown_stories=tuple(grown.values()))

    async def _update_edited(self, source: Source, changed: list[CleanItem],
                             errors: list[str]) -> int:
        """Tag and summarize edited items again and update them (no alert, no new story)."""
        classifier = None if self.cpu.in_processes else self.classifier
        analysed, more_errors = await self.cpu.run(analyse_batch, changed, source.cities,
                                                   source.topics, classifier)
        errors.extend(more_errors)
        edits = [ItemEdit(key=a.item.key, title=a.item.title, text=a.item.text,
                          summary=a.summary, tags=a.tags) for a in analysed]
        if not edits:
            return 0
        async with self._lock:  # the index changes only under the lock
            done = await self.store.news.update_items(edits)
            by_key = {a.item.key: a for a in analysed}
            for e in done:
                if e.lead:  # later reports are compared with what the story says now
                    a = by_key[e.key]
                    self.index.refresh(e.story_id, a.item.fingerprint, guard=a.tags.cities,
                                       places=a.tags.places)
        if done:
            log.info("edited items updated", extra={"source": source.name, "items": len(done)})
        return len(done)

    async def _publishers(self, analysed: Sequence[Analysed]) -> dict[str, int]:
        """Who grouping counts as the publisher of each forwarded item's origin: the
        Herald source of that channel when there is one, else a number of its own (negative,
        so never a source id) that every forward from the same origin shares."""
        out: dict[str, int] = {}
        for a in analysed:
            origin = a.item.origin
            if not origin or origin in out:
                continue
            found = None
            if origin.startswith("tg:"):
                found = await self.store.sources.by_url(channel_source_url(origin[3:]))
            out[origin] = found.id if found is not None else -1 - zlib.crc32(origin.encode())
        return out

    # --- linking (reads the index; runs in a thread under the lock) ---------------------

    def _link(self, source: Source, analysed: Sequence[Analysed], now: datetime,
              publishers: dict[str, int] | None = None) -> list[NewItem]:
        """Decide each item's story: an indexed one, an earlier item of the batch, or new.

        A forwarded item counts as its origin's (`publishers`): a repost of another
        channel's post is that publisher's report, not a second one."""
        batch_index = StoryIndex(self.window)  # ids are positions in this batch
        out: list[NewItem] = []
        for pos, a in enumerate(analysed):
            c = a.item
            pub = (publishers or {}).get(c.origin, source.id) if c.origin else source.id
            guard, places = a.tags.cities, a.tags.places
            story_id = self.index.find(c.fingerprint, c.published_at, guard=guard,
                                       source=pub, places=places)
            same_as = None
            if story_id is None:
                same_as = batch_index.find(c.fingerprint, c.published_at, guard=guard,
                                           source=pub, places=places)
            if story_id is None and same_as is None:
                # Only leads are indexed, so `same_as` always names a new story's lead.
                batch_index.add(pos, c.fingerprint, c.published_at, guard=guard,
                                source=pub, places=places)
            out.append(NewItem(item=c, summary=a.summary, tags=a.tags, fetched_at=now,
                               story_id=story_id, same_as=same_as))
        return out

    async def _store_one_by_one(self, batch: Sequence[NewItem], queue_alerts: bool
                                ) -> tuple[list[StoredItem], list[str]]:
        stored: list[StoredItem] = []
        errors: list[str] = []
        story_at: dict[int, int] = {}  # batch position -> story id, for `same_as`
        for pos, n in enumerate(batch):
            if n.same_as is not None:
                # Its lead was stored alone (join that story) or refused (start a new one).
                n = dataclasses.replace(n, same_as=None, story_id=story_at.get(n.same_as))
            try:
                result = await self.store.news.add_items([n], queue_alerts=queue_alerts)
            except Exception as exc:
                errors.append(f"item {n.item.url or n.item.key}: not stored: "
                              f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            for st in result:
                stored.append(dataclasses.replace(st, index=pos))
                story_at[pos] = st.story.id
        return stored, errors

    def _remember(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._known[key] = None
            self._known.move_to_end(key)
        while len(self._known) > KNOWN_KEYS:
            self._known.popitem(last=False)

    def _maybe_prune(self, now: datetime) -> None:
        if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
            self.index.prune(now - self.window)
            self._pruned_at = now

