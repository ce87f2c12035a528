"""Rate limits for sending, as pure bookkeeping over an injectable monotonic clock.

Telegram allows about 30 messages/s per bot, about 1 message/s per chat with short bursts,
20 messages/minute per group, and up to 1000 messages/s for paid broadcasts. Herald keeps
a margin under each one (network jitter reorders arrivals) and honours every 429 for the
scope it applies to. The Sender asks `chat_wait` first and `reserve`s a slot only for a
chat that is ready, so a slow group never holds a place in the global queue.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.config import DeliveryConfig

PRIVATE_BURST = 2  # messages a chat may get back to back (Telegram tolerates a few more)
GROUP_WINDOW = 61.0  # seconds; Telegram counts 20 per 60 s, one second of margin for jitter
CHANNEL_LOOKAHEAD = 2  # slots a channel's post may book ahead of now (see chat_wait)
GLOBAL_SCOPE_CHATS = 3  # this many chats hit by 429 within a second means a global limit
_PRUNE_EVERY = 5000


class Lane:
    """A GCRA ("virtual scheduling") limiter: `rate` per second, `burst` back to back."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (max(1, burst) - 1) * self.interval
        self.tat = 0.0  # theoretical arrival time of the next message
        self.paused_until = 0.0
        self.sent_tat = 0.0  # the same, on the timeline of actual send times

    def earliest(self, now: float) -> float:
        """Earliest time a message may go."""
        return max(now, self.tat - self.tolerance, self.paused_until)

    def book(self, at: float) -> None:
        """Count a message sent at `at`."""
        self.tat = max(self.tat, at) + self.interval


class RateLimiter:
    """Global lane, paid lane, per-chat spacing, per-group window and 429 pauses."""

    def __init__(self, global_rate: float, private_chat_rate: float = 1.0,
                 group_per_minute: int = 20, paid_rate: float = 0.0, *,
                 time_fn: Callable[[], float] = time.monotonic, global_burst: int = 1) -> None:
        self.time = time_fn
        self.global_lane = Lane(global_rate, global_burst)
        self.paid_lane = Lane(paid_rate, max(1, int(paid_rate // 10))) if paid_rate > 0 else None
        self.chat_rate = private_chat_rate
        self.group_per_minute = group_per_minute
        self._chats: dict[int, Lane] = {}
        self._groups: dict[int, deque[float]] = {}
        self._recent_429: deque[tuple[float, int]] = deque()
        self._reply_tat = 0.0  # the next slot free for a reply
        # Channels send only into slots private chats leave free (see chat_wait).
        self._channels: set[int] = set()
        self._bookings = 0

    @classmethod
    def from_config(cls, cfg: DeliveryConfig,
                    time_fn: Callable[[], float] = time.monotonic) -> RateLimiter:
        """A limiter with the configured rates."""
        return cls(cfg.global_rate, cfg.private_chat_rate, cfg.group_per_minute, cfg.paid_rate,
                   time_fn=time_fn)

    def uses_paid_lane(self, paid: bool) -> bool:
        """Paid rows go through the paid lane only when it is configured (paid_rate > 0)."""
        return paid and self.paid_lane is not None

    def _lane(self, paid: bool) -> Lane:
        return self.paid_lane if paid and self.paid_lane is not None else self.global_lane

    def _chat(self, chat_id: int) -> Lane:
        lane = self._chats.get(chat_id)
        if lane is None:
            lane = self._chats[chat_id] = Lane(self.chat_rate, PRIVATE_BURST)
        return lane

    def mark_channel(self, chat_id: int) -> None:
        """This chat is a channel: its posts yield to every other chat's messages."""
        self._channels.add(chat_id)

    def is_channel(self, chat_id: int) -> bool:
        return chat_id in self._channels

    def chat_wait(self, chat_id: int, paid: bool = False) -> float:
        """Seconds until this chat may receive a message (0 = now); books nothing.

        A channel waits until its lane has at most CHANNEL_LOOKAHEAD slots booked ahead:
        other chats book slots as far ahead as they like, a channel only one that is (almost)
        free now, so a backlog of channel posts never delays a private chat by more than a
        few slots (and the lane does not idle while channels wake up to take a slot).
        """
        now = self.time()
        at = self._chat(chat_id).earliest(now)
        at = max(at, self._lane(paid).paused_until)
        if chat_id in self._channels:
            lane = self._lane(paid)
            at = max(at, lane.earliest(now) - CHANNEL_LOOKAHEAD * lane.interval)
        if chat_id < 0:
            window = self._groups.get(chat_id)
            if window:
                while window and window[0] <= now - GROUP_WINDOW:
                    window.popleft()
                if len(window) >= self.group_per_minute:
                    at = max(at, window[-self.group_per_minute] + GROUP_WINDOW)
        return max(0.0, at - now)

    def reserve(self, chat_id: int, paid: bool = False) -> float:
        """Book the next slot for this chat and return the seconds to wait for it.

        Call it when chat_wait() is 0: the slot is then decided by the lane alone.
        """
        now = self.time()
        at = max(self._lane(paid).earliest(now), now + self.chat_wait(chat_id, paid))
        self._lane(paid).book(at)
        self._book_chat(chat_id, at, now)
        return at - now

    def _book_chat(self, chat_id: int, at: float, now: float) -> None:
        """Book `at` on the chat (and a group's one-minute window)."""
        self._chat(chat_id).book(at)
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(at)
        self._bookings += 1
        if self._bookings % _PRUNE_EVERY == 0:
            self._prune(now)

    def reserve_reply(self, chat_id: int) -> tuple[float, bool]:
        """Book a reply to a user: (seconds to wait, whether a slot was booked).

        Replies go ahead of the outbox: on the global lane a reply takes the earliest slot
        (not the end of the queue of alerts booked ahead) and pushes the booked stream back
        by one interval, so the total rate stays within the limit; replies among themselves
        keep that rate too. On its chat a reply waits its turn like any message (the chat's
        spacing, a group's window, any 429 pause): while it must, nothing is booked and the
        answer is (the wait, False), so a reply waiting for a busy chat holds up no other.
        """
        now = self.time()
        wait = self.chat_wait(chat_id)
        if wait > 0:
            return wait, False
        lane = self.global_lane
        at = max(now, self._reply_tat)
        self._reply_tat = at + lane.interval
        lane.tat = max(lane.tat, at) + lane.interval
        lane.sent_tat = max(lane.sent_tat, at) + lane.interval
        self._book_chat(chat_id, at, now)
        return at - now, True

    def pace(self, paid: bool = False) -> float:
        """Call right before sending a reserved message: seconds to wait first.

        Slots are booked ahead; when the process stalls, several booked slots pass at once
        and their senders wake together. Spacing actual send times as well turns that
        bunch back into an even stream instead of a burst that would earn 429s.
        """
        lane = self._lane(paid)
        now = self.time()
        at = max(now, lane.sent_tat - lane.tolerance)
        lane.sent_tat = max(lane.sent_tat, at) + lane.interval
        return at - now

    def on_rate_limited(self, chat_id: int, retry_after: float, paid: bool = False) -> str:
        """A 429 came back: pause the chat, or the whole lane when several chats got one.

        Returns the scope paused: "chat" or "global".
        """
        now = self.time()
        until = now + max(retry_after, 0.0)
        chat = self._chat(chat_id)
        chat.paused_until = max(chat.paused_until, until)
        self._recent_429.append((now, chat_id))
        while self._recent_429 and self._recent_429[0][0] < now - 1.0:
            self._recent_429.popleft()
        if len({c for _, c in self._recent_429}) >= GLOBAL_SCOPE_CHATS:
            lane = self._lane(paid)
            lane.paused_until = max(lane.paused_until, until)
            return "global"
        return "chat"

    def paused_for(self, chat_id: int, paid: bool = False) -> float:
        """Seconds left of a 429 pause covering this chat (its own or its lane's)."""
        now = self.time()
        chat = self._chats.get(chat_id)
        until = max(self._lane(paid).paused_until, chat.paused_until if chat else 0.0)
        return max(0.0, until - now)

    def forget(self, chat_id: int) -> None:
        """Drop the state of a chat that will not be written to again (blocked, migrated)."""
        self._chats.pop(chat_id, None)
        self._groups.pop(chat_id, None)

    def _prune(self, now: float) -> None:
        # Chats idle for a while carry no constraint any more: forget them to bound memory.
        for chat_id in [c for c, lane in self._chats.items()
                        if lane.tat < now - 1.0 and lane.paused_until < now]:
            del self._chats[chat_id]
        for chat_id in [c for c, w in self._groups.items() if not w or w[-1] < now - GROUP_WINDOW]:
            del self._groups[chat_id]
