"""Briefings on schedule: find due chats, compose, enqueue once per slot, move the schedule on.

"What is due" is a query on chats.next_briefing_at; the schedule itself is a function
(bot.alerts.slots). A slot's messages carry the dedup key "briefing:<slot UTC>" (unique per
chat in the outbox), and next_briefing_at moves on only after they are enqueued, with a
conditional write: a crash in between re-composes the same briefing and the outbox drops
the duplicate; two processes racing both write the same keys and only one advance wins.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.alerts.briefing import BriefingInput, Match, compose_briefing
from bot.alerts.noise import is_excluded, story_stems
from bot.alerts.service import Mentions
from bot.alerts.slots import in_quiet_hours, next_slot, plan_due, slot_key, zone_for
from bot.clock import Clock
from bot.config import AlertsConfig, BriefingConfig
from bot.domain import DeliveryKind, OutgoingMessage, Story, Subscription, TagKind
from bot.news.summarize import summarize_focused
from storage.repos.briefings import Advance, BriefingChat
from storage.store import Store

log = logging.getLogger(__name__)

FIRST_LOOKBACK = timedelta(hours=24)  # the first briefing covers the last day
MAX_LOOKBACK = timedelta(hours=48)  # never dig further back, even after a long pause
LATE = timedelta(seconds=AlertsConfig().max_age)  # how late a report may reach Herald
STORIES_PER_QUERY = 5000
YIELD_EVERY = 16  # chats composed between two yields to the event loop


class BriefingService:
    """Composes and enqueues briefings; run_due() is called by the leader every ~30 s."""

    def __init__(self, store: Store, classifier: Mentions | None, clock: Clock,
                 cfg: BriefingConfig,
                 on_enqueued: Callable[[], Any] | None = None, *, batch: int = 500,
                 max_age: timedelta = LATE) -> None:
        self.store = store
        self.classifier = classifier
        self.clock = clock
        self.cfg = cfg
        # A briefing for [since, until) lists the stories Herald first saw in that period
        # (so each story is in one briefing at most) that were published after `since`, or
        # at most `max_age` before it: a report that reached Herald late (a slow feed, a
        # source polled hourly) still makes the next briefing; old news that reached it
        # only now (a new source's back catalogue, a long outage) does not.
        self.max_age = max_age
        self.on_enqueued = on_enqueued
        self.batch = batch
        self._summaries: dict[tuple[int, TagKind, str], str] = {}
        self._lines: dict[tuple[int, str, str | None], str] = {}
        # Figures for metrics and the benchmark: briefings composed and the time spent
        # composing them (summaries included, database excluded).
        self.composed = 0
        self.compose_seconds = 0.0

    # --- schedule ----------------------------------------------------------------------

    async def reschedule(self, chat_id: int) -> datetime | None:
        """Recompute next_briefing_at from the chat's time zone and times (after a change)."""
        state = await self.store.briefings.get(chat_id)
        if state is None:
            return None
        nxt = next_slot(state.briefing_times, state.timezone, self.clock.now())
        await self.store.briefings.reschedule(chat_id, nxt)
        return nxt

    async def run_due(self) -> int:
        """Send every briefing that is due now; the number of messages enqueued."""
        now = self.clock.now()
        total = 0
        seen: set[int] = set()
        while True:
            due = [c for c in await self.store.briefings.due(now, self.batch)
                   if c.chat_id not in seen]
            if not due:
                break
            seen.update(c.chat_id for c in due)
            total += await self._run_batch(due, now)
        # A pass shares summaries and story lines across chats, not across passes.
        self._summaries.clear()
        self._lines.clear()
        if total and self.on_enqueued is not None:
            self.on_enqueued()
        return total

    async def _run_batch(self, due: Sequence[BriefingChat], now: datetime) -> int:
        catch_up = timedelta(minutes=self.cfg.catch_up_minutes)
        moves: list[Advance] = []
        sending: list[tuple[BriefingChat, datetime]] = []
        for chat in due:
            assert chat.next_briefing_at is not None
            try:
                plan = plan_due(chat.briefing_times, chat.timezone, chat.next_briefing_at,
                                now, catch_up)
            except ValueError:  # an unusable stored zone or time: stop scheduling this chat
                log.warning("bad briefing schedule", extra={"chat_id": chat.chat_id})
                moves.append(Advance(chat.chat_id, chat.next_briefing_at, None))
                continue
            if plan.skipped:
                log.info("briefing slots skipped", extra={"chat_id": chat.chat_id,
                                                          "skipped": plan.skipped})
            if plan.send is None:
                moves.append(Advance(chat.chat_id, chat.next_briefing_at, plan.next_at))
            else:
                sending.append((chat, plan.send))
                last = plan.send if (chat.last_briefing_at is None
                                     or plan.send > chat.last_briefing_at) else None
                moves.append(Advance(chat.chat_id, chat.next_briefing_at, plan.next_at, last))
        messages = await self._compose_many(sending, scheduled=True)
        enqueued = await self.store.outbox.enqueue(messages, now) if messages else 0
        await self.store.briefings.advance_many(moves)
        log.info("briefings due", extra={"chats": len(due), "sent": len(sending),
                                         "messages": enqueued})
        return enqueued

    # --- on demand ---------------------------------------------------------------------

    async def send_now(self, chat_id: int) -> int:
        """/briefing: one briefing now, covering the period since the last one."""
        now = self.clock.now()
        state = await self.store.briefings.get(chat_id)
        if state is None:
            return 0
        messages = await self._compose_many([(state, now)], scheduled=False)
        self._summaries.clear()
        self._lines.clear()
        enqueued = await self.store.outbox.enqueue(messages, now) if messages else 0
        await self.store.briefings.mark_sent(chat_id, now)
        if enqueued and self.on_enqueued is not None:
            self.on_enqueued()
        return enqueued

    # --- composing ---------------------------------------------------------------------

    def _window(self, chat: BriefingChat, until: datetime) -> datetime:
        since = chat.last_briefing_at or until - FIRST_LOOKBACK
        return max(since, until - MAX_LOOKBACK)

    async def _compose_many(self, sending: Sequence[tuple[BriefingChat, datetime]], *,
                            scheduled: bool) -> list[OutgoingMessage]:
        """Compose the briefings of many chats with one subscription and one story query."""
        if not sending:
            return []
        subs = await self.store.briefings.subscriptions_of(c.chat_id for c, _ in sending)
        windows = {c.chat_id: (self._window(c, until), until) for c, until in sending}
        by_tag = await self._stories_by_tag(
            [s for c, _ in sending for s in subs.get(c.chat_id, [])], windows.values())
        out: list[OutgoingMessage] = []
        for n, (chat, until) in enumerate(sending):
            if n % YIELD_EVERY == YIELD_EVERY - 1:
                # Composing is CPU work: let the sender and the handlers run between chats
                # (a 500-chat batch would otherwise hold the event loop for ~0.4 s).
                await asyncio.sleep(0)
            since, _until = windows[chat.chat_id]
            if since >= until:  # a /briefing just before the slot already covered it
                continue
            try:
                out.extend(self._compose_one(chat, until, since, subs.get(chat.chat_id, []),
                                             by_tag, scheduled=scheduled))
            except Exception:
                # One chat's odd data must not hold back everyone's briefing.
                log.exception("briefing not composed", extra={"chat_id": chat.chat_id})
        return out

    def _compose_one(self, chat: BriefingChat, until: datetime, since: datetime,
                     follows: Sequence[Subscription], by_tag: dict[Match, list[Story]], *,
                     scheduled: bool) -> list[OutgoingMessage]:
        """One chat's briefing messages for the period [since, until)."""
        stories = self._stories_for(follows, by_tag, since, until, since - self.max_age)
        tz = zone_for(chat.timezone)
        inp = BriefingInput(
            lang=chat.language, follows=follows, stories=stories, when=until.astimezone(tz),
            since=chat.last_briefing_at.astimezone(tz) if chat.last_briefing_at else None,
            max_stories=self.cfg.max_stories, with_summary=self.cfg.top_stories_with_summary,
            skip_empty=chat.skip_empty and scheduled)
        started = time.perf_counter()
        texts = compose_briefing(inp, self._summarize, self._lines)
        self.compose_seconds += time.perf_counter() - started
        self.composed += 1
        key = slot_key(until) if scheduled else "briefing:now:" + until.isoformat(
            timespec="seconds")
        # A slot inside the chat's quiet hours arrives silently.
        quiet = scheduled and in_quiet_hours(until, chat.timezone, chat.quiet_start,
                                             chat.quiet_end)
        return [OutgoingMessage(
            chat_id=chat.chat_id, kind=DeliveryKind.BRIEFING, text=text,
            # Only the first part of a long briefing rings the phone.
            disable_notification=quiet or i > 0,
            dedup_key=key if i == 0 else f"{key}#{i + 1}") for i, text in enumerate(texts)]

    async def _stories_by_tag(self, follows: Iterable[Subscription],
                              windows: Iterable[tuple[datetime, datetime]]
                              ) -> dict[Match, list[Story]]:
        """Stories of every followed tag over the union of the windows, indexed by tag."""
        tags = sorted({(f.kind, f.key) for f in follows})
        spans = list(windows)
        if not tags or not spans:
            return {}
        since = min(s for s, _ in spans)
        until = max(u for _, u in spans)
        rows = await self.store.news.stories_since(since, tags, until=until,
                                                   limit=STORIES_PER_QUERY,
                                                   published_since=since - self.max_age)
        by_tag: dict[Match, list[Story]] = {}
        for story, matched in rows:
            for tag in matched:
                by_tag.setdefault((TagKind(tag[0]), tag[1]), []).append(story)
        return by_tag

    @staticmethod
    def _stories_for(follows: Sequence[Subscription], by_tag: dict[Match, list[Story]],
                     since: datetime, until: datetime, published_since: datetime
                     ) -> list[tuple[Story, tuple[Match, ...]]]:
        found: dict[int, tuple[Story, list[Match]]] = {}
        stems: dict[int, frozenset[str]] = {}
        for f in follows:
            tag = (f.kind, f.key)
            for story in by_tag.get(tag, ()):
                if not since <= story.first_seen_at < until:
                    continue
                if story.published_at < published_since:
                    continue  # old news first seen now: not news for this briefing
                if f.exclude:  # words this follow keeps out ("-football")
                    if story.id not in stems:
                        stems[story.id] = story_stems(story)
                    if is_excluded(stems[story.id], f.exclude):
                        continue
                entry = found.setdefault(story.id, (story, []))
                entry[1].append(tag)
        return [(story, tuple(tags)) for story, tags in found.values()]

    def _summarize(self, story: Story, follow: Subscription) -> str:
        """The summary focused on what the chat follows (shared by chats in one pass)."""
        key = (story.id, follow.kind, follow.key)
        cached = self._summaries.get(key)
        if cached is not None:
            return cached
        text = story.text or story.summary
        classifier = self.classifier
        if classifier is not None and text:
            def matches(sentence: str) -> bool:
                return classifier.mentions(sentence, follow.kind, follow.key)
            summary = summarize_focused(story.title, text, matches) or story.summary
        else:
            summary = story.summary
        self._summaries[key] = summary
        return summary
