"""BroadcastService on every backend: draft, confirm, resumable fan-out, progress, report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from bulk_chats import NOW, add_chats
from sqlalchemy import func, select
from telegram import Bot

from bot.clock import FakeClock
from bot.config import Config, DeliveryConfig
from bot.delivery.broadcast import (
    EVERYONE,
    BroadcastService,
    Segment,
    split_segment,
    validate_broadcast_html,
)
from bot.domain import BroadcastStatus, DeliveryKind, OutboxStatus, OutgoingMessage, TagKind
from bot.errors import UserInputError
from bot.testing.botapi import BotApiEmulator
from storage.store import Store
from storage.tables import outbox

ADMIN = 7
CFG = Config(admins=(ADMIN,), delivery=DeliveryConfig(paid_rate=100.0))
KHERSON = Segment(TagKind.CITY, "kherson", "Kherson")


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator(enforce_limits=False)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def tg_bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    bot = Bot(emulator.token, base_url=emulator.base_url)
    await bot.initialize()
    try:
        yield bot
    finally:
        await bot.shutdown()


def resolve(word: str) -> Segment | None:
    return {"kherson": KHERSON, "sanctions": Segment(TagKind.TOPIC, "sanctions",
                                                     "sanctions")}.get(word.lower())


def test_segment_syntax() -> None:
    assert split_segment("kherson Buses leave at 9", resolve) == (KHERSON, "Buses leave at 9")
    assert split_segment("Kherson", resolve) == (KHERSON, "")
    assert split_segment("Hello everyone", resolve) == (EVERYONE, "Hello everyone")
    assert split_segment("all Kherson is safe", resolve) == (EVERYONE, "Kherson is safe")
    seg, text = split_segment('"No-Fly  Zone" <b>update</b>', resolve)
    assert (seg.kind, seg.key, seg.label, text) == (TagKind.PHRASE, "no-fly zone",
                                                    "No-Fly  Zone", "<b>update</b>")
    assert split_segment('"sanctions" news', resolve)[0].kind == TagKind.TOPIC


def test_html_is_validated_like_telegram() -> None:
    assert validate_broadcast_html(" <b>Hi</b> &amp; bye ") == "<b>Hi</b> &amp; bye"
    for bad, why in (("<b>unclosed", "end tag"), ("<script>x</script>", "Unsupported"),
                     ("a < b", "Unsupported"), ("", "empty"), ("x" * 4097, "too long"),
                     ('<a href="javascript:alert(1)">x</a>', "http")):
        with pytest.raises(UserInputError, match=why):
            validate_broadcast_html(bad)


async def _outbox_rows(store: Store, broadcast_id: int) -> list[tuple[int, str, bool, str]]:
    async with store.session.begin() as s:
        rows = (await s.execute(select(outbox.c.chat_id, outbox.c.dedup_key, outbox.c.paid,
                                       outbox.c.kind)
                                .where(outbox.c.broadcast_id == broadcast_id)
                                .order_by(outbox.c.chat_id))).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_draft_confirm_fanout_progress_and_report(store: Store, emulator: BotApiEmulator,
                                                        tg_bot: Bot) -> None:
    await add_chats(store, range(1, 301), follow=[("city", "kherson")])
    await add_chats(store, range(301, 1301))
    await add_chats(store, range(1301, 1311), follow=[("city", "kherson")], status="paused")
    woken: list[int] = []
    clock = FakeClock(NOW)
    svc = BroadcastService(store, clock, CFG, on_enqueued=lambda: woken.append(1),
                           batch_size=128, progress_interval=0)
    with pytest.raises(UserInputError, match="not valid Telegram HTML"):
        await svc.create(admin_id=ADMIN, admin_chat_id=ADMIN, text="<b>x", segment=KHERSON)
    with pytest.raises(UserInputError, match="Only admins"):
        await svc.create(admin_id=99, admin_chat_id=99, text="x", segment=KHERSON)
    b = await svc.create(admin_id=ADMIN, admin_chat_id=ADMIN,
                         text="<b>Buses</b> leave at 9", segment=KHERSON)
    assert (b.status, b.total, b.segment_label) == (BroadcastStatus.DRAFT, 300, "Kherson")
    await svc.run_pending(tg_bot)
    assert await _outbox_rows(store, b.id) == []  # nothing before Confirm

    progress = await tg_bot.send_message(ADMIN, "preview question")
    await svc.set_progress_message(b.id, progress.message_id)
    with pytest.raises(UserInputError, match="Only admins"):
        await svc.confirm(b.id, 99)  # a forged press by somebody else
    await svc.confirm(b.id, ADMIN)
    with pytest.raises(UserInputError, match="cannot be confirmed"):
        await svc.confirm(b.id, ADMIN)  # double tap
    await svc.run_pending(tg_bot)
    rows = await _outbox_rows(store, b.id)
    assert [r[0] for r in rows] == list(range(1, 301))  # paused chats left out
    assert {(r[1], r[2], r[3]) for r in rows} == {(f"bc:{b.id}", True, "broadcast")}
    assert len(woken) == 3  # a first page of 100, then batches of 128
    b = await store.broadcasts.get(b.id)
    assert b is not None and (b.status, b.enqueued, b.fanout_cursor) == (
        BroadcastStatus.RUNNING, 300, 300)
    edit = emulator.sent(ADMIN)[-1]
    assert edit.edited and "Sent 0 of 300" in edit.plain and "waiting 300" in edit.plain
    assert edit.buttons() == [("Cancel broadcast", f"adm:bc:cancel:{b.id}")]

    # The sender's outcomes, as it records them.
    claimed = await store.outbox.claim("w1", NOW, 300, 120)
    await store.outbox.mark_sent_many([(d.id, 1000 + d.chat_id) for d in claimed[:290]], NOW)
    await store.block_chat(claimed[290].chat_id, NOW)
    for d in claimed[291:299]:
        await store.outbox.mark_failed(d.id, "Bad Request: chat not found", NOW)
    await svc.run_pending(tg_bot)
    edit = emulator.sent(ADMIN)[-1]
    assert "Sent 290 of 300 · blocked 1 · failed 8 · waiting 1" in edit.plain
    await store.outbox.mark_sent_many([(claimed[299].id, 1)], NOW)
    clock.advance(95)
    await svc.run_pending(tg_bot)
    b = await store.broadcasts.get(b.id)
    assert b is not None and b.status == BroadcastStatus.DONE
    final_edit = emulator.sent(ADMIN)[-1]
    assert final_edit.edited and final_edit.buttons() == []
    assert "Broadcast #1 finished in 2 min" in final_edit.plain
    # The report that notifies the admin is owed in the outbox (the Sender sends it).
    [report] = await store.outbox.claim("w1", NOW, 300, 120)
    assert report.chat_id == ADMIN and report.broadcast_id is None
    assert "Broadcast #1 finished</b> in 2 min" in report.text
    assert "Sent 291 · blocked 1 · failed 8 (of 300 recipients)" in report.text
    n_sent = len(emulator.sent(ADMIN))
    await svc.run_pending(tg_bot)
    assert len(emulator.sent(ADMIN)) == n_sent  # reported once
    assert await store.outbox.claim("w1", NOW, 300, 120) == []


class Crash(Exception):
    """The process dies right after writing a batch."""


async def test_fanout_resumes_after_a_crash_without_duplicates(store: Store) -> None:
    await add_chats(store, range(-50, 0))
    await add_chats(store, range(1, 951))
    clock = FakeClock(NOW)
    batches = [0]

    def die_after_two() -> None:
        batches[0] += 1
        if batches[0] == 2:
            raise Crash

    first = BroadcastService(store, clock, CFG, on_enqueued=die_after_two, batch_size=200)
    b = await first.create(admin_id=ADMIN, admin_chat_id=ADMIN, text="hello", segment=EVERYONE)
    await first.confirm(b.id, ADMIN)
    await first.run_pending(None)  # logs the crash
    b = await store.broadcasts.get(b.id)
    # A first page of 100 (-50..50 without 0), then 200 more, then the crash.
    assert b is not None and b.status == BroadcastStatus.QUEUED and b.enqueued == 300
    assert b.fanout_cursor == 250
    # Say it also died between writing the next batch and recording it: written again.
    extra = range(251, 451)
    await store.outbox.enqueue([OutgoingMessage(chat_id=c, kind=DeliveryKind.BROADCAST,
                                                text="hello", broadcast_id=b.id, paid=True,
                                                dedup_key=f"bc:{b.id}") for c in extra], NOW)
    second = BroadcastService(store, clock, CFG, batch_size=200)  # the restarted process
    await second.run_pending(None)
    rows = await _outbox_rows(store, b.id)
    assert [r[0] for r in rows] == [*range(-50, 0), *range(1, 951)]  # each chat exactly once
    b = await store.broadcasts.get(b.id)
    assert b is not None and b.status == BroadcastStatus.RUNNING and b.enqueued == 800


async def test_cancel_midway_cancels_pending_rows_and_reports(store: Store,
                                                              emulator: BotApiEmulator,
                                                              tg_bot: Bot) -> None:
    await add_chats(store, range(1, 101), follow=[("topic", "sanctions")])
    clock = FakeClock(NOW)
    svc = BroadcastService(store, clock, CFG, progress_interval=0)
    seg = Segment(TagKind.TOPIC, "sanctions", "sanctions")
    draft = await svc.create(admin_id=ADMIN, admin_chat_id=ADMIN, text="x", segment=seg)
    discarded, n = await svc.cancel(draft.id, ADMIN)  # a draft can be discarded
    assert discarded.status == BroadcastStatus.CANCELLED and n == 0
    b = await svc.create(admin_id=ADMIN, admin_chat_id=ADMIN, text="y", segment=seg)
    await svc.confirm(b.id, ADMIN)
    await svc.run_pending(tg_bot)
    claimed = await store.outbox.claim("w1", NOW + timedelta(seconds=1), 30, 120)
    await store.outbox.mark_sent_many([(d.id, 1) for d in claimed[:25]], NOW)
    with pytest.raises(UserInputError, match="Only admins"):
        await svc.cancel(b.id, 12345)
    b, n = await svc.cancel(b.id, ADMIN)
    assert n == 70  # the 5 in flight are not taken back from the sender
    with pytest.raises(UserInputError, match="cannot be cancelled"):
        await svc.cancel(b.id, ADMIN)
    counts = await store.outbox.counts(b.id)
    assert (counts["sent"], counts["cancelled"], counts["sending"]) == (25, 70, 5)
    p = await svc.progress(b)
    assert "Broadcast #2 cancelled" in svc.report_text(b, p)
    assert "Not sent: 70" in svc.report_text(b, p)
    await svc.run_pending(tg_bot)  # nothing active any more
    async with store.session.begin() as s:
        pending = (await s.execute(select(func.count()).where(
            outbox.c.status == OutboxStatus.PENDING.value))).scalar_one()
    assert pending == 0
