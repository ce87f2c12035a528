"""The Sender through the Bot API emulator with a real telegram.Bot and a real database."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.clock import Clock
from bot.config import DeliveryConfig
from bot.delivery.errors import html_to_plain
from bot.delivery.sender import FORBIDDEN_RETRIES, Sender
from bot.domain import (
    ChatStatus,
    Delivery,
    DeliveryKind,
    OutboxStatus,
    OutgoingMessage,
    TagKind,
    utcnow,
)
from bot.testing.botapi import DEFAULT_TOKEN, BotApiEmulator
from storage.store import Store

# PTB 22 itself warns about RetryAfter.retry_after's future type when it raises a 429.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FAST = DeliveryConfig(global_rate=1000.0, private_chat_rate=100.0, group_per_minute=1000,
                      batch_size=100)


@dataclass
class Rig:
    emu: BotApiEmulator
    bot: Bot
    store: Store
    events: list[tuple[str, int, str | None]] = field(default_factory=list)

    def sender(self, cfg: DeliveryConfig = FAST, **kw: object) -> Sender:
        def hook(name: str, d: Delivery, detail: str | None) -> None:
            self.events.append((name, d.chat_id, detail))
        return Sender(self.store, self.bot, cfg, Clock(), worker_id="t1", on_event=hook,
                      backoff_base=0.05, poll_interval=0.1, **kw)  # type: ignore[arg-type]

    def names(self) -> list[str]:
        return [e[0] for e in self.events]


async def make_rig(store: Store, **emu_kwargs: object) -> Rig:
    emu = BotApiEmulator(**emu_kwargs)  # type: ignore[arg-type]
    url = await emu.start()
    bot = Bot(DEFAULT_TOKEN, base_url=url,
              request=HTTPXRequest(connection_pool_size=64, read_timeout=5))
    await bot.initialize()
    return Rig(emu, bot, store)


@pytest.fixture
async def rig(sqlite_store: Store) -> AsyncIterator[Rig]:
    r = await make_rig(sqlite_store, enforce_limits=False)
    yield r
    await r.bot.shutdown()
    await r.emu.stop()


def alert(chat_id: int, text: str, kind: DeliveryKind = DeliveryKind.ALERT,
          **kw: object) -> OutgoingMessage:
    return OutgoingMessage(chat_id=chat_id, kind=kind, text=text, **kw)  # type: ignore[arg-type]


async def test_delivers_everything_in_order_per_chat(store: Store) -> None:
    rig = await make_rig(store, enforce_limits=False)
    try:
        rig.emu.set_delay(0.003, "sendMessage")  # let sends to many chats overlap
        msgs = [alert(chat, f"<b>{chat}</b> #{i}") for i in range(6) for chat in (1, 2, 3, -4)]
        await store.outbox.enqueue(msgs)
        await rig.sender().drain(30)
        for chat in (1, 2, 3, -4):
            assert [m.plain for m in rig.emu.sent(chat)] == [f"{chat} #{i}" for i in range(6)]
        assert (await store.outbox.counts())["sent"] == 24
        first = await store.outbox.get(1)
        assert first is not None and first.status is OutboxStatus.SENT
        assert first.message_id == rig.emu.sent(1)[0].message_id
        assert rig.names().count("sent") == 24
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()


async def test_passes_thread_silence_and_buttons(rig: Rig) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "Unfollow Kherson",
                                               "callback_data": "unf:city:kherson"}]]})
    await rig.store.outbox.enqueue([alert(-100, "in a topic", thread_id=9,
                                          disable_notification=True, reply_markup=markup)])
    await rig.sender().drain(30)
    [m] = rig.emu.sent(-100)
    assert m.thread_id == 9 and m.disable_notification and m.parse_mode == "HTML"
    assert m.buttons() == [("Unfollow Kherson", "unf:city:kherson")]


async def test_rate_limit_429_is_honoured_never_dropped(sqlite_store: Store) -> None:
    # Herald is misconfigured to go faster than the chat allows: Telegram answers 429.
    rig = await make_rig(sqlite_store, chat_rate=1.0, chat_burst=2, global_rate=1000)
    try:
        cfg = DeliveryConfig(global_rate=1000.0, private_chat_rate=20.0)
        await sqlite_store.outbox.enqueue([alert(7, f"m{i}") for i in range(4)])
        await rig.sender(cfg).drain(60)
        assert [m.plain for m in rig.emu.sent(7)] == ["m0", "m1", "m2", "m3"]
        assert rig.emu.stats.rate_limited >= 1 and "rate_limited" in rig.names()
        # It waited retry_after each time: a send before then is refused again by the
        # emulator (its bucket refills in real time), so m2 and m3 earn one 429 each at
        # most. A sender that retried early would collect one per retry.
        assert rig.emu.stats.rate_limited <= 2, rig.emu.stats.rate_limited
        counts = await sqlite_store.outbox.counts()
        assert counts["sent"] == 4 and counts["failed"] == 0
        rows = [await sqlite_store.outbox.get(i) for i in range(1, 5)]
        assert [r.attempts for r in rows if r is not None] == [0, 0, 0, 0]
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()


async def test_respects_the_global_rate_without_429(sqlite_store: Store) -> None:
    # Burst 8: the emulator shares this process's loop, so a busy loop bunches arrivals;
    # a sender without pacing would still get dozens of 429s.
    rig = await make_rig(sqlite_store, global_rate=40.0, global_burst=8)
    try:
        cfg = DeliveryConfig(global_rate=40.0)
        await sqlite_store.outbox.enqueue([alert(100 + i, "news") for i in range(40)])
        t0 = time.monotonic()
        await rig.sender(cfg).drain(60)
        elapsed = time.monotonic() - t0
        # The emulator refuses any excess over 40/s (burst 8) with a 429: none came.
        assert len(rig.emu.sent()) == 40 and rig.emu.stats.rate_limited == 0
        # Paced, not merely lucky: 40 sends 1/40 s apart take at least 39/40 s (a lower
        # bound, which a slow machine only exceeds; the rate itself is in bench_fanout.py).
        assert elapsed >= 0.9
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()


@pytest.mark.parametrize("how", ["block", "deactivate"])
async def test_403_blocks_the_chat_and_stops(rig: Rig, how: str) -> None:
    await rig.store.chats.upsert(5, type="private", title=None, now=Clock().now())
    getattr(rig.emu, how)(5)
    await rig.store.outbox.enqueue([alert(5, "a"), alert(5, "b"), alert(5, "c"),
                                    alert(6, "other")])
    await rig.sender().drain(30)
    assert rig.emu.stats.forbidden == 1  # one try, then no more sends to that chat
    chat = await rig.store.chats.get(5)
    assert chat is not None and chat.status is ChatStatus.BLOCKED
    assert (await rig.store.outbox.counts()) == {"pending": 0, "sending": 0, "sent": 1,
                                                 "failed": 3, "cancelled": 0, "unknown": 0}
    assert ("blocked", 5) in [(e[0], e[1]) for e in rig.events]
    assert [m.plain for m in rig.emu.sent()] == ["other"]


async def test_temporary_403_is_retried_a_few_times(rig: Rig) -> None:
    rig.emu.forbid(8)
    await rig.store.outbox.enqueue([alert(8, "x")])
    await rig.sender().drain(30)
    assert rig.emu.stats.forbidden == FORBIDDEN_RETRIES
    row = await rig.store.outbox.get(1)
    assert row is not None and row.status is OutboxStatus.FAILED
    assert "can't send messages" in (row.error or "")
    chat_blocked = await rig.store.chats.get(8)
    assert chat_blocked is None or chat_blocked.status is not ChatStatus.BLOCKED


async def test_bad_html_falls_back_to_plain_text(rig: Rig) -> None:
    await rig.store.outbox.enqueue([alert(9, "<b>Kherson</b>: 3 < 5 &amp; <i>rising</i>")])
    await rig.sender().drain(30)
    [m] = rig.emu.sent(9)
    assert m.parse_mode is None and m.plain == "Kherson: 3 < 5 & rising"
    assert rig.emu.stats.bad_request == 1 and "plain_fallback" in rig.names()
    row = await rig.store.outbox.get(1)
    assert row is not None and row.status is OutboxStatus.SENT


def test_html_to_plain() -> None:
    assert html_to_plain('<a href="https://x">link</a> &lt;3 <br> <b x>y</b>') == \
        "link <3 <br> y"
    assert html_to_plain('<b><a href="https://x.org">AT&amp;T</a></b> &lt;3') == "AT&T <3"


async def test_migration_moves_subscriptions_and_delivers_to_new_id(rig: Rig) -> None:
    now = Clock().now()
    await rig.store.chats.upsert(-10, type="group", title="Odesa", now=now)
    await rig.store.chats.subscribe(-10, TagKind.CITY, "odesa", "Odesa", now=now)
    rig.emu.migrate(-10, -1000000000010)
    await rig.store.outbox.enqueue([alert(-10, "first"), alert(-10, "second")])
    await rig.sender().drain(30)
    assert [m.plain for m in rig.emu.sent(-1000000000010)] == ["first", "second"]
    assert rig.emu.sent(-10) == []
    assert [s.key for s in await rig.store.chats.subscriptions(-1000000000010)] == ["odesa"]
    assert await rig.store.chats.get(-10) is None
    assert "migrated" in rig.names()
    assert (await rig.store.outbox.counts())["sent"] == 2


async def test_server_errors_are_retried_with_backoff(rig: Rig) -> None:
    rig.emu.fail_next(2, status=502, description="Bad Gateway")
    await rig.store.outbox.enqueue([alert(11, "one"), alert(11, "two")])
    await rig.sender().drain(30)
    assert [m.plain for m in rig.emu.sent(11)] == ["one", "two"]
    row = await rig.store.outbox.get(1)
    assert row is not None and row.status is OutboxStatus.SENT and row.attempts == 2
    assert rig.names().count("retry") == 2


async def test_gives_up_after_max_attempts(rig: Rig) -> None:
    rig.emu.fail_next(100, status=500)
    await rig.store.outbox.enqueue([alert(12, "doomed")])
    cfg = DeliveryConfig(global_rate=1000.0, private_chat_rate=100.0, max_attempts=3)
    await rig.sender(cfg).drain(30)
    row = await rig.store.outbox.get(1)
    assert row is not None and row.status is OutboxStatus.FAILED
    assert rig.emu.stats.server_error == 3 and "failed" in rig.names()


async def test_other_400_fails_without_retry(rig: Rig) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]})
    await rig.store.outbox.enqueue([alert(13, "bad button", reply_markup=markup),
                                    alert(13, "next one")])
    await rig.sender().drain(30)
    row = await rig.store.outbox.get(1)
    assert row is not None and row.status is OutboxStatus.FAILED
    assert "Button_data_invalid" in (row.error or "")
    assert [m.plain for m in rig.emu.sent(13)] == ["next one"]


async def test_paid_lane_goes_beyond_the_global_rate(sqlite_store: Store) -> None:
    # A global rate so low that 60 messages through the global lane would take ten minutes:
    # they all arrive within the (generous) deadline only through the paid lane.
    rig = await make_rig(sqlite_store, global_rate=0.1, global_burst=1, paid_rate=1000.0)
    try:
        cfg = DeliveryConfig(global_rate=0.1, paid_rate=500.0)
        await sqlite_store.outbox.enqueue(
            [alert(200 + i, "paid news", paid=True, kind=DeliveryKind.BROADCAST)
             for i in range(60)])
        await rig.sender(cfg).drain(60)  # raises TimeoutError when not drained in time
        sent = rig.emu.sent()
        assert len(sent) == 60 and all(m.paid for m in sent)
        assert rig.emu.stats.rate_limited == 0
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()


async def test_paid_flag_ignored_when_lane_is_off(rig: Rig) -> None:
    await rig.store.outbox.enqueue([alert(14, "x", paid=True)])
    await rig.sender().drain(30)
    assert not rig.emu.sent(14)[0].paid


async def test_stop_finishes_in_flight_and_releases_the_rest(rig: Rig) -> None:
    rig.emu.set_delay(0.15, "sendMessage")
    await rig.store.outbox.enqueue([alert(20 + i % 3, f"m{i}") for i in range(30)])
    sender = rig.sender()
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await rig.emu.wait_for(lambda m: True, timeout=30, since=0)
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 30)
    counts = await rig.store.outbox.counts()
    assert counts["sending"] == 0
    assert counts["sent"] == len(rig.emu.sent()) > 0  # every send that happened is recorded
    assert counts["sent"] + counts["pending"] == 30
    await rig.sender().drain(30)  # a new run sends the rest, nothing twice
    plain = [m.plain for m in rig.emu.sent()]
    assert sorted(plain) == sorted(f"m{i}" for i in range(30))


async def test_wake_sends_new_rows_at_once(rig: Rig) -> None:
    sender = Sender(rig.store, rig.bot, FAST, Clock(), worker_id="t2", poll_interval=30)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    # Wait until its first claim (of nothing) is done: from then on it sleeps for the 30 s
    # poll_interval unless woken.
    deadline = asyncio.get_running_loop().time() + 30
    while sender._claims == 0 or sender._claiming:
        assert asyncio.get_running_loop().time() < deadline, "the sender did not start"
        await asyncio.sleep(0.01)
    await rig.store.outbox.enqueue([alert(30, "breaking")])
    sender.wake()
    m = await rig.emu.wait_for(lambda m: m.plain == "breaking", timeout=20, since=0)
    assert m.chat_id == 30
    stop.set()
    await task


async def test_timed_out_send_is_retried_at_least_once_semantics(rig: Rig) -> None:
    # Telegram has no idempotency: a send that timed out may have been delivered anyway.
    rig.emu.set_delay(0.8, "sendMessage")
    slow = Bot(DEFAULT_TOKEN, base_url=rig.emu.base_url,
               request=HTTPXRequest(connection_pool_size=8, read_timeout=0.3))
    await rig.store.outbox.enqueue([alert(40, "slow news")])

    async def heal() -> None:
        while rig.emu.stats.methods["sendMessage"] < 1:  # noqa: ASYNC110 - emulator counter
            await asyncio.sleep(0.01)
        rig.emu.set_delay(0.0, "sendMessage")

    healer = asyncio.create_task(heal())
    async with slow:
        sender = Sender(rig.store, slow, FAST, Clock(), worker_id="t3", backoff_base=0.05,
                        poll_interval=0.1)
        await sender.drain(30)
    await healer
    row = await rig.store.outbox.get(1)
    assert row is not None and row.status is OutboxStatus.SENT and row.attempts == 1
    # the emulator answers the slow request after the client gave up: it was delivered,
    # and at least once means it was sent again
    first = await rig.emu.wait_for(lambda m: m.chat_id == 40, 10, since=0)
    await rig.emu.wait_for(lambda m: m.chat_id == 40 and m is not first, 10, since=0)
    assert [m.plain for m in rig.emu.sent(40)] == ["slow news", "slow news"]


async def test_timed_out_send_is_not_repeated_at_most_once(rig: Rig) -> None:
    """delivery.unknown_outcome = at_most_once: a send without an answer is recorded as
    unknown and never sent again; one that surely never left (no connection) is retried."""
    rig.emu.set_delay(0.8, "sendMessage")
    slow = Bot(DEFAULT_TOKEN, base_url=rig.emu.base_url,
               request=HTTPXRequest(connection_pool_size=8, read_timeout=0.3))
    await rig.store.outbox.enqueue([alert(41, "slow news"), alert(42, "more slow news")])
    cfg = replace(FAST, unknown_outcome="at_most_once")
    events: list[str] = []
    async with slow:
        sender = Sender(rig.store, slow, cfg, Clock(), worker_id="t4", backoff_base=0.05,
                        poll_interval=0.1, on_event=lambda e, d, x: events.append(e))
        await sender.drain(30)
    # the emulator handles both requests after the client gave up: each arrives once
    await rig.emu.wait_for(lambda m: m.chat_id == 42, 10, since=0)
    await rig.emu.wait_for(lambda m: m.chat_id == 41, 10, since=0)
    rig.emu.set_delay(0.0, "sendMessage")
    await rig.store.outbox.enqueue([alert(41, "later news")])
    await rig.sender().drain(30)  # a later message to the same chat: then count
    assert [m.plain for m in rig.emu.sent(41)] == ["slow news", "later news"]
    assert [m.plain for m in rig.emu.sent(42)] == ["more slow news"]
    for row_id in (1, 2):
        row = await rig.store.outbox.get(row_id)
        assert row is not None and row.status is OutboxStatus.UNKNOWN
    assert events.count("unknown") == 2
    assert (await rig.store.outbox.counts())["unknown"] == 2


async def test_a_send_that_never_left_is_retried_even_at_most_once(
        sqlite_store: Store) -> None:
    emu = BotApiEmulator(enforce_limits=False)
    url = await emu.start()
    await emu.stop()  # nothing listens there now: every connection is refused
    dead = Bot(DEFAULT_TOKEN, base_url=url,
               request=HTTPXRequest(connection_pool_size=8, connect_timeout=1))
    await sqlite_store.outbox.enqueue([alert(43, "news")])
    cfg = replace(FAST, unknown_outcome="at_most_once", max_attempts=2)
    sender = Sender(sqlite_store, dead, cfg, Clock(), worker_id="t5", backoff_base=0.05,
                    poll_interval=0.1)
    await sender.drain(30)
    row = await sqlite_store.outbox.get(1)
    # refused connections are retried (never "unknown"): after max_attempts it fails
    assert row is not None and row.status is OutboxStatus.FAILED and row.attempts == 1


async def test_refused_token_keeps_the_rows(rig: Rig) -> None:
    request = HTTPXRequest(connection_pool_size=4)
    wrong = Bot("999:WRONG-TOKEN-abcdefghijklmnopqrstuvwxyz", base_url=rig.emu.base_url,
                request=request)  # not initialized: getMe would fail too
    await rig.store.outbox.enqueue([alert(41, "a"), alert(41, "b")])
    try:
        await Sender(rig.store, wrong, FAST, Clock(), worker_id="t4").drain(20)
    finally:
        await request.shutdown()
    counts = await rig.store.outbox.counts()
    assert counts["pending"] == 2 and counts["failed"] == 0
    row = await rig.store.outbox.get(1)
    assert row is not None and row.attempts == 0 and row.not_before is not None


async def test_broken_row_fails_alone(rig: Rig) -> None:
    await rig.store.outbox.enqueue([alert(42, "bad", reply_markup="{not json"),
                                    alert(42, "fine")])
    await rig.sender().drain(30)
    row = await rig.store.outbox.get(1)
    assert row is not None and row.status is OutboxStatus.FAILED
    assert "invalid reply_markup" in (row.error or "")
    assert [m.plain for m in rig.emu.sent(42)] == ["fine"]


async def test_two_senders_share_the_outbox_without_duplicates(store: Store) -> None:
    rig = await make_rig(store, enforce_limits=False)
    try:
        rig.emu.set_delay(0.002, "sendMessage")
        await store.outbox.enqueue([alert(1 + i % 15, f"n {i}") for i in range(150)])
        cfg = DeliveryConfig(global_rate=10_000.0, private_chat_rate=1000.0, batch_size=20)
        # Two senders of one leader term (a new term would take the other's rows over:
        # see test_a_new_term_takes_over_older_claims_at_once).
        term = await store.counters.next_leader_term()
        a = Sender(store, rig.bot, cfg, Clock(), worker_id="a", poll_interval=0.1, term=term)
        b = Sender(store, rig.bot, cfg, Clock(), worker_id="b", poll_interval=0.1, term=term)
        await asyncio.gather(a.drain(60), b.drain(60))
        texts = [m.plain for m in rig.emu.sent()]
        assert sorted(texts) == sorted(f"n {i}" for i in range(150))  # each exactly once
        for chat in range(1, 16):
            got = [int(m.plain.split()[1]) for m in rig.emu.sent(chat)]
            assert got == sorted(got)
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()


async def test_group_over_its_minute_budget_waits_in_the_outbox(sqlite_store: Store) -> None:
    rig = await make_rig(sqlite_store, group_per_minute=2, chat_rate=100.0, chat_burst=10)
    try:
        cfg = DeliveryConfig(global_rate=1000.0, private_chat_rate=50.0, group_per_minute=2)
        await sqlite_store.outbox.enqueue([alert(-77, f"g{i}") for i in range(3)])
        await rig.sender(cfg).drain(20)  # the third is not due within 20 s: drain returns
        assert [m.plain for m in rig.emu.sent(-77)] == ["g0", "g1"]
        assert rig.emu.stats.rate_limited == 0
        third = await sqlite_store.outbox.get(3)
        assert third is not None and third.status is OutboxStatus.PENDING
        assert third.not_before is not None and third.attempts == 0
        wait = (third.not_before - Clock().now()).total_seconds()
        assert 50 < wait <= 62
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()


# ---- edit rows (alerts that grow: "+3 sources") ------------------------------------


def edit(chat_id: int, message_id: int, text: str, **kw: object):  # type: ignore[no-untyped-def]
    return alert(chat_id, text, DeliveryKind.EDIT, edit_message_id=message_id, story_id=7,
                 **kw)


async def test_an_edit_row_edits_the_message_in_place_with_its_buttons(rig: Rig) -> None:
    await rig.store.outbox.enqueue([alert(5, "<b>Buses</b> leave", story_id=7)])
    await rig.sender().drain(30)
    [sent] = rig.emu.sent(5)
    markup = json.dumps({"inline_keyboard": [[{"text": "All 2 sources",
                                               "callback_data": "srcs:7"}]]})
    await rig.store.outbox.enqueue([edit(5, sent.message_id, "<b>Buses</b> leave · +1 source",
                                         reply_markup=markup, dedup_key="edit:7:2")])
    await rig.sender().drain(30)
    edited = rig.emu.sent(5)[-1]
    assert edited.edited and edited.message_id == sent.message_id
    assert edited.plain == "Buses leave · +1 source" and edited.text.startswith("<b>Buses</b>")
    assert edited.buttons() == [("All 2 sources", "srcs:7")]
    assert len(rig.emu.sent(5)) == 2 and rig.emu.stats.sent == 1  # no new message
    row = await rig.store.outbox.get(2)
    assert row is not None and row.status is OutboxStatus.SENT
    assert row.message_id == sent.message_id


async def test_an_edit_that_changes_nothing_counts_as_done(rig: Rig) -> None:
    # A crash after the edit reached Telegram but before it was recorded repeats it:
    # "message is not modified" then means it is done, not an error.
    await rig.store.outbox.enqueue([alert(5, "same text")])
    await rig.sender().drain(30)
    [sent] = rig.emu.sent(5)
    await rig.store.outbox.enqueue([edit(5, sent.message_id, "same text")])
    await rig.sender().drain(30)
    row = await rig.store.outbox.get(2)
    assert row is not None and row.status is OutboxStatus.SENT


async def test_an_expired_edit_is_given_up_and_a_missing_message_fails(rig: Rig) -> None:
    await rig.store.outbox.enqueue([alert(5, "first")])
    await rig.sender().drain(30)
    [sent] = rig.emu.sent(5)
    await rig.store.outbox.enqueue([
        edit(5, sent.message_id, "too late", expires_at=utcnow() - timedelta(seconds=1)),
        edit(5, 999, "no such message")])
    await rig.sender().drain(30)
    expired, missing = await rig.store.outbox.get(2), await rig.store.outbox.get(3)
    assert expired is not None and expired.status is OutboxStatus.FAILED
    assert "expired" in (expired.error or "")
    assert missing is not None and missing.status is OutboxStatus.FAILED
    assert "message to edit not found" in (missing.error or "").lower()
    assert [m.plain for m in rig.emu.sent(5)] == ["first"]


async def test_edits_are_paced_by_the_per_chat_limit(sqlite_store: Store) -> None:
    # Edits count against Telegram's rate like sends: the emulator enforces it, and the
    # Sender's limiter keeps edits and sends of one chat under it (no 429).
    # Burst 3 at 10/s: six unpaced requests to one chat would get 429s.
    rig = await make_rig(sqlite_store, chat_rate=10.0, chat_burst=3.0)
    try:
        cfg = DeliveryConfig(global_rate=1000.0, private_chat_rate=10.0, batch_size=100)
        await rig.store.outbox.enqueue([alert(5, "first")])
        await rig.sender(cfg).drain(30)
        [sent] = rig.emu.sent(5)
        await rig.store.outbox.enqueue(
            [edit(5, sent.message_id, f"v{i}", dedup_key=f"edit:7:{i}") for i in range(4)]
            + [alert(5, "second")])
        await rig.sender(cfg).drain(30)
        assert rig.emu.stats.rate_limited == 0
        assert [m.plain for m in rig.emu.sent(5)] == ["first", "v0", "v1", "v2", "v3", "second"]
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()


async def test_a_channels_backlog_waits_in_the_outbox_and_private_chats_go_first(
        sqlite_store: Store) -> None:
    """60 posts due at once for one channel (as after an outage), then 10 private alerts:
    the sender holds two of the channel's rows, leaves the rest in the outbox, and the
    private chats are served at once instead of after the channel's batch."""
    store = sqlite_store
    channel = -1001000000001
    rig = await make_rig(store, global_rate=30.0, chat_rate=2.0, group_per_minute=20,
                         chat_burst=3.0)
    try:
        rig.emu.add_channel(channel, username="kherson_news", by_user_id=None)
        await store.channels.register(channel, username="kherson_news", title="K",
                                      admin_id=None, language="en", timezone="UTC",
                                      now=Clock().now())
        await store.outbox.enqueue([alert(channel, f"post {i}", dedup_key=f"story:{i}")
                                    for i in range(60)])
        await store.outbox.enqueue([alert(chat, "private") for chat in range(1, 11)])
        # Without the two-row hold the first claim takes 40 of the channel's rows and the
        # private alerts wait until ten of them are sent (room for a claim): after post 9.
        cfg = DeliveryConfig(global_rate=25.0, private_chat_rate=2.0, group_per_minute=20,
                             batch_size=40)
        sender = rig.sender(cfg)
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        try:
            await rig.emu.wait_for(lambda m: m.plain == "post 7", 60.0, since=0)
        finally:
            stop.set()
            await task
        order = [m.plain for m in rig.emu.sent()]
        assert order.count("private") == 10
        last_private = max(i for i, text in enumerate(order) if text == "private")
        assert last_private < order.index("post 7")  # not after a batch of channel posts
        posts = [m.plain for m in rig.emu.sent(channel)]
        assert posts == [f"post {i}" for i in range(len(posts))]  # in order
        assert rig.emu.stats.rate_limited == 0
        assert (await store.outbox.counts())["pending"] == 60 - len(posts)
    finally:
        await rig.bot.shutdown()
        await rig.emu.stop()
