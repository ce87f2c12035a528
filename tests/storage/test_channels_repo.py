"""ChannelRepo on every backend: set-up, pause once, resume, remove, what the fan-out and
the sender ask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import ChatStatus, DeliveryKind, OutboxStatus, OutgoingMessage, TagKind
from storage.store import Store

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CH = -1001000000001


async def _register(store: Store, admin: int | None = 7) -> None:
    await store.channels.register(CH, username="@Kherson_News", title="Kherson News",
                                  admin_id=admin, language="uk", timezone="Europe/Kyiv",
                                  now=NOW)


async def test_register_creates_the_chat_and_adds_admins_once(store: Store) -> None:
    await _register(store)
    channel, created = await store.channels.register(
        CH, username="kherson_news", title="Kherson News!", admin_id=8, language="en",
        timezone="UTC", now=NOW)
    assert not created and channel.admin_ids == (7, 8) and channel.username == "kherson_news"
    await _register(store, admin=8)
    assert (await store.channels.get(CH)).admin_ids == (7, 8)  # type: ignore[union-attr]
    chat = await store.chats.get(CH)
    assert chat is not None and chat.type == "channel" and chat.language == "uk"
    assert chat.title == "Kherson News"
    assert (await store.channels.by_username("@KHERSON_news")) is not None
    assert await store.channels.which([CH, -100, 5]) == {CH}
    # Channels are not counted with chats, and get no broadcast.
    await store.chats.upsert(5, type="private", title=None, now=NOW)
    assert (await store.chats.counts())["chats_total"] == 1
    assert await store.chats.followers() == [5]
    # ... nor in the broadcast's fan-out itself (everyone, or a segment the channel follows)
    await store.chats.subscribe(CH, TagKind.CITY, "kherson", "Kherson", now=NOW)
    await store.chats.subscribe(5, TagKind.CITY, "kherson", "Kherson", now=NOW)
    assert await store.broadcasts.recipients(None, None, after=None, limit=10) == [5]
    assert await store.broadcasts.recipients(TagKind.CITY, "kherson", after=None,
                                             limit=10) == [5]


async def test_pause_is_reported_once_cancels_waiting_posts_and_resume_lifts_it(
        store: Store) -> None:
    await _register(store)
    await store.outbox.enqueue([OutgoingMessage(chat_id=CH, kind=DeliveryKind.ALERT,
                                                text="x", dedup_key="story:1")], NOW)
    first = await store.channels.pause(CH, "removed", NOW)
    assert first is not None and first.paused_reason == "removed" and first.paused_at == NOW
    assert await store.channels.pause(CH, "refused: 403", NOW) is None
    assert (await store.chats.get(CH)).status == ChatStatus.PAUSED  # type: ignore[union-attr]
    assert (await store.outbox.counts())[OutboxStatus.CANCELLED.value] == 1
    assert await store.channels.counts() == {"active": 0, "paused": 1}
    assert await store.channels.resume(CH, NOW)
    assert not await store.channels.resume(CH, NOW)
    assert (await store.chats.get(CH)).status == ChatStatus.ACTIVE  # type: ignore[union-attr]
    assert await store.channels.pause(-100, "removed", NOW) is None  # not a channel


async def test_post_targets_give_the_last_waiting_post_and_stats_count_posts(
        store: Store) -> None:
    await _register(store)
    assert (await store.channels.post_targets([CH, -5]))[CH].last_due is None
    later = NOW + timedelta(seconds=30)
    await store.outbox.enqueue([
        OutgoingMessage(chat_id=CH, kind=DeliveryKind.ALERT, text="a", dedup_key="story:1"),
        OutgoingMessage(chat_id=CH, kind=DeliveryKind.ALERT, text="b", dedup_key="story:2",
                        not_before=later)], NOW)
    target = (await store.channels.post_targets([CH]))[CH]
    assert target.last_due == later and not target.link_button
    assert await store.channels.set_link_button(CH, True, NOW)
    assert (await store.channels.post_targets([CH]))[CH].link_button
    rows = await store.outbox.claim("w", later, 10, 120)
    await store.outbox.mark_sent_many([(r.id, 100 + r.id) for r in rows], later)
    stats = await store.channels.stats(NOW - timedelta(hours=1))
    assert stats == {"active": 1, "paused": 0, "posts": 2, "alerts": 2, "briefings": 0,
                     "edits": 0}
    assert await store.channels.posts_since(CH, NOW - timedelta(hours=1)) == 2


async def test_remove_drops_follows_and_the_channel(store: Store) -> None:
    await _register(store)
    await store.chats.subscribe(CH, TagKind.CITY, "kherson", "Kherson", now=NOW)
    assert await store.channels.remove(CH, NOW)
    assert not await store.channels.remove(CH, NOW)
    assert await store.channels.get(CH) is None
    assert await store.chats.subscriptions(CH) == []
    assert await store.channels.list_all() == []


async def test_set_up_again_after_remove_posts_again(store: Store) -> None:
    await _register(store)
    assert await store.channels.remove(CH, NOW)
    assert (await store.chats.get(CH)).status == ChatStatus.PAUSED  # type: ignore[union-attr]
    _channel, created = await store.channels.register(
        CH, username="kherson_news", title="K", admin_id=None, language="en",
        timezone="UTC", now=NOW)
    assert created
    assert (await store.chats.get(CH)).status == ChatStatus.ACTIVE  # type: ignore[union-attr]
