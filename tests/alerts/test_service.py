"""AlertService end to end with the real store (every backend): subscribe, fan out, settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.alerts.service import AlertService
from bot.clock import FakeClock
from bot.domain import (
    ChatStatus,
    CleanItem,
    SourceConfig,
    Story,
    SubscriptionMode,
    TagKind,
    Tags,
)
from storage.repos.news import NewItem
from storage.store import Store
from storage.tables import outbox

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def classifier():  # type: ignore[no-untyped-def]
    from bot.news.classify import get_classifier

    return get_classifier()


class Setup:
    def __init__(self, store: Store, service: AlertService, clock: FakeClock) -> None:
        self.store, self.service, self.clock = store, service, clock
        self.wakes = 0

    async def chat(self, chat_id: int, **settings: Any) -> None:
        await self.store.chats.upsert(chat_id, type="private", title=None, now=self.clock.now())
        if settings:
            await self.store.chats.update_settings(chat_id, self.clock.now(), **settings)

    async def rows(self) -> list[Any]:
        async with self.store.session.begin() as s:
            return list((await s.execute(select(outbox).order_by(outbox.c.id))).all())


@pytest.fixture
async def env(store: Store, classifier) -> AsyncIterator[Setup]:  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    setup: Setup
    service = AlertService(store, classifier, clock,
                           on_enqueued=lambda: setattr(setup, "wakes", setup.wakes + 1))
    setup = Setup(store, service, clock)
    await service.load()
    yield setup


def story(id: int, *, cities: tuple[str, ...] = ("kherson",), topics: tuple[str, ...] = (),
          title: str = "Evacuation buses leave Kherson", text: str = "",
          at: datetime = START) -> Story:
    """A story first seen (and published) at `at`."""
    return Story(id=id, title=title, url=f"https://example.com/news/{id}", summary="Summary.",
                 published_at=at, first_seen_at=at, updated_at=at, source_count=2,
                 cities=cities, topics=topics,
                 text=text or "Buses left Kherson at 8 am. Elsewhere the weather was mild. "
                              "New sanctions were announced in Brussels.")


async def test_new_story_queues_one_alert_per_chat_once(env: Setup) -> None:
    await env.chat(1)
    await env.chat(2)
    kherson, new = await env.service.subscribe(1, TagKind.CITY, "kherson", "Kherson")
    sanctions, _ = await env.service.subscribe(1, TagKind.TOPIC, "sanctions", "sanctions")
    await env.service.subscribe(2, TagKind.CITY, "kyiv", "Kyiv")
    assert new
    assert await env.service.on_new_stories([story(10, topics=("sanctions",))]) == 1
    rows = await env.rows()
    assert len(rows) == 1 and env.wakes == 1
    row = rows[0]
    assert (row.chat_id, row.kind, row.story_id, row.dedup_key, row.disable_notification) == (
        1, "alert", 10, "story:10", False)
    assert "Evacuation buses leave Kherson" in row.text
    assert "You follow: Kherson, sanctions" in row.text
    assert "Buses left Kherson at 8 am." in row.text  # the focused summary
    markup = json.loads(row.reply_markup)
    data = [b["callback_data"] for r in markup["inline_keyboard"] for b in r]
    assert data == [f"unf:{kherson.id}", f"unf:{sanctions.id}", "srcs:10", "mute:1h"]

    # The same story again (a restart, a second pass): nothing new, no wake-up.
    assert await env.service.on_new_stories([story(10, topics=("sanctions",))]) == 0
    assert len(await env.rows()) == 1 and env.wakes == 1


async def test_unsubscribe_and_load_keep_index_and_db_in_step(env: Setup) -> None:
    await env.chat(1)
    await env.chat(2)
    sub, _ = await env.service.subscribe(1, TagKind.CITY, "kherson", "Kherson")
    assert await env.service.unsubscribe(2, sub.id) is None  # not chat 2's
    assert await env.service.unsubscribe(1, sub.id) == sub
    assert await env.service.on_new_stories([story(11)]) == 0

    await env.service.subscribe(2, TagKind.CITY, "kherson", "Kherson")
    assert await env.service.unsubscribe_key(2, TagKind.CITY, "kherson")
    assert not await env.service.unsubscribe_key(2, TagKind.CITY, "kherson")
    assert await env.service.on_new_stories([story(12)]) == 0

    # Written straight to the DB (another process, say): a fresh service loads it.
    await env.store.chats.subscribe(1, TagKind.TOPIC, "energy", "energy", now=START)
    fresh = AlertService(env.store, env.service.classifier, env.clock)
    await fresh.load()
    assert len(fresh.index) == 1
    assert await fresh.on_new_stories([story(13, cities=(), topics=("energy",))]) == 1


async def test_quiet_hours_silent_and_hold(env: Setup) -> None:
    await env.chat(1, timezone="Europe/Kyiv", quiet_start="23:00", quiet_end="07:00")
    await env.chat(2, timezone="Europe/Kyiv", quiet_start="23:00", quiet_end="07:00",
                   quiet_mode="hold")
    for chat in (1, 2):
        await env.service.subscribe(chat, TagKind.CITY, "kherson", "Kherson")
    env.clock.set(datetime(2026, 11, 26, 22, 30, tzinfo=UTC))  # 00:30 in Kyiv
    assert await env.service.on_new_stories([story(20, at=env.clock.now())]) == 1
    (row,) = await env.rows()
    assert row.chat_id == 1 and row.disable_notification is True
    env.clock.set(datetime(2026, 11, 27, 5, 0, tzinfo=UTC))  # 07:00 in Kyiv: quiet is over
    assert await env.service.on_new_stories([story(21, at=env.clock.now())]) == 2
    assert [r.disable_notification for r in (await env.rows())[1:]] == [False, False]


async def test_alert_cap_per_hour(env: Setup) -> None:
    await env.chat(1, alerts_per_hour=2)
    await env.chat(2)
    for chat in (1, 2):
        await env.service.subscribe(chat, TagKind.CITY, "kherson", "Kherson")
    # Three stories in one batch: chat 1 gets two, chat 2 (no cap) all three.
    assert await env.service.on_new_stories([story(30), story(31), story(32)]) == 5
    env.clock.advance(minutes=30)
    assert await env.service.on_new_stories([story(33)]) == 1  # chat 1 still capped
    env.clock.advance(minutes=31)  # the first two are now over an hour old
    assert await env.service.on_new_stories([story(34)]) == 2
    rows = await env.rows()
    assert [r.story_id for r in rows if r.chat_id == 1] == [30, 31, 34]


async def test_muted_paused_blocked_and_briefing_only_get_nothing(env: Setup) -> None:
    await env.chat(1, muted_until=START + timedelta(hours=1))
    await env.chat(2)
    await env.chat(3)
    await env.chat(4)
    await env.store.chats.set_status(2, ChatStatus.PAUSED, START)
    await env.store.chats.set_status(3, ChatStatus.BLOCKED, START)
    for chat in (1, 2, 3):
        await env.service.subscribe(chat, TagKind.CITY, "kherson", "Kherson")
    await env.service.subscribe(4, TagKind.CITY, "kherson", "Kherson", SubscriptionMode.BRIEFING)
    assert await env.service.on_new_stories([story(40)]) == 0
    assert env.wakes == 0

    env.clock.advance(hours=1, seconds=1)  # the mute is over
    assert await env.service.on_new_stories([story(41)]) == 1
    assert [r.chat_id for r in await env.rows()] == [1]


async def test_mode_switch_and_mute_button_effects(env: Setup) -> None:
    await env.chat(1)
    sub, _ = await env.service.subscribe(1, TagKind.CITY, "kherson", "Kherson",
                                         SubscriptionMode.BRIEFING)
    assert await env.service.on_new_stories([story(50)]) == 0
    switched = await env.service.set_mode(1, sub.id, SubscriptionMode.INSTANT)
    assert switched is not None and switched.mode is SubscriptionMode.INSTANT
    assert await env.service.set_mode(2, sub.id, SubscriptionMode.INSTANT) is None
    assert await env.service.on_new_stories([story(51)]) == 1
    until = await env.service.mute(1, 3600)
    assert until == START + timedelta(hours=1)
    assert await env.service.on_new_stories([story(52)]) == 0


async def test_phrase_subscription_alerts_with_inflection(env: Setup) -> None:
    from bot.news.classify import normalize_phrase

    await env.chat(1, language="uk")
    await env.service.subscribe(1, TagKind.PHRASE, normalize_phrase("зерновий коридор"),
                                "зерновий коридор")
    s = story(60, cities=(), title="Новини дня",
              text="Погода тепла. Зерновим коридором пройшли три судна.")
    assert await env.service.on_new_stories([s]) == 1
    (row,) = await env.rows()
    assert "Зерновим коридором пройшли три судна." in row.text


async def test_mode_switched_through_the_repository_is_honoured(env: Setup) -> None:
    """The settings screen may write the mode straight to the DB: the DB decides."""
    await env.chat(1)
    sub, _ = await env.service.subscribe(1, TagKind.CITY, "kherson", "Kherson")
    assert await env.store.chats.set_mode(1, sub.id, SubscriptionMode.BRIEFING)
    assert await env.service.on_new_stories([story(70)]) == 0
    assert await env.store.chats.set_mode(1, sub.id, SubscriptionMode.INSTANT)
    assert await env.service.on_new_stories([story(71)]) == 1


async def test_migrated_group_keeps_its_alerts(env: Setup) -> None:
    await env.store.chats.upsert(-100, type="group", title="Team", now=START)
    await env.service.subscribe(-100, TagKind.CITY, "kherson", "Kherson")
    await env.store.migrate_chat(-100, -1009, START)
    # Even before anyone refreshes the index, the old id is skipped (and forgotten) and
    # the moved subscription reaches the new id.
    assert await env.service.on_new_stories([story(80)]) == 1
    assert env.service.index.subscriptions_of(-100) == []
    await env.service.refresh_chat(-100, -1009)
    assert await env.service.on_new_stories([story(81)]) == 1
    assert [r.chat_id for r in await env.rows()] == [-1009, -1009]


async def test_follows_and_unfollows_made_by_another_process_count(
        env: Setup, classifier) -> None:  # type: ignore[no-untyped-def]
    # Two processes share one database; only the leader (env.service) fans out.
    other = AlertService(env.store, classifier, env.clock)
    await other.load()
    await env.chat(1)
    await env.chat(2)
    await other.subscribe(1, TagKind.CITY, "kherson", "Kherson")
    gone, _ = await env.service.subscribe(2, TagKind.CITY, "kherson", "Kherson")
    await other.unsubscribe(2, gone.id)
    assert await env.service.on_new_stories([story(1)]) == 1
    assert [r.chat_id for r in await env.rows()] == [1]
    assert env.service.index.subscriptions_of(2) == []


# --- publication time: old news is stored, never alerted ----------------------------


async def store_stories(store: Store, fetched: datetime, *published: datetime) -> list[Story]:
    """Kherson stories stored as the poller stores them (with their alert marks), one per
    publication time, all first seen at `fetched`."""
    src = await store.sources.add(SourceConfig(name="Desk", url="https://desk.example/rss"),
                                  now=fetched)
    batch = [NewItem(item=CleanItem(source_id=src.id, key=f"p{i}", guid=f"p{i}",
                                    url=f"https://desk.example/{i}", title=f"Kherson story {i}",
                                    text="Buses left Kherson at 8 am.", published_at=at,
                                    language="en"),
                     summary="Buses left Kherson.", tags=Tags(cities=("kherson",)),
                     fetched_at=fetched)
             for i, at in enumerate(published)]
    return [x.story for x in await store.news.add_items(batch)]


async def test_a_new_sources_old_items_are_stored_but_not_alerted(env: Setup) -> None:
    await env.chat(1)
    await env.service.subscribe(1, TagKind.CITY, "kherson", "Kherson")
    days = [START - timedelta(days=d) for d in (3, 40, 400)]
    fresh = START - timedelta(minutes=20)
    future = START + timedelta(days=2)  # a wrong clock at the publisher counts as now
    stored = await store_stories(env.store, START, *days, fresh, future)
    assert [s.published_at for s in stored] == [*days, fresh, START]
    assert await env.service.on_new_stories(stored) == 2
    assert sorted(r.story_id for r in await env.rows()) == [stored[3].id, stored[4].id]
    # Every mark is cleared: nothing is owed, nothing comes later.
    assert await env.store.news.pending_alerts() == []
    assert await env.service.queue_pending() == 0
    # Stored and shown on request, in publication order.
    latest = await env.store.news.latest_by_tag(TagKind.CITY, "kherson", limit=10)
    assert [s.id for s in latest] == [stored[i].id for i in (4, 3, 0, 1, 2)]


async def test_max_age_is_measured_when_the_story_is_matched(env: Setup) -> None:
    """A story owed its alerts across an outage longer than max_age is old news by then."""
    await env.chat(1)
    await env.service.subscribe(1, TagKind.CITY, "kherson", "Kherson")
    early, late = await store_stories(env.store, START, START - timedelta(hours=2), START)
    # Herald stops before matching them and comes back 5 hours later: 7 h and 5 h old.
    env.clock.set(START + timedelta(hours=5))
    assert await env.service.queue_pending() == 1
    assert [r.story_id for r in await env.rows()] == [late.id]
    assert early.id != late.id and await env.store.news.pending_alerts() == []


async def test_max_age_edge_and_setting(
        env: Setup, classifier) -> None:  # type: ignore[no-untyped-def]
    await env.chat(1)
    await env.service.subscribe(1, TagKind.CITY, "kherson", "Kherson")
    # The default is 6 hours; exactly that old still counts as news, a second more does not.
    assert env.service.max_age == timedelta(hours=6)
    edge = [replace(story(90), published_at=START - timedelta(hours=6)),
            replace(story(91), published_at=START - timedelta(hours=6, seconds=1))]
    assert await env.service.on_new_stories(edge) == 1
    assert [r.story_id for r in await env.rows()] == [90]
    # alerts.max_age of 4 days: a 3-day-old story is still news.
    (old,) = await store_stories(env.store, START, START - timedelta(days=3))
    patient = AlertService(env.store, classifier, env.clock, max_age=timedelta(days=4))
    await patient.load()
    assert await patient.on_new_stories([old]) == 1


async def test_a_follow_label_keeps_no_invisible_characters(env: Setup) -> None:
    await env.store.chats.upsert(77, type="private", title=None, now=START)
    sub, _new = await env.service.subscribe(77, TagKind.PHRASE, "evil phrase",
                                            "evil \u202ephrase\u2066")
    assert sub.label == "evil phrase"
    assert [s.label for s in await env.store.chats.subscriptions(77)] == ["evil phrase"]
