"""OutboxRepo on every backend: dedup, claiming in per-chat order, crash survivors, outcomes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.domain import ChatStatus, DeliveryKind, OutboxStatus, OutgoingMessage, TagKind
from storage.store import Store

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def msg(chat_id: int, text: str, **kw: object) -> OutgoingMessage:
    return OutgoingMessage(chat_id=chat_id, kind=kw.pop("kind", DeliveryKind.ALERT),  # type: ignore[arg-type]
                           text=text, **kw)  # type: ignore[arg-type]


async def test_enqueue_ignores_duplicates_per_chat(store: Store) -> None:
    n = await store.outbox.enqueue([msg(1, "a", dedup_key="story:1"),
                                    msg(2, "a", dedup_key="story:1"),
                                    msg(1, "again", dedup_key="story:1"),
                                    msg(1, "no key"), msg(1, "no key")], now=T0)
    assert n == 4
    assert await store.outbox.enqueue([msg(1, "later", dedup_key="story:1"),
                                       msg(1, "new", dedup_key="story:2")], now=T0) == 1
    assert await store.outbox.enqueue([], now=T0) == 0
    assert (await store.outbox.counts())["pending"] == 5
    assert await store.outbox.pending_count() == 5


async def test_enqueue_keeps_every_field(store: Store) -> None:
    await store.outbox.enqueue([msg(-100, "<b>x</b>", thread_id=7, disable_notification=True,
                                    reply_markup='{"inline_keyboard": []}', story_id=9,
                                    broadcast_id=None, paid=True, kind=DeliveryKind.BROADCAST,
                                    dedup_key="b:1")], now=T0)
    [d] = await store.outbox.claim("w1", T0, 10, 60)
    assert (d.chat_id, d.text, d.thread_id, d.disable_notification, d.story_id, d.paid) == (
        -100, "<b>x</b>", 7, True, 9, True)
    assert d.kind is DeliveryKind.BROADCAST and d.reply_markup == '{"inline_keyboard": []}'
    assert d.status is OutboxStatus.SENDING and d.created_at == T0


async def test_claim_respects_not_before_limit_and_order(store: Store) -> None:
    await store.outbox.enqueue([msg(1, "due"), msg(2, "later", not_before=T0 + timedelta(60)),
                                msg(3, "due too"), msg(4, "third")], now=T0)
    first = await store.outbox.claim("w1", T0, 2, 60)
    assert [d.text for d in first] == ["due", "due too"]
    assert [d.text for d in await store.outbox.claim("w1", T0, 10, 60)] == ["third"]
    assert await store.outbox.claim("w2", T0, 10, 60) == []
    later = await store.outbox.claim("w1", T0 + timedelta(days=61), 10, 10**9)
    assert [d.text for d in later] == ["later"]


async def test_claim_keeps_each_chat_in_order(store: Store) -> None:
    await store.outbox.enqueue([msg(1, "1a"), msg(1, "1b"), msg(2, "2a")], now=T0)
    [a, b, c] = await store.outbox.claim("w1", T0, 10, 60)
    await store.outbox.enqueue([msg(1, "1c"), msg(2, "2b")], now=T0)
    # chat 1 and 2 have rows in flight: their next rows wait
    assert await store.outbox.claim("w2", T0, 10, 60) == []
    await store.outbox.mark_sent(a.id, 11, T0)
    await store.outbox.mark_sent(c.id, 12, T0)
    assert [d.text for d in await store.outbox.claim("w2", T0, 10, 60)] == ["2b"]
    # 1b is retried later: 1c must not overtake it
    await store.outbox.retry_later(b.id, T0 + timedelta(seconds=30), "timed out")
    assert await store.outbox.claim("w2", T0 + timedelta(seconds=5), 10, 60) == []
    again = await store.outbox.claim("w2", T0 + timedelta(seconds=31), 10, 60)
    assert [d.text for d in again] == ["1b", "1c"]
    assert again[0].attempts == 1 and again[0].error == "timed out"


async def test_abandoned_claims_are_taken_over(store: Store) -> None:
    await store.outbox.enqueue([msg(1, "a"), msg(2, "b")], now=T0)
    assert len(await store.outbox.claim("crashed", T0, 10, 60)) == 2
    assert await store.outbox.claim("w2", T0 + timedelta(seconds=30), 10, 60) == []
    taken = await store.outbox.claim("w2", T0 + timedelta(seconds=61), 10, 60)
    assert [d.text for d in taken] == ["a", "b"]
    # a restarted worker recovers its own rows at once
    assert await store.outbox.take_over(await store.counters.next_leader_term()) == 2
    assert [d.text for d in await store.outbox.claim("w2", T0, 10, 60)] == ["a", "b"]


async def test_a_new_term_takes_over_older_claims_at_once(store: Store) -> None:
    """Rows claimed under an older leader term go back at once, not after claim_timeout;
    rows of the current term stay with their holder."""
    await store.outbox.enqueue([msg(1, "a"), msg(2, "b"), msg(3, "c")], now=T0)
    old = await store.counters.next_leader_term()
    assert len(await store.outbox.claim("dead", T0, 2, 120, term=old)) == 2
    new = await store.counters.next_leader_term()
    assert new > old
    [c] = await store.outbox.claim("alive", T0, 10, 120, term=new)
    assert c.text == "c"
    assert await store.outbox.take_over(new) == 2
    assert await store.outbox.take_over(new) == 0  # "c" is the current term's: kept
    again = await store.outbox.claim("alive", T0 + timedelta(seconds=1), 10, 120, term=new)
    assert [d.text for d in again] == ["a", "b"]


async def test_concurrent_claims_never_share_a_row(store: Store) -> None:
    await store.outbox.enqueue([msg(i, f"m{i}") for i in range(300)], now=T0)
    batches = await asyncio.gather(*(store.outbox.claim(f"w{i}", T0, 40, 60)
                                     for i in range(10)))
    ids = [d.id for batch in batches for d in batch]
    assert len(ids) == len(set(ids)) == 300


async def test_outcomes(store: Store) -> None:
    await store.outbox.enqueue([msg(1, "ok"), msg(2, "bad"), msg(3, "later"), msg(4, "stop")],
                               now=T0)
    ok, bad, later, stop = await store.outbox.claim("w1", T0, 10, 60)
    await store.outbox.mark_sent(ok.id, 555, T0 + timedelta(seconds=1))
    await store.outbox.mark_failed(bad.id, "Bad Request: chat not found", T0)
    await store.outbox.retry_later(later.id, T0, "429", count_attempt=False)
    assert await store.outbox.release([stop.id, ok.id]) == 1
    got = await store.outbox.get(ok.id)
    assert got is not None and got.status is OutboxStatus.SENT and got.message_id == 555
    assert got.sent_at == T0 + timedelta(seconds=1)
    failed = await store.outbox.get(bad.id)
    assert failed is not None and failed.status is OutboxStatus.FAILED
    assert failed.error == "Bad Request: chat not found"
    retried = await store.outbox.get(later.id)
    assert retried is not None and retried.status is OutboxStatus.PENDING
    assert retried.attempts == 0
    assert await store.outbox.get(10**9) is None
    assert await store.outbox.counts() == {"pending": 2, "sending": 0, "sent": 1, "failed": 1,
                                           "cancelled": 0, "unknown": 0}
    assert await store.outbox.next_due() == T0


async def test_block_chat(store: Store) -> None:
    await store.chats.upsert(5, type="private", title=None, now=T0)
    await store.outbox.enqueue([msg(5, "a"), msg(5, "b"), msg(6, "other")], now=T0)
    await store.outbox.claim("w1", T0, 1, 60)
    assert await store.block_chat(5, T0) == 2
    chat = await store.chats.get(5)
    assert chat is not None and chat.status is ChatStatus.BLOCKED
    assert await store.outbox.counts() == {"pending": 1, "sending": 0, "sent": 0, "failed": 2,
                                           "cancelled": 0, "unknown": 0}


async def test_migrate_chat_moves_settings_subscriptions_and_rows(store: Store) -> None:
    await store.chats.upsert(-10, type="group", title="Odesa news", language="uk", now=T0)
    await store.chats.subscribe(-10, TagKind.CITY, "kherson", "Kherson", now=T0)
    await store.chats.subscribe(-10, TagKind.TOPIC, "sanctions", "sanctions", now=T0)
    await store.outbox.enqueue([msg(-10, "a", dedup_key="story:1"), msg(-10, "b")], now=T0)
    await store.migrate_chat(-10, -100010, T0)
    assert await store.chats.get(-10) is None
    new = await store.chats.get(-100010)
    assert new is not None and new.type == "supergroup" and new.title == "Odesa news"
    assert new.language == "uk"
    subs = await store.chats.subscriptions(-100010)
    assert sorted(s.key for s in subs) == ["kherson", "sanctions"]
    claimed = await store.outbox.claim("w1", T0, 10, 60)
    assert [(d.chat_id, d.text) for d in claimed] == [(-100010, "a"), (-100010, "b")]


async def test_migrate_into_an_existing_chat(store: Store) -> None:
    await store.chats.upsert(-20, type="group", title="g", now=T0)
    await store.chats.upsert(-100020, type="supergroup", title="g", now=T0)
    await store.chats.subscribe(-20, TagKind.CITY, "kyiv", "Kyiv", now=T0)
    await store.chats.subscribe(-20, TagKind.CITY, "lviv", "Lviv", now=T0)
    await store.chats.subscribe(-100020, TagKind.CITY, "kyiv", "Kyiv", now=T0)
    await store.outbox.enqueue([msg(-20, "dup", dedup_key="story:1"),
                                msg(-100020, "dup", dedup_key="story:1")], now=T0)
    await store.migrate_chat(-20, -100020, T0)
    assert sorted(s.key for s in await store.chats.subscriptions(-100020)) == ["kyiv", "lviv"]
    assert (await store.outbox.counts())["cancelled"] == 1
    assert await store.chats.get(-20) is None


async def test_cancel_broadcast_and_counts(store: Store) -> None:
    await store.outbox.enqueue([msg(i, "news", kind=DeliveryKind.BROADCAST, broadcast_id=7)
                                for i in range(5)] + [msg(9, "alert")], now=T0)
    await store.outbox.claim("w1", T0, 2, 60)
    assert await store.outbox.cancel_broadcast(7) == 3
    assert await store.outbox.counts(7) == {"pending": 0, "sending": 2, "sent": 0,
                                            "failed": 0, "cancelled": 3, "unknown": 0}
    assert (await store.outbox.counts())["pending"] == 1


async def test_release_with_not_before(store: Store) -> None:
    await store.outbox.enqueue([msg(1, "a"), msg(1, "b")], now=T0)
    rows = await store.outbox.claim("w1", T0, 10, 60)
    later = T0 + timedelta(seconds=60)
    assert await store.outbox.release([r.id for r in rows], later) == 2
    assert await store.outbox.next_due() == later
    assert await store.outbox.claim("w1", T0, 10, 60) == []
    assert [d.text for d in await store.outbox.claim("w1", later, 10, 60)] == ["a", "b"]
