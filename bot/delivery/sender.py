"""The Sender: the only code that sends outbox rows to Telegram.

It claims due rows in batches, keeps one queue per chat (so each chat gets its messages in
order), lets many chats be in flight at once, and leaves the pacing to the RateLimiter.
Delivered rows are marked sent in small group commits right after the send, so a crash
can repeat only the few messages that were in flight; nothing is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.clock import Clock, wait_any
from bot.config import DeliveryConfig
from bot.delivery.errors import Action, Outcome, classify, html_to_plain
from bot.delivery.limiter import RateLimiter
from bot.domain import URGENT_KINDS, Delivery, DeliveryKind
from bot.ops.faults import crash_point
from bot.sirens.pins import PIN_KINDS, post_key
from storage.store import Store

log = logging.getLogger("herald.delivery")

EventHook = Callable[[str, Delivery, str | None], None]
DEFER_AFTER = 10.0  # seconds; a chat that must wait longer gives its rows back to the outbox
FORBIDDEN_RETRIES = 3  # a 403 that is not "blocked" is retried this many times
HOLD_SECONDS = 60.0  # after "Unauthorized" (token refused), try again this much later
CHANNEL_HELD = 2  # a channel's rows held at once; the rest of a backlog stays in the outbox


class Sender:
    """Send outbox rows within Telegram's limits; see the module docstring."""

    def __init__(self, store: Store, bot: Bot, cfg: DeliveryConfig, clock: Clock, *,
                 worker_id: str, on_event: EventHook | None = None,
                 backoff_base: float = 2.0, max_backoff: float = 600.0,
                 poll_interval: float = 1.0, max_in_flight: int = 32,
                 term: int | None = None,
                 time_fn: Callable[[], float] = time.monotonic) -> None:
        self.store, self.bot, self.cfg, self.clock = store, bot, cfg, clock
        self.worker_id = worker_id
        self.on_event = on_event
        self.backoff_base, self.max_backoff = backoff_base, max_backoff
        self.poll_interval = poll_interval
        # Sends in flight: a slot is taken before the request and given back once the send
        # is *recorded* (or failed), so requests under way plus messages sent but not yet
        # marked sent never exceed max_in_flight: all that a crash can repeat. Keep it at
        # most the Bot's connection pool size (httpx's pool slows when requests queue in it).
        self.max_in_flight = max_in_flight
        self._send_slots = asyncio.Semaphore(max_in_flight)
        self.limiter = RateLimiter.from_config(cfg, time_fn)
        self._queues: dict[int, deque[Delivery]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._worker_chat: dict[asyncio.Task[None], int] = {}
        self._held: set[int] = set()  # claimed ids not yet resolved
        self._kinds_known: set[int] = set()  # group/channel ids already asked about
        self._plain: set[int] = set()  # ids to resend as plain text
        self._done: list[tuple[int, int | None]] = []  # sent, not yet committed
        self._done_event = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._running = False
        self._claiming = False
        self._claims = 0  # claim queries started (drain's consistency check)
        # The leader term this sender claims under: a new one at each run() (the process
        # leads anew), unless fixed here for several senders of one leader.
        self._fixed_term = term
        self.term: int | None = term

    # ---- public ------------------------------------------------------------------------

    def wake(self) -> None:
        """New rows were enqueued: claim now instead of at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        """Rows claimed by this sender and not yet resolved."""
        return len(self._held)

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and send until `stop` is set; then finish in-flight sends and give back
        the claimed rows that were not sent."""
        if self._running:
            raise RuntimeError("this Sender is already running")
        self._running = True
        self._stop = asyncio.Event()
        try:
            await self._start_term()
        except BaseException:
            self._running = False
            raise
        flusher = asyncio.create_task(self._flusher())
        stopper = asyncio.create_task(self._wake_on(stop))
        try:
            while not stop.is_set():
                claimed = await self._claim()
                await self._idle_wait(busy=claimed)
        finally:
            self._stop.set()
            stopper.cancel()
            if self._workers:
                await asyncio.gather(*self._workers.values(), return_exceptions=True)
            leftovers = [d.id for q in self._queues.values() for d in q]
            self._queues.clear()
            await self._flush()
            flusher.cancel()
            if leftovers:
                await self.store.outbox.release(leftovers)
                self._held.difference_update(leftovers)
            self._running = False

    async def _start_term(self) -> None:
        """Begin a new leader term: rows claimed under an earlier one (a crashed process, a
        leader that lost its lock, this sender before a restart) are taken over at once."""
        # Sent but not yet recorded (a previous run stopped on a database error): recorded
        # first, or the take-over below would send them again. Raises if it still fails.
        await self._flush(retry=False)
        self._held.clear()
        self._queues.clear()
        self._plain.clear()
        if self._fixed_term is None:
            self.term = await self.store.counters.next_leader_term()
        assert self.term is not None
        taken = await self.store.outbox.take_over(self.term)
        if taken:
            log.warning("took over rows claimed before a crash or a leader change",
                        extra={"rows": taken, "term": self.term})

    async def drain(self, timeout: float) -> None:
        """Run until nothing is due before `timeout` (tests, one-shot commands)."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                await asyncio.sleep(0.02)
                if task.done():
                    break
                if self._idle():
                    claims = self._claims
                    due = await self.store.outbox.next_due()
                    left = timedelta(seconds=deadline - loop.time())
                    # a claim during the query may have taken the rows it did not see
                    if (self._idle() and claims == self._claims
                            and (due is None or due > self.clock.now() + left)):
                        break
                if loop.time() > deadline:
                    raise TimeoutError(f"outbox not drained in {timeout}s")
        finally:
            stop.set()
            await task

    def _idle(self) -> bool:
        """Nothing held, nothing to commit, no claim running, and run() got going."""
        return (self._claims > 0 and not self._held and not self._done
                and not self._claiming)

    # ---- claiming ----------------------------------------------------------------------

    async def _claim(self) -> int:
        room = self.cfg.batch_size - len(self._held)
        if room < max(1, self.cfg.batch_size // 4):
            return 0
        self._claiming = True  # rows are 'sending' in the database before they are held
        self._claims += 1
        try:
            rows = await self.store.outbox.claim(self.worker_id, self.clock.now(), room,
                                                 self.cfg.claim_timeout, term=self.term)
        finally:
            self._claiming = False
        if rows:
            crash_point("claimed")
            await self._learn_channels(rows)
        extra: list[int] = []
        for d in rows:
            if d.id in self._held:
                # Our own row outlived claim_timeout while queued behind a slow chat: the
                # claim refreshed claimed_at; queueing it again would send it twice.
                continue
            if (self.limiter.is_channel(d.chat_id)
                    and len(self._queues.get(d.chat_id, ())) >= CHANNEL_HELD):
                extra.append(d.id)  # a channel's backlog waits in the outbox, not here
                continue
            self._held.add(d.id)
            queue = self._queues.setdefault(d.chat_id, deque())
            if d.kind in URGENT_KINDS and queue:
                # An air-raid alert goes ahead of the chat's queued news, behind its earlier
                # alerts, never ahead of the head (its worker may be sending it right now).
                last = max((i for i, q in enumerate(queue) if q.kind in URGENT_KINDS),
                           default=0)
                queue.insert(last + 1, d)
            else:
                queue.append(d)
            if d.chat_id not in self._workers:
                self._start_worker(d.chat_id)
        if extra:
            # Back to pending: the held rows before them keep them from the next claims,
            # which take other chats' rows instead (a channel sends ~20 a minute).
            await self.store.outbox.release(extra)
        return len(rows) - len(extra)

    async def _learn_channels(self, rows: list[Delivery]) -> None:
        """Tell the limiter which of these chats are channels (asked once per chat)."""
        unknown = {d.chat_id for d in rows if d.chat_id < 0} - self._kinds_known
        if not unknown:
            return
        try:
            for chat_id in await self.store.channels.which(sorted(unknown)):
                self.limiter.mark_channel(chat_id)
        except Exception:  # asked again at the next claim; sent meanwhile like a group
            log.exception("could not tell channels apart")
            return
        self._kinds_known.update(unknown)

    def _start_worker(self, chat_id: int) -> None:
        task = asyncio.create_task(self._chat_worker(chat_id))
        self._workers[chat_id] = task
        self._worker_chat[task] = chat_id
        task.add_done_callback(self._worker_done)

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        # A worker may have moved to another chat id (migration): ask the task.
        chat_id = self._worker_chat.pop(task, None)
        if chat_id is not None and self._workers.get(chat_id) is task:
            del self._workers[chat_id]
            if self._queues.get(chat_id) and not self._stop.is_set():
                self._start_worker(chat_id)  # rows arrived as the worker was finishing
        if not task.cancelled() and task.exception() is not None:
            log.error("chat worker crashed", exc_info=task.exception())

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    async def _idle_wait(self, busy: int) -> None:
        """Wait for a wake-up (new rows, room, stop), the next due row, or the poll."""
        if busy and len(self._held) < self.cfg.batch_size:
            timeout = 0.05  # more may be due right away
        else:
            timeout = self.poll_interval
            if not busy and not self._held:
                due = await self.store.outbox.next_due()
                if due is not None:
                    timeout = min(timeout, max(0.01, (due - self.clock.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        self._wake.clear()

    # ---- one chat ----------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; False when the sender is stopping."""
        if seconds > 0:
            await wait_any(self._stop, timeout=seconds)
        return not self._stop.is_set()

    async def _chat_worker(self, chat_id: int) -> None:
        try:
            await self._work_chat(chat_id)
        except Exception:
            # One broken row or a database hiccup must not stop the others: give this
            # chat's rows back to the outbox and let a later claim try again.
            log.exception("chat worker failed", extra={"chat_id": chat_id})
            task = asyncio.current_task()
            current = self._worker_chat.get(task, chat_id) if task is not None else chat_id
            with contextlib.suppress(Exception):
                await self._give_back(current, 5.0)

    async def _work_chat(self, chat_id: int) -> None:
        while not self._stop.is_set():
            queue = self._queues.get(chat_id)
            if not queue:
                self._queues.pop(chat_id, None)
                return
            d = queue[0]
            paid = self.limiter.uses_paid_lane(d.paid)
            wait = self.limiter.chat_wait(chat_id, paid)
            if wait > DEFER_AFTER:
                await self._give_back(chat_id, wait)
                return
            if wait > 0:
                await self._sleep(wait)
                continue
            if not await self._sleep(self.limiter.reserve(chat_id, paid)):
                return
            if not await self._sleep(self.limiter.pace(paid)):
                return
            if self.limiter.paused_for(chat_id, paid) > 0:
                continue  # a 429 arrived while we waited for our slot
            outcome = await self._send(d, paid)
            if outcome is None:
                if self.limiter.is_channel(chat_id):
                    # Recorded before the channel's next post: a crash can repeat one post
                    # of a channel at most, and never out of order.
                    await self._flush()
                continue
            if outcome.action is Action.MIGRATED and outcome.new_chat_id is not None:
                moved_to = await self._migrate(d, outcome.new_chat_id)
                if moved_to is None:
                    return
                chat_id = moved_to
                continue
            if not await self._resolve(d, outcome):
                return

    async def _send(self, d: Delivery, paid: bool) -> Outcome | None:
        """Send one row; None on success (the row is queued for the sent commit)."""
        plain = d.id in self._plain
        markup = None
        if d.reply_markup:
            try:
                markup = InlineKeyboardMarkup.de_json(json.loads(d.reply_markup), self.bot)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                return Outcome(Action.FAIL, f"invalid reply_markup: {exc}")
        if d.expires_at is not None and self.clock.now() > d.expires_at:
            return Outcome(Action.FAIL, "expired before it could be sent")
        pinned: int | None = None
        if d.kind in PIN_KINDS:
            await self._flush()  # the post just sent is recorded with its message id
            key = post_key(d.dedup_key)
            pinned = await self.store.outbox.sent_message_id(d.chat_id, key) if key else None
            if pinned is None:
                return Outcome(Action.FAIL, "the air-raid alert to pin was not sent")
        await self._send_slots.acquire()
        try:
            if d.kind is DeliveryKind.EDIT:
                message_id = await self._edit(d, markup, plain)
            elif pinned is not None:
                message_id = await self._pin(d, pinned)
            else:
                message = await self.bot.send_message(
                    chat_id=d.chat_id, text=html_to_plain(d.text) if plain else d.text,
                    parse_mode=None if plain else ParseMode.HTML,
                    message_thread_id=d.thread_id,
                    disable_notification=d.disable_notification,
                    reply_markup=markup, allow_paid_broadcast=True if paid else None)
                message_id = message.message_id
        except TelegramError as exc:
            self._send_slots.release()
            return classify(exc)
        except BaseException:
            self._send_slots.release()
            raise
        crash_point("sent")  # the slot stays taken until _flush records the send
        self._done.append((d.id, message_id))
        self._done_event.set()
        self._finish(d, "sent", None)
        return None

    async def _edit(self, d: Delivery, markup: InlineKeyboardMarkup | None,
                    plain: bool) -> int | None:
        """Edit the alert d.edit_message_id of d.chat_id ("+3 sources"); its message id.
        Already as wanted ("message is not modified": a repeat after a crash) counts as done."""
        try:
            await self.bot.edit_message_text(
                chat_id=d.chat_id, message_id=d.edit_message_id,
                text=html_to_plain(d.text) if plain else d.text,
                parse_mode=None if plain else ParseMode.HTML, reply_markup=markup)
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise
        return d.edit_message_id

    async def _pin(self, d: Delivery, message_id: int) -> int:
        """Pin (kind PIN, silently) or unpin (kind UNPIN) the channel's post `message_id`
        (bot.sirens.pins). Unpinning what is no longer pinned or no longer there is done."""
        if d.kind is DeliveryKind.PIN:
            await self.bot.pin_chat_message(d.chat_id, message_id, disable_notification=True)
            return message_id
        try:
            await self.bot.unpin_chat_message(d.chat_id, message_id)
        except BadRequest as exc:
            if "not found" not in exc.message.lower() and \
                    "not pinned" not in exc.message.lower():
                raise
        return message_id

    def _finish(self, d: Delivery, event: str, detail: str | None) -> None:
        queue = self._queues.get(d.chat_id)
        if queue and queue[0].id == d.id:
            queue.popleft()
        self._held.discard(d.id)
        self._plain.discard(d.id)
        self._emit(event, d, detail)
        if len(self._held) == self.cfg.batch_size - max(1, self.cfg.batch_size // 4):
            self._wake.set()  # room for a worthwhile claim

    def _emit(self, event: str, d: Delivery, detail: str | None) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event, d, detail)
            except Exception:  # a metrics hook must never stop delivery
                log.exception("on_event hook failed")

    async def _resolve(self, d: Delivery, outcome: Outcome) -> bool:
        """Act on a failed send; False when this chat's worker should stop."""
        now = self.clock.now()
        action = outcome.action
        if action is Action.RATE_LIMITED:
            scope = self.limiter.on_rate_limited(d.chat_id, outcome.retry_after,
                                                 self.limiter.uses_paid_lane(d.paid))
            log.warning("rate limited", extra={"chat_id": d.chat_id, "scope": scope,
                                               "retry_after": outcome.retry_after})
            self._emit("rate_limited", d, scope)
        elif action is Action.PLAIN_FALLBACK and d.id not in self._plain:
            log.warning("HTML rejected, resending as plain text",
                        extra={"outbox_id": d.id, "error": outcome.error})
            self._plain.add(d.id)
            self._emit("plain_fallback", d, outcome.error)
        elif action is Action.BLOCKED:
            await self._flush()
            await self.store.block_chat(d.chat_id, now)
            for row in self._queues.pop(d.chat_id, deque()):
                self._held.discard(row.id)
                self._plain.discard(row.id)
            self.limiter.forget(d.chat_id)
            log.info("chat blocked us", extra={"chat_id": d.chat_id, "error": outcome.error})
            self._emit("blocked", d, outcome.error)
            return False
        elif action is Action.HOLD:
            log.error("Telegram refused the bot token; holding messages",
                      extra={"error": outcome.error})
            self._emit("retry", d, outcome.error)
            await self._give_back(d.chat_id, HOLD_SECONDS)
            return False
        elif action is Action.UNKNOWN and self.cfg.unknown_outcome == "at_most_once":
            await self.store.outbox.mark_unknown(d.id, outcome.error, now)
            log.warning("no answer to a send; not sent again (at most once)",
                        extra={"outbox_id": d.id, "chat_id": d.chat_id,
                               "error": outcome.error})
            self._finish(d, "unknown", outcome.error)
        elif action in (Action.RETRY, Action.RETRY_FEW, Action.UNKNOWN):
            if action is Action.UNKNOWN:
                # At least once: Telegram may have delivered it; sending again may repeat.
                log.warning("no answer to a send; sending again later (at least once)",
                            extra={"outbox_id": d.id, "chat_id": d.chat_id,
                                   "error": outcome.error})
                self._emit("unknown", d, outcome.error)
            attempts = d.attempts + 1
            limit = FORBIDDEN_RETRIES if action is Action.RETRY_FEW else self.cfg.max_attempts
            if attempts >= limit:
                await self._fail(d, outcome.error)
                return True
            delay = min(self.max_backoff, self.backoff_base * 2 ** (attempts - 1))
            delay *= random.uniform(0.8, 1.2)  # spread retries after an outage
            await self.store.outbox.retry_later(d.id, now + timedelta(seconds=delay),
                                                outcome.error)
            self._finish(d, "retry", outcome.error)
            await self._give_back(d.chat_id, delay)  # later rows wait behind this one
            return False
        else:
            await self._fail(d, outcome.error)
        return True

    async def _fail(self, d: Delivery, error: str) -> None:
        await self.store.outbox.mark_failed(d.id, error, self.clock.now())
        log.warning("message failed", extra={"outbox_id": d.id, "chat_id": d.chat_id,
                                             "error": error})
        self._finish(d, "failed", error)

    async def _migrate(self, d: Delivery, new_id: int) -> int | None:
        """Move the chat (store and queue) to its new id; the id to go on with, or None
        when the new chat already has a worker that takes the rows over."""
        await self._flush()
        await self.store.migrate_chat(d.chat_id, new_id, self.clock.now())
        moved = [replace(row, chat_id=new_id) for row in self._queues.pop(d.chat_id, deque())]
        self.limiter.forget(d.chat_id)
        log.info("chat migrated", extra={"chat_id": d.chat_id, "new_chat_id": new_id})
        self._emit("migrated", d, str(new_id))
        existing = self._queues.get(new_id)
        if existing is not None and new_id in self._workers:
            merged = sorted([*existing, *moved], key=lambda r: r.id)
            existing.clear()
            existing.extend(merged)
            return None
        self._queues[new_id] = deque(moved)
        task = self._workers.pop(d.chat_id, None)
        if task is not None:
            self._workers[new_id] = task
            self._worker_chat[task] = new_id
        return new_id

    async def _give_back(self, chat_id: int, wait: float) -> None:
        """Return this chat's claimed rows to the outbox, due after `wait` seconds."""
        queue = self._queues.pop(chat_id, deque())
        if not queue:
            return
        ids = [row.id for row in queue]
        not_before = self.clock.now() + timedelta(seconds=wait) if wait > 0 else None
        await self.store.outbox.release(ids, not_before)
        self._held.difference_update(ids)
        self._wake.set()

    # ---- committing sends --------------------------------------------------------------

    async def _flush(self, *, retry: bool = True) -> None:
        """Record the sent rows; retry every second until it works (or raise, if not
        `retry`). A sent row must never go back to pending: it would be sent twice."""
        async with self._flush_lock:
            while self._done:
                batch, self._done = self._done, []
                try:
                    await self.store.outbox.mark_sent_many(batch, self.clock.now())
                except Exception:
                    self._done = batch + self._done
                    if not retry:
                        raise
                    log.exception("could not record sent messages; retrying")
                    await asyncio.sleep(1.0)
                else:
                    for _ in batch:  # recorded: these sends can no longer be repeated
                        self._send_slots.release()

    async def _flusher(self) -> None:
        """Commit sent rows as soon as possible; sends that finish meanwhile share the
        next commit (group commit)."""
        while True:
            await self._done_event.wait()
            self._done_event.clear()
            await self._flush()
