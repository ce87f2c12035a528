"""Admin broadcasts: draft with a preview, confirm, fan-out into the outbox, progress, report.

Life of a broadcast (status in the `broadcasts` table, so any process can resume it):

    create() -> DRAFT --confirm()--> QUEUED --fan-out done--> RUNNING --all sent--> DONE
                  \\______________ cancel() (any time before DONE) ______________/ CANCELLED

The fan-out writes one outbox row per recipient (kind BROADCAST, broadcast_id set,
dedup_key "bc:<id>", the paid lane when delivery.paid_rate > 0) in batches, in chat-id order,
and records the highest chat id done (`fanout_cursor`) after each batch. Outbox enqueue is
idempotent on (chat_id, dedup_key), so a crash between a batch and its cursor update only
repeats that batch harmlessly: a restart continues where it stopped.
`run_pending(bot)` (leader only, every few seconds, or `run()` which also wakes at once on
confirm) does the fan-out, edits each admin's progress message (sent, blocked, failed, time
left) and queues the final report in the outbox. The Sender delivers the rows like any other
message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.clock import Clock, wait_any
from bot.config import Config
from bot.delivery.broadcast_text import (
    EVERYONE,
    Progress,
    Segment,
    fmt_duration,
    render_progress,
    render_report,
    split_segment,
    validate_broadcast_html,
)
from bot.domain import Broadcast, BroadcastStatus, DeliveryKind, OutgoingMessage
from bot.errors import UserInputError
from storage.store import Store

log = logging.getLogger(__name__)

ACTIVE = (BroadcastStatus.QUEUED, BroadcastStatus.RUNNING)
CANCELLABLE = (BroadcastStatus.DRAFT, *ACTIVE)
FIRST_PAGE = 100  # recipients in the first fan-out batch (time to the first message)
class ProgressBot(Protocol):
    """What run_pending needs from telegram.Bot (the sender's or the application's)."""

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any: ...
    async def edit_message_text(self, text: str, chat_id: int | None = None,
                                message_id: int | None = None, **kwargs: Any) -> Any: ...


class BroadcastService:
    """Drafts, confirmation, resumable fan-out and progress of admin broadcasts."""

    def __init__(self, store: Store, clock: Clock, cfg: Config | None = None, *,
                 on_enqueued: Callable[[], Any] | None = None, batch_size: int = 1000,
                 progress_interval: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        # Without a config the handler's admin check is the only one (it always runs).
        self.cfg = cfg
        self.on_enqueued = on_enqueued
        self.batch_size = batch_size
        self.progress_interval = progress_interval
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._edited: dict[int, tuple[float, str]] = {}  # id -> (monotonic time, last text)
        self._rate: dict[int, tuple[float, int]] = {}  # id -> (monotonic time, finished)

    @property
    def paid(self) -> bool:
        return bool(self.cfg and self.cfg.delivery.paid_rate > 0)

    @property
    def lane_rate(self) -> float:
        if self.cfg is None:
            return 25.0
        d = self.cfg.delivery
        return d.paid_rate if d.paid_rate > 0 else d.global_rate

    def _check_admin(self, admin_id: int) -> None:
        if self.cfg is not None and admin_id not in self.cfg.admins:
            raise UserInputError("Only admins can do that.")

    # --- admin actions -----------------------------------------------------------------

    async def create(self, *, admin_id: int, admin_chat_id: int, text: str,
                     segment: Segment = EVERYONE) -> Broadcast:
        """Validate and store a draft with its recipient count (nothing is sent yet)."""
        self._check_admin(admin_id)
        text = validate_broadcast_html(text)
        total = await self.store.chats.count_followers(segment.kind, segment.key)
        if total == 0:
            raise UserInputError(f"No active chat is among the {segment.describe()}: "
                                 "nothing to send.")
        return await self.store.broadcasts.create(
            created_by=admin_id, admin_chat_id=admin_chat_id, text=text,
            segment_kind=segment.kind, segment_key=segment.key, segment_label=segment.label,
            total=total, now=self.clock.now())

    async def confirm(self, broadcast_id: int, admin_id: int) -> Broadcast:
        """DRAFT -> QUEUED (once, however many times Confirm is pressed); wakes run()."""
        self._check_admin(admin_id)
        b = await self.store.broadcasts.transition(
            broadcast_id, BroadcastStatus.QUEUED, (BroadcastStatus.DRAFT,), self.clock.now())
        if b is None:
            current = await self.store.broadcasts.get(broadcast_id)
            state = current.status.value if current else "unknown"
            raise UserInputError(f"Broadcast #{broadcast_id} cannot be confirmed ({state}).")
        log.info("broadcast confirmed", extra={"broadcast": b.id, "admin": admin_id,
                                               "total": b.total})
        self._wake.set()
        return b

    async def cancel(self, broadcast_id: int, admin_id: int) -> tuple[Broadcast, int]:
        """Stop a draft or a running broadcast; returns it and the outbox rows cancelled."""
        self._check_admin(admin_id)
        b = await self.store.broadcasts.transition(
            broadcast_id, BroadcastStatus.CANCELLED, CANCELLABLE, self.clock.now())
        if b is None:
            current = await self.store.broadcasts.get(broadcast_id)
            state = current.status.value if current else "unknown"
            raise UserInputError(f"Broadcast #{broadcast_id} cannot be cancelled ({state}).")
        n = await self.store.outbox.cancel_broadcast(broadcast_id)
        log.info("broadcast cancelled", extra={"broadcast": b.id, "admin": admin_id,
                                               "rows": n})
        self._wake.set()  # the leader writes the final report at once
        return b, n

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        """The admin message that run_pending edits with the progress."""
        await self.store.broadcasts.set_progress_message(broadcast_id, message_id)

    # --- leader work ---------------------------------------------------------------------

    async def progress(self, b: Broadcast) -> Progress:
        """Outbox figures for the broadcast."""
        counts = await self.store.outbox.counts(b.id)
        blocked = await self.store.broadcasts.blocked_count(b.id)
        failed = int(counts.get("failed", 0)) - blocked
        return Progress(total=max(b.total, b.enqueued), sent=int(counts.get("sent", 0)),
                        blocked=blocked, failed=max(0, failed),
                        cancelled=int(counts.get("cancelled", 0)),
                        pending=int(counts.get("pending", 0)) + int(counts.get("sending", 0)))

    async def fan_out(self, b: Broadcast) -> Broadcast | None:
        """Enqueue every remaining recipient of a QUEUED broadcast, batch by batch; the
        broadcast as RUNNING afterwards, or None when it was cancelled meanwhile."""
        cursor = b.fanout_cursor
        # A small first page: the first messages go out while the rest is still queued.
        size = min(FIRST_PAGE, self.batch_size)
        while True:
            batch = await self.store.broadcasts.recipients(b.segment_kind, b.segment_key,
                                                           after=cursor, limit=size)
            if not batch:
                break
            size = self.batch_size
            cursor = batch[-1]
            rows = [OutgoingMessage(chat_id=c, kind=DeliveryKind.BROADCAST, text=b.text,
                                    broadcast_id=b.id, paid=self.paid, dedup_key=f"bc:{b.id}")
                    for c in batch]
            added = await self.store.outbox.enqueue(rows, self.clock.now())
            if not await self.store.broadcasts.advance(b.id, batch[-1], added):
                # Cancelled while this batch was written: take back what it added.
                await self.store.outbox.cancel_broadcast(b.id)
                return None
            if self.on_enqueued is not None:
                self.on_enqueued()
            await asyncio.sleep(0)  # let the sender and the handlers run between batches
        return await self.store.broadcasts.transition(
            b.id, BroadcastStatus.RUNNING, (BroadcastStatus.QUEUED,), self.clock.now())

    async def run_pending(self, bot: ProgressBot | None) -> None:
        """One pass over active broadcasts: fan-out, progress, final report.
        Overlapping calls return at once."""
        if self._lock.locked():
            return
        async with self._lock:
            for b in await self.store.broadcasts.active():
                try:
                    await self._advance(b, bot)
                except Exception:
                    log.exception("broadcast step failed", extra={"broadcast": b.id})

    async def run(self, stop: asyncio.Event, bot: ProgressBot | None,
                  interval: float = 0.5) -> None:
        """Call run_pending every `interval` seconds, and at once after a confirm/cancel."""
        while not stop.is_set():
            self._wake.clear()
            await self.run_pending(bot)
            await wait_any(self._wake, stop, timeout=interval)

    async def _advance(self, b: Broadcast, bot: ProgressBot | None) -> None:
        if b.status == BroadcastStatus.QUEUED:
            await self._show(b, bot, force=True)
            fanned = await self.fan_out(b)
            if fanned is None:
                return
            b = fanned
        if b.status == BroadcastStatus.RUNNING and not await self.store.broadcasts.has_unsent(
                b.id):
            now = self.clock.now()
            p = await self.progress(b)
            finished = dataclasses.replace(b, status=BroadcastStatus.DONE, finished_at=now)
            # The report is owed before the broadcast is marked done: a crash in between
            # repeats this step, and the outbox keeps one report (its dedup key).
            await self._enqueue_report(finished, p)
            done = await self.store.broadcasts.transition(
                b.id, BroadcastStatus.DONE, (BroadcastStatus.RUNNING,), now)
            if done is not None:
                log.info("broadcast done", extra={"broadcast": b.id, "sent": p.sent,
                                                  "blocked": p.blocked, "failed": p.failed})
                await self._edit_report(finished, bot, p)
            return
        await self._show(b, bot)  # reads the full counts only when an edit is due

    # --- admin messages ------------------------------------------------------------------

    def _eta(self, b: Broadcast, p: Progress) -> float:
        """Seconds left: the measured rate when there is one, else the lane's rate."""
        now = time.monotonic()
        prev = self._rate.get(b.id)
        rate = self.lane_rate
        if prev is not None and now - prev[0] >= 1.0 and p.finished > prev[1]:
            rate = (p.finished - prev[1]) / (now - prev[0])
        if prev is None or now - prev[0] >= 10.0:
            self._rate[b.id] = (now, p.finished)
        remaining = p.pending
        if b.status == BroadcastStatus.QUEUED:
            remaining += max(0, b.total - b.enqueued)
        return remaining / max(rate, 0.1)

    def progress_text(self, b: Broadcast, p: Progress) -> str:
        """The progress message (HTML)."""
        return render_progress(b, p, self._eta(b, p))

    def report_text(self, b: Broadcast, p: Progress) -> str:
        """The final report (HTML)."""
        return render_report(b, p)

    async def _show(self, b: Broadcast, bot: ProgressBot | None, p: Progress | None = None,
                    *, force: bool = False) -> None:
        if bot is None or b.progress_message_id is None:
            return
        now = time.monotonic()
        last = self._edited.get(b.id)
        if not force and last is not None and now - last[0] < self.progress_interval:
            return
        current = await self.store.broadcasts.get(b.id)
        if current is None or current.status not in ACTIVE:
            return  # cancelled meanwhile: the cancel's report stays on the message
        p = p or await self.progress(b)
        text = self.progress_text(b, p)
        if last is not None and last[1] == text:
            return
        self._edited[b.id] = (now, text)
        with contextlib.suppress(Exception):  # a deleted message or "not modified": go on
            await bot.edit_message_text(text, chat_id=b.admin_chat_id,
                                        message_id=b.progress_message_id, parse_mode="HTML",
                                        reply_markup=cancel_keyboard(b.id))

    async def _edit_report(self, b: Broadcast, bot: ProgressBot | None, p: Progress) -> None:
        """The progress message becomes the report (a convenience: the new message that
        notifies the admin is in the outbox)."""
        self._edited.pop(b.id, None)
        self._rate.pop(b.id, None)
        if bot is None or b.progress_message_id is None:
            return
        with contextlib.suppress(Exception):  # a deleted message: the outbox has the report
            await bot.edit_message_text(self.report_text(b, p), chat_id=b.admin_chat_id,
                                        message_id=b.progress_message_id, parse_mode="HTML")

    async def _enqueue_report(self, b: Broadcast, p: Progress) -> None:
        """The final report as a new message (so the admin is notified), sent by the Sender
        like every pushed message: within the limits, retried, never lost."""
        report = OutgoingMessage(chat_id=b.admin_chat_id, kind=DeliveryKind.BROADCAST,
                                 text=self.report_text(b, p), dedup_key=f"bc-report:{b.id}")
        if await self.store.outbox.enqueue([report], self.clock.now()) and self.on_enqueued:
            self.on_enqueued()


def cancel_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    """The progress message's Cancel button (the press is re-checked as an admin's)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        "Cancel broadcast", callback_data=f"adm:bc:cancel:{broadcast_id}")]])


__all__ = ["EVERYONE", "BroadcastService", "Progress", "Segment", "cancel_keyboard",
           "fmt_duration", "split_segment", "validate_broadcast_html"]
