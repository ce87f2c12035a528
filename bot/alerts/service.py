"""Instant alerts: keep the subscription index in step with the DB, and turn new stories
into at most one outbox row per chat per story, honouring each chat's settings.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.alerts.channel_posts import next_post_at, post_spacing
from bot.alerts.growth import EditPlan, Step, plan_edit
from bot.alerts.match import SubscriptionIndex
from bot.alerts.noise import is_excluded, is_important, story_stems
from bot.alerts.render import alert_keyboard, render_alert
from bot.alerts.slots import in_quiet_hours
from bot.clock import Clock
from bot.config import AlertsConfig
from bot.domain import (
    ChatSettings,
    ChatStatus,
    DeliveryKind,
    OutgoingMessage,
    Story,
    Subscription,
    SubscriptionMode,
    TagKind,
)
from bot.news.summarize import summarize_focused
from bot.news.text import strip_invisible
from bot.ops.faults import crash_point
from storage.repos.channels import PostTarget
from storage.repos.outbox import AlertState
from storage.store import Store

log = logging.getLogger(__name__)
CAP_WINDOW = timedelta(hours=1)
MAX_AGE = timedelta(seconds=AlertsConfig().max_age)
# The markup under a channel's post (a URL button to the bot, or None): built by the
# Telegram layer, which knows the bot's name and the shortcut commands.
ChannelMarkup = Callable[[Sequence[Subscription], str], dict[str, Any] | None]


class Mentions(Protocol):
    """What a focused summary needs from bot.news.classify.Classifier (briefings too)."""

    def mentions(self, text: str, kind: TagKind, key: str) -> bool: ...


class Classifier(Mentions, Protocol):
    """The two things alerts need from bot.news.classify.Classifier."""

    def label(self, kind: TagKind, key: str, lang: str = "en") -> str: ...


def alert_decision(settings: ChatSettings, status: ChatStatus, sent_last_hour: int,
                   now: datetime) -> tuple[bool, bool]:
    """(send now?, silently?) for one chat, from its status, mute, quiet hours and cap."""
    if status is not ChatStatus.ACTIVE:
        return False, False
    if settings.muted_until is not None and settings.muted_until > now:
        return False, False
    try:
        quiet = in_quiet_hours(now, settings.timezone, settings.quiet_start, settings.quiet_end)
    except ValueError:  # a stored zone or time that no longer parses: treat as no quiet hours
        quiet = False
    if quiet and settings.quiet_mode == "hold":
        return False, False  # the next briefing carries it
    if settings.alerts_per_hour and sent_last_hour >= settings.alerts_per_hour:
        return False, False  # folded into the next briefing ("N more stories")
    return True, quiet


class AlertService:
    """Subscriptions (DB + index) and the alert fan-out for new stories."""

    def __init__(self, store: Store, classifier: Classifier, clock: Clock, *,
                 on_enqueued: Callable[[], None] | None = None,
                 max_age: timedelta = MAX_AGE,
                 important_sources: int = AlertsConfig().important_sources,
                 max_edits: int = AlertsConfig().max_edits, channel_per_minute: int = 20,
                 channel_markup: ChannelMarkup | None = None) -> None:
        self.store = store
        self.classifier = classifier
        self.clock = clock
        self.on_enqueued = on_enqueued
        # A story published longer ago than this when it is matched is old news: stored and
        # shown on request, never pushed (a new source's back catalogue, a long outage).
        self.max_age = max_age
        # "important only" follows: this many outlets (or an official one) make a story due
        self.important_sources = important_sources
        self.max_edits = max_edits  # edits of one alert as its story grows (growth.py)
        self.channel_spacing = post_spacing(channel_per_minute)
        self.channel_markup = channel_markup
        self.index = SubscriptionIndex()
        self._loaded = asyncio.Event()
        self._loading = False
        self._removed_while_loading: set[int] = set()
        self._max_id = 0  # newest subscription id the index has seen

    # --- the index ------------------------------------------------------------------

    async def load(self) -> None:
        """Build the index from the DB, streaming in batches."""
        if self._loading:
            await self._loaded.wait()
            return
        self._loading = True
        self._removed_while_loading.clear()
        try:
            async for batch in self.store.chats.iter_all_subscriptions():
                # A subscription removed by a handler while this batch was in flight must
                # not come back from the stale rows.
                self.index.add_many(s for s in batch if s.id not in self._removed_while_loading)
                self._max_id = max(self._max_id, batch[-1].id)
        finally:
            self._loading = False
        self._loaded.set()
        log.info("event=alerts_index_loaded subscriptions=%d chats=%d", len(self.index),
                 self.index.chat_count)

    async def _ready(self) -> None:
        if not self._loaded.is_set():
            await self.load()

    def _forget(self, sub: Subscription) -> None:
        self.index.remove(sub)
        if self._loading:
            self._removed_while_loading.add(sub.id)

    async def refresh_chat(self, *chat_ids: int) -> None:
        """Re-read some chats' subscriptions from the DB (after a chat migration, say)."""
        for chat_id in chat_ids:
            for sub in self.index.subscriptions_of(chat_id):
                self._forget(sub)
            self.index.add_many(await self.store.chats.subscriptions(chat_id))

    # --- what handlers call ---------------------------------------------------------

    async def subscribe(self, chat_id: int, kind: TagKind, key: str, label: str,
                        mode: SubscriptionMode = SubscriptionMode.INSTANT
                        ) -> tuple[Subscription, bool]:
        """Follow (kind, key); returns the subscription and whether it is new. The label is
        shown back to people: no bidi override or other invisible character stays in it."""
        sub, created = await self.store.chats.subscribe(chat_id, kind, key,
                                                        strip_invisible(label), mode,
                                                        now=self.clock.now())
        self.index.add(sub)
        return sub, created

    async def subscribe_many(self, chat_id: int,
                             wanted: Sequence[tuple[TagKind, str, str]],
                             ) -> list[tuple[Subscription, bool]]:
        """Follow several (kind, key, label) at once, in one transaction (all or none)."""
        rows = [(kind, key, strip_invisible(label), SubscriptionMode.INSTANT)
                for kind, key, label in wanted]
        result = await self.store.chats.subscribe_many(chat_id, rows, now=self.clock.now())
        for sub, _created in result:
            self.index.add(sub)
        return result

    async def catch_up(self) -> int:
        """Add follows made since the index was built, possibly by another process.

        Several processes answer users on PostgreSQL; only the leader fans out. Ids only
        grow, so one keyset query finds every new follow; unfollows and mode changes made
        elsewhere are caught by alert_targets (the DB decides what still exists)."""
        added = 0
        async for batch in self.store.chats.iter_all_subscriptions(after=self._max_id):
            self.index.add_many(batch)
            self._max_id = max(self._max_id, batch[-1].id)
            added += len(batch)
        return added

    async def unsubscribe(self, chat_id: int, subscription_id: int) -> Subscription | None:
        """Remove one of the chat's own subscriptions (None when it is not theirs)."""
        sub = await self.store.chats.unsubscribe(chat_id, subscription_id)
        if sub is not None:
            self._forget(sub)
        return sub

    async def unsubscribe_key(self, chat_id: int, kind: TagKind, key: str) -> bool:
        """Stop following (kind, key); False when the chat did not follow it."""
        sub = await self.store.chats.find_subscription(chat_id, kind, key)
        return sub is not None and await self.unsubscribe(chat_id, sub.id) is not None

    async def set_mode(self, chat_id: int, subscription_id: int,
                       mode: SubscriptionMode) -> Subscription | None:
        """Switch a subscription between instant alerts and briefing only."""
        if not await self.store.chats.set_mode(chat_id, subscription_id, mode):
            return None
        sub = await self.store.chats.get_subscription(subscription_id)
        if sub is not None:
            self.index.add(sub)
        return sub

    async def mute(self, chat_id: int, seconds: int = 3600) -> datetime:
        """Mute a chat's alerts for a while ("Mute 1 h"); returns when it ends."""
        now = self.clock.now()
        until = now + timedelta(seconds=seconds)
        await self.store.chats.update_settings(chat_id, now, muted_until=until)
        return until

    # --- the fan-out ----------------------------------------------------------------

    async def on_new_stories(self, stories: Sequence[Story]) -> int:
        """Queue one alert per chat per new story for the chats that want it now, then drop
        the stories' marks in the alert queue (see queue_pending). A story published more
        than `max_age` ago gets no alert; its mark is dropped all the same."""
        n = await self._fan_out(stories)
        crash_point("alerts_queued")
        await self.store.news.alerts_queued([s.id for s in stories])
        return n

    async def queue_pending(self, batch: int = 200) -> int:
        """Queue the alerts of stories stored but never matched: a crash or an error came
        between storing them and queueing their alerts. Safe to repeat: the outbox keeps
        one row per chat and story. A story that fails on its own stays marked (logged)."""
        queued = 0
        while True:
            stories = await self.store.news.pending_alerts(batch)
            if not stories:
                return queued
            try:
                queued += await self.on_new_stories(stories)
            except Exception:
                if len(stories) == 1:
                    raise
                # One story at a time: the one that fails must not hold back the others.
                failed = 0
                for story in stories:
                    try:
                        queued += await self.on_new_stories([story])
                    except Exception:
                        failed += 1
                        log.exception("event=alerts_pending_failed story=%d", story.id)
                if failed == len(stories):
                    raise
                return queued  # the failed ones are tried again next cycle
            log.warning("event=alerts_pending_queued stories=%d enqueued=%d", len(stories),
                        queued)
            if len(stories) < batch:
                return queued

    async def _fan_out(self, stories: Sequence[Story]) -> int:
        """Match each story against the follows: a chat with no alert of it gets one if it
        wants it now (and the story is still news); a chat that has one gets it edited when
        the story gained outlets (bot.alerts.growth)."""
        await self._ready()
        await self.catch_up()
        now = self.clock.now()
        planned: list[tuple[Story, dict[int, list[Subscription]]]] = []
        chat_ids: set[int] = set()
        too_old = sum(1 for s in stories if now - s.published_at > self.max_age)
        if too_old:
            log.info("event=alerts_too_old stories=%d max_age_s=%d", too_old,
                     self.max_age.total_seconds())
        for story in stories:
            # Modes are checked against the DB below (alert_targets), which stays right
            # even when a mode was switched through the repository directly.
            wanted = self.index.match(story)
            if wanted:
                planned.append((story, wanted))
                chat_ids.update(wanted)
        if not planned:
            return 0
        ids = [story.id for story, _wanted in planned]
        sent = await self.store.outbox.alert_states(ids)
        official = await self.store.news.official_stories(ids)
        # Matched before and grown since: a first alert only for "important only" follows
        # it has just become important enough for (the others had their chance when new).
        regrown = await self.store.news.grown_marks(ids)
        targets = await self.store.chats.alert_targets(sorted(chat_ids), now - CAP_WINDOW)
        # Channels (negative ids among them): no per-reader buttons, posts spaced out.
        channels = await self.store.channels.post_targets(
            [c for c in chat_ids if c < 0]) if min(chat_ids) < 0 else {}
        channel_due = {c: t.last_due for c, t in channels.items()}
        queued: Counter[int] = Counter()
        messages: list[OutgoingMessage] = []
        edits: list[tuple[EditPlan, OutgoingMessage]] = []
        for story, wanted in planned:
            texts = _TextCache(self, story)
            fresh = now - story.published_at <= self.max_age
            important = is_important(story, story.id in official, self.important_sources)
            stems: frozenset[str] | None = None
            for chat_id, matched in wanted.items():
                target = targets.get(chat_id)
                if target is None:  # the chat row is gone (migrated, deleted): stale entries
                    self.index.remove_chat(chat_id)
                    continue
                for gone in (s for s in matched if s.id not in target.instant
                             and s.id not in target.important
                             and s.id not in target.briefing_only):
                    self._forget(gone)  # unfollowed through another process
                if target.exclude and any(s.id in target.exclude for s in matched):
                    stems = stems if stems is not None else story_stems(story)
                    matched = [s for s in matched
                               if not is_excluded(stems, target.exclude.get(s.id, ()))]
                subs = [s for s in matched if (s.id in target.instant
                                               and story.id not in regrown)
                        or (important and s.id in target.important)]
                lang = target.settings.language
                post = channels.get(chat_id)
                not_before = None
                if post is not None:  # a channel: the next free post time, in the outbox
                    not_before = next_post_at(channel_due[chat_id], now, self.channel_spacing)
                state = sent.get((chat_id, story.id))
                if state is not None:  # the chat has its alert: edit it if the story grew
                    shown = [s for s in matched if s.id in target.instant
                             or s.id in target.important or s.id in target.briefing_only]
                    plan = self._plan(state, now)
                    if (story.id in regrown and shown and plan.step is not Step.NONE
                            and target.status is not ChatStatus.BLOCKED):
                        # rendered as a new alert would be: the edit replaces it as a whole
                        edits.append((plan, OutgoingMessage(
                            chat_id=chat_id, kind=DeliveryKind.EDIT,
                            text=texts.text(shown, lang, post is not None),
                            reply_markup=texts.markup(shown, lang, post),
                            story_id=story.id, dedup_key=f"edit:{story.id}:{story.source_count}",
                            edit_message_id=plan.message_id, expires_at=plan.expires_at,
                            not_before=not_before)))
                        if post is not None:
                            channel_due[chat_id] = not_before
                    continue
                if not fresh:
                    continue
                send, silent = alert_decision(target.settings, target.status,
                                              target.recent_alerts + queued[chat_id], now)
                if not subs or not send:
                    continue
                messages.append(OutgoingMessage(
                    chat_id=chat_id, kind=DeliveryKind.ALERT,
                    text=texts.text(subs, lang, post is not None),
                    disable_notification=silent,
                    reply_markup=texts.markup(subs, lang, post),
                    story_id=story.id, not_before=not_before,
                    dedup_key=f"story:{story.id}"))
                if post is not None:
                    channel_due[chat_id] = not_before
                queued[chat_id] += 1
        n = await self._apply_edits(edits, now)
        if messages:
            n += await self.store.outbox.enqueue(messages, now)
        log.info("event=alerts_enqueued stories=%d planned=%d edits=%d enqueued=%d",
                 len(planned), len(messages), len(edits), n)
        if n and self.on_enqueued is not None:
            self.on_enqueued()
        return n

    def _plan(self, state: AlertState, now: datetime) -> EditPlan:
        """What growth does to a chat's alert (bot.alerts.growth)."""
        return plan_edit(status=state.status, message_id=state.message_id,
                         sent_at=state.sent_at, alert_id=state.alert_id, edits=state.edits,
                         pending_edit_id=state.pending_edit_id, now=now,
                         max_edits=self.max_edits)

    async def _apply_edits(self, edits: Sequence[tuple[EditPlan, OutgoingMessage]],
                           now: datetime) -> int:
        """Carry out the growth plans; how many edit rows were queued."""
        new: list[OutgoingMessage] = []
        rewrite: list[tuple[int, str, str | None]] = []
        for plan, message in edits:
            if plan.step in (Step.UPDATE_ALERT, Step.UPDATE_EDIT) and plan.row_id is not None:
                # A row taken by a sender meanwhile goes as it was: the next growth shows
                # the count.
                rewrite.append((plan.row_id, message.text, message.reply_markup))
            elif plan.step is Step.NEW_EDIT:
                new.append(message)
        await self.store.outbox.update_pending(rewrite)
        return await self.store.outbox.enqueue(new, now) if new else 0


class _TextCache:
    """Render each distinct (language, what matched) once per story, not once per chat."""

    def __init__(self, service: AlertService, story: Story) -> None:
        self.service = service
        self.story = story
        self._summaries: dict[tuple[tuple[TagKind, str], ...], str] = {}
        self._texts: dict[tuple[Any, ...], str] = {}

    def summary(self, subs: Sequence[Subscription]) -> str:
        keys = tuple(sorted({(s.kind, s.key) for s in subs}))
        if keys not in self._summaries:
            mentions = self.service.classifier.mentions
            focused = summarize_focused(
                self.story.title, self.story.text,
                lambda sentence: any(mentions(sentence, kind, key) for kind, key in keys))
            self._summaries[keys] = focused or self.story.summary
        return self._summaries[keys]

    def markup(self, subs: Sequence[Subscription], lang: str,
               channel: PostTarget | None = None) -> str | None:
        """Unfollow/Mute for a chat; for a channel no per-reader button, only the URL
        button to the bot when the channel has it on."""
        if channel is not None:
            make = self.service.channel_markup
            markup = make(subs, lang) if channel.link_button and make is not None else None
            return json.dumps(markup, ensure_ascii=False) if markup else None
        return json.dumps(alert_keyboard(subs, lang, story=self.story), ensure_ascii=False)

    def text(self, subs: Sequence[Subscription], lang: str, channel: bool = False) -> str:
        key = (lang, channel, tuple((s.kind, s.key, s.label) for s in subs))
        if key not in self._texts:
            self._texts[key] = render_alert(
                self.story, subs, focused_summary=self.summary(subs), lang=lang,
                labels=lambda kind, tag: self.service.classifier.label(kind, tag, lang),
                channel=channel).text
        return self._texts[key]
