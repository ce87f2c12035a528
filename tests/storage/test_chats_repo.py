"""ChatRepo on every backend: chats, settings, subscriptions, followers, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.domain import ChatSettings, ChatStatus, SubscriptionMode, TagKind
from storage.store import Store
from storage.tables import outbox

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


async def test_upsert_creates_and_refreshes_without_overwriting_language(store: Store) -> None:
    chat = await store.chats.upsert(42, type="private", title="Olena", language="uk", now=NOW)
    assert (chat.id, chat.language, chat.status, chat.timezone) == (
        42, "uk", ChatStatus.ACTIVE, "UTC")
    assert chat.created_at == NOW
    again = await store.chats.upsert(42, type="private", title="Olena K", language="en",
                                     now=NOW + timedelta(hours=1))
    assert again.language == "uk"  # the chosen language stays
    assert again.title == "Olena K"
    assert again.created_at == NOW
    assert await store.chats.get(43) is None


async def test_blocked_chat_that_writes_again_becomes_active_but_paused_stays(
        store: Store) -> None:
    await store.chats.upsert(1, type="private", title=None, now=NOW)
    await store.chats.upsert(2, type="private", title=None, now=NOW)
    assert await store.chats.set_status(1, ChatStatus.BLOCKED, NOW)
    assert await store.chats.set_status(2, ChatStatus.PAUSED, NOW)
    assert not await store.chats.set_status(3, ChatStatus.PAUSED, NOW)
    assert (await store.chats.upsert(1, type="private", title=None, now=NOW)).status == \
        ChatStatus.ACTIVE
    assert (await store.chats.upsert(2, type="private", title=None, now=NOW)).status == \
        ChatStatus.PAUSED


async def test_settings_defaults_update_and_validation(store: Store) -> None:
    await store.chats.upsert(7, type="group", title="Team", now=NOW)
    assert await store.chats.settings(7) == ChatSettings()
    assert await store.chats.settings(999) == ChatSettings()
    muted = NOW + timedelta(hours=1)
    assert await store.chats.update_settings(
        7, NOW, timezone="Europe/Kyiv", briefing_times=("08:00", "19:00"),
        quiet_start="23:00", quiet_end="07:00", quiet_mode="hold", alerts_per_hour=5,
        muted_until=muted, skip_empty_briefing=True, language="uk")
    got = await store.chats.settings(7)
    assert got == ChatSettings(language="uk", timezone="Europe/Kyiv",
                               briefing_times=("08:00", "19:00"), skip_empty_briefing=True,
                               quiet_start="23:00", quiet_end="07:00", quiet_mode="hold",
                               alerts_per_hour=5, muted_until=muted)
    assert got.muted_until is not None and got.muted_until.tzinfo is not None
    assert not await store.chats.update_settings(999, NOW, alerts_per_hour=1)
    # Values are validated by bot.alerts.prefs (tests/alerts/test_prefs.py); the repository
    # only refuses columns that are not settings.
    for bad in ({"status": "blocked"}, {"id": 5}):
        with pytest.raises(ValueError, match="not chat settings"):
            await store.chats.update_settings(7, NOW, **bad)  # type: ignore[arg-type]
    chat = await store.chats.get(7)
    assert chat is not None and chat.status == ChatStatus.ACTIVE
    # Clearing quiet hours and the mute is allowed.
    assert await store.chats.update_settings(7, NOW, quiet_start=None, quiet_end=None,
                                             muted_until=None)
    got = await store.chats.settings(7)
    assert (got.quiet_start, got.quiet_end, got.muted_until) == (None, None, None)


async def test_subscribe_is_idempotent_and_unsubscribe_only_own(store: Store) -> None:
    await store.chats.upsert(1, type="private", title=None, now=NOW)
    await store.chats.upsert(2, type="private", title=None, now=NOW)
    sub, new = await store.chats.subscribe(1, TagKind.CITY, "kherson", "Kherson", now=NOW)
    assert new and sub.chat_id == 1 and sub.kind is TagKind.CITY
    assert sub.mode is SubscriptionMode.INSTANT and sub.created_at == NOW
    same, new2 = await store.chats.subscribe(1, TagKind.CITY, "kherson", "Херсон", now=NOW)
    assert not new2 and same.id == sub.id and same.label == "Kherson"
    other, _ = await store.chats.subscribe(2, TagKind.CITY, "kherson", "Kherson", now=NOW)
    assert other.id != sub.id
    with pytest.raises(ValueError, match="not known"):
        await store.chats.subscribe(77, TagKind.TOPIC, "sanctions", "sanctions", now=NOW)

    assert await store.chats.unsubscribe(2, sub.id) is None  # not chat 2's
    assert await store.chats.get_subscription(sub.id) == sub
    gone = await store.chats.unsubscribe(1, sub.id)
    assert gone == sub
    assert await store.chats.get_subscription(sub.id) is None
    assert await store.chats.unsubscribe(1, sub.id) is None


async def test_subscribe_many_is_one_transaction(store: Store) -> None:
    await store.chats.upsert(1, type="private", title=None, now=NOW)
    await store.chats.subscribe(1, TagKind.CITY, "kherson", "Kherson", now=NOW)
    got = await store.chats.subscribe_many(1, [
        (TagKind.CITY, "kyiv", "Kyiv", SubscriptionMode.INSTANT),
        (TagKind.CITY, "kherson", "Kherson", SubscriptionMode.INSTANT),
        (TagKind.PHRASE, "no fly zone", "no-fly zone", SubscriptionMode.BRIEFING)], now=NOW)
    assert [(s.key, new) for s, new in got] == [
        ("kyiv", True), ("kherson", False), ("no fly zone", True)]
    assert got[2][0].mode is SubscriptionMode.BRIEFING
    assert len(await store.chats.subscriptions(1)) == 3
    # A chat that is not known follows nothing.
    with pytest.raises(ValueError, match="not known"):
        await store.chats.subscribe_many(77, [(TagKind.CITY, "kyiv", "Kyiv",
                                                SubscriptionMode.INSTANT)], now=NOW)
    assert await store.chats.subscriptions(77) == []


async def test_unsubscribe_key_set_mode_and_listing(store: Store) -> None:
    await store.chats.upsert(1, type="private", title=None, now=NOW)
    a, _ = await store.chats.subscribe(1, TagKind.CITY, "kyiv", "Kyiv", now=NOW)
    b, _ = await store.chats.subscribe(1, TagKind.PHRASE, "no-fly zone", "no-fly zone",
                                       SubscriptionMode.BRIEFING, now=NOW)
    assert [s.id for s in await store.chats.subscriptions(1)] == [a.id, b.id]
    assert (await store.chats.subscriptions(1))[1].mode is SubscriptionMode.BRIEFING
    assert await store.chats.find_subscription(1, TagKind.CITY, "kyiv") == a
    assert await store.chats.set_mode(1, a.id, SubscriptionMode.BRIEFING)
    assert not await store.chats.set_mode(2, a.id, SubscriptionMode.INSTANT)
    assert (await store.chats.get_subscription(a.id)).mode is SubscriptionMode.BRIEFING
    assert await store.chats.unsubscribe_key(1, TagKind.CITY, "kyiv")
    assert not await store.chats.unsubscribe_key(1, TagKind.CITY, "kyiv")
    assert [s.id for s in await store.chats.subscriptions(1)] == [b.id]


async def test_iter_all_subscriptions_streams_in_batches(store: Store) -> None:
    for chat_id in range(1, 8):
        await store.chats.upsert(chat_id, type="private", title=None, now=NOW)
        await store.chats.subscribe(chat_id, TagKind.CITY, "odesa", "Odesa", now=NOW)
        await store.chats.subscribe(chat_id, TagKind.TOPIC, "sanctions", "sanctions", now=NOW)
    batches = [b async for b in store.chats.iter_all_subscriptions(batch=4)]
    assert [len(b) for b in batches] == [4, 4, 4, 2]
    ids = [s.id for b in batches for s in b]
    assert ids == sorted(ids) and len(set(ids)) == 14


async def test_followers_counts_and_alert_targets(store: Store) -> None:
    for chat_id in (1, 2, 3, 4):
        await store.chats.upsert(chat_id, type="private", title=None, now=NOW)
    for chat_id in (1, 2, 3):
        await store.chats.subscribe(chat_id, TagKind.CITY, "kherson", "Kherson", now=NOW)
    await store.chats.subscribe(1, TagKind.TOPIC, "sanctions", "sanctions", now=NOW)
    await store.chats.set_status(3, ChatStatus.BLOCKED, NOW)
    await store.chats.set_status(4, ChatStatus.PAUSED, NOW)

    assert await store.chats.followers(TagKind.CITY, "kherson") == [1, 2]
    assert await store.chats.followers(TagKind.TOPIC, None) == [1]
    assert await store.chats.followers(None, None) == [1, 2]
    assert await store.chats.count_followers(TagKind.CITY, "kherson") == 2
    assert await store.chats.count_followers() == 2

    counts = await store.chats.counts(top=1)
    assert counts["chats"] == {"active": 2, "paused": 1, "blocked": 1}
    assert counts["subscriptions"] == {"city": 3, "topic": 1, "phrase": 0, "place": 0}
    assert counts["top"] == [{"kind": "city", "key": "kherson", "label": "Kherson",
                              "followers": 3}]

    async with store.session.begin() as s:
        for i, (chat_id, kind, age, status) in enumerate([
                (1, "alert", 10, "sent"), (1, "alert", 50, "pending"),
                (1, "alert", 70, "sent"),  # older than the hour
                (1, "briefing", 5, "sent"), (2, "alert", 5, "cancelled")]):
            await s.execute(insert(outbox).values(
                chat_id=chat_id, kind=kind, text="x", status=status,
                created_at=NOW - timedelta(minutes=age), dedup_key=f"k{i}"))
    sub, _ = await store.chats.subscribe(2, TagKind.TOPIC, "energy", "energy",
                                         SubscriptionMode.BRIEFING, now=NOW)
    targets = await store.chats.alert_targets([1, 2, 4, 99], NOW - timedelta(hours=1))
    assert set(targets) == {1, 2, 4}
    assert targets[1].status is ChatStatus.ACTIVE and targets[1].recent_alerts == 2
    assert targets[2].recent_alerts == 0 and targets[2].briefing_only == {sub.id}
    assert targets[1].briefing_only == frozenset()
    assert targets[4].status is ChatStatus.PAUSED
    assert isinstance(targets[4].settings, ChatSettings)


async def test_new_chat_takes_the_default_time_zone_an_old_one_keeps_its_own(
        store: Store) -> None:
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    chat = await store.chats.upsert(501, type="private", title=None, timezone="Europe/Warsaw",
                                    now=now)
    assert chat.timezone == "Europe/Warsaw"
    await store.chats.update_settings(501, now, timezone="Europe/Kyiv")
    again = await store.chats.upsert(501, type="private", title=None, timezone="UTC", now=now)
    assert again.timezone == "Europe/Kyiv"
