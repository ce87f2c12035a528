"""Per-user command flood limiter: a user who floods commands or buttons is slowed down.

A token bucket per user (limits.commands_per_minute, refilled continuously). It runs as a
TypeHandler in group -1, before every other handler: an update over the limit gets one polite
"slow down" per episode (button presses get it as the callback answer) and is dropped with
ApplicationHandlerStop. Plain text that is not a command is never counted, other users
have their own buckets, so one flooder affects nobody else, and admins are not limited.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.i18n import pick_language, translator
from bot.telegram.context import Context, reply_gate, thread_of

log = logging.getLogger(__name__)

THROTTLE_GROUP = -1  # before the handler areas (group 0) and after nothing else


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class FloodLimiter:
    """Token buckets by user id; pure apart from the injected monotonic clock."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic,
                 max_users: int = 50_000) -> None:
        self.capacity = float(max(1, per_minute))
        self.rate = self.capacity / 60.0  # tokens per second
        self.now = now
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    def _bucket(self, user_id: int, now: float) -> _Bucket:
        b = self._buckets.get(user_id)
        if b is None:
            if len(self._buckets) >= self.max_users:
                self._prune(now)
            b = self._buckets[user_id] = _Bucket(self.capacity, now)
        else:
            b.tokens = min(self.capacity, b.tokens + (now - b.at) * self.rate)
            b.at = now
        return b

    def _prune(self, now: float) -> None:
        """Forget users whose bucket has refilled: they are indistinguishable from new ones."""
        full = [u for u, b in self._buckets.items()
                if b.tokens + (now - b.at) * self.rate >= self.capacity]
        for u in full:
            del self._buckets[u]

    def hit(self, user_id: int) -> float:
        """Count one command; 0 when allowed, else the seconds until the next one is."""
        now = self.now()
        b = self._bucket(user_id, now)
        if b.tokens >= 1.0:
            if b.tokens >= self.capacity / 2:
                # The flood is over only once the bucket has refilled halfway: a user who
                # keeps typing at a steady pace above the limit is told once, not at every
                # token that trickles back.
                b.warned = False
            b.tokens -= 1.0
            return 0.0
        return (1.0 - b.tokens) / self.rate

    def first_refusal(self, user_id: int) -> bool:
        """True once per throttling episode: the user is told to slow down only once."""
        b = self._buckets.get(user_id)
        if b is None or b.warned:
            return False
        b.warned = True
        return True


def _counted(update: Update) -> bool:
    """Commands and button presses count; plain messages and other updates do not."""
    if update.callback_query is not None:
        return True
    msg = update.message or update.edited_message
    return bool(msg and msg.text and msg.text.startswith("/"))


def make_throttle(limiter: FloodLimiter, exempt: frozenset[int] = frozenset(),
                  ) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """The group -1 callback that enforces `limiter` (users in `exempt`, the admins, are
    trusted and never slowed down)."""

    async def throttle(update: Update, context: Context) -> None:
        # Every update passes here first: /health reads this to tell that updates flow.
        context.application.bot_data["last_update_at"] = time.time()
        user = update.effective_user
        if user is None or user.id in exempt or not _counted(update):
            return
        wait = limiter.hit(user.id)
        if wait <= 0:
            return
        _ = translator(pick_language(user.language_code))
        note = _("You are sending commands too fast. Please wait {seconds} s and try again."
                 ).format(seconds=math.ceil(wait))
        log.info("throttled", extra={"user": user.id, "wait": round(wait, 1)})
        if update.callback_query is not None:
            # Every press must be answered anyway; the answer is a toast, not a chat message.
            try:
                await update.callback_query.answer(note)
            except Exception as exc:
                log.debug("throttle answer failed", extra={"error": repr(exc)})
        elif limiter.first_refusal(user.id) and update.effective_chat is not None:
            chat_id = update.effective_chat.id
            thread = thread_of(update.effective_message)  # a forum's topic, like answers
            # Through the replies' gate: the notice must not be lost to a 429 either.
            await reply_gate(context).send(chat_id, lambda: context.bot.send_message(
                chat_id, note, parse_mode=ParseMode.HTML, message_thread_id=thread))
        raise ApplicationHandlerStop

    return throttle


def register_throttle(application: Application[Any, Any, Any, Any, Any, Any]) -> FloodLimiter:
    """Install the limiter (group -1) with limits.commands_per_minute from the services."""
    services = application.bot_data.get("services")
    per_minute = services.config.limits.commands_per_minute if services is not None else 20
    admins = frozenset(services.config.admins) if services is not None else frozenset()
    limiter = FloodLimiter(per_minute)
    application.bot_data["flood_limiter"] = limiter
    application.add_handler(TypeHandler(Update, make_throttle(limiter, admins)),
                            group=THROTTLE_GROUP)
    return limiter


