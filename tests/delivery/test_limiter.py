"""The rate limiter with a fake monotonic clock."""

from __future__ import annotations

import itertools

import pytest

from bot.config import DeliveryConfig
from bot.delivery.limiter import CHANNEL_LOOKAHEAD, GROUP_WINDOW, PRIVATE_BURST, RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def simulate(lim: RateLimiter, clock: FakeTime, chats: list[int], paid: bool = False
             ) -> list[float]:
    """Send one message to each chat in turn the way the Sender does; return send times."""
    times = []
    for chat in chats:
        clock.t += lim.chat_wait(chat, paid)
        clock.t += lim.reserve(chat, paid)
        times.append(clock.t)
    return times


def test_global_rate_is_evenly_spaced() -> None:
    clock = FakeTime()
    lim = RateLimiter(25.0, time_fn=clock)
    times = simulate(lim, clock, list(range(1, 101)))
    assert times[0] == 1000.0
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(1 / 25)
    assert times[-1] - times[0] == pytest.approx(99 / 25)


def test_reservations_queue_up_without_waiting_in_between() -> None:
    clock = FakeTime()
    lim = RateLimiter(10.0, time_fn=clock)
    delays = [lim.reserve(chat) for chat in range(1, 6)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_private_chat_allows_a_small_burst_then_one_per_second() -> None:
    clock = FakeTime()
    lim = RateLimiter(1000.0, private_chat_rate=1.0, time_fn=clock)
    times = simulate(lim, clock, [7] * 6)
    assert times[PRIVATE_BURST - 1] - times[0] < 0.01
    for a, b in zip(times[PRIVATE_BURST:], times[PRIVATE_BURST + 1:], strict=False):
        assert b - a == pytest.approx(1.0)
    # another chat is not slowed by chat 7
    assert lim.chat_wait(8) == 0.0


def test_group_window_allows_twenty_per_minute() -> None:
    clock = FakeTime()
    lim = RateLimiter(1000.0, private_chat_rate=100.0, group_per_minute=20, time_fn=clock)
    times = simulate(lim, clock, [-5] * 45)
    for i in range(len(times)):
        in_window = [t for t in times if times[i] - GROUP_WINDOW < t <= times[i]]
        assert len(in_window) <= 20
    assert times[20] - times[0] == pytest.approx(GROUP_WINDOW)
    assert times[40] - times[20] == pytest.approx(GROUP_WINDOW)
    assert lim.chat_wait(5) == 0.0  # a private chat with the same number is separate


def test_429_for_one_chat_pauses_that_chat_only() -> None:
    clock = FakeTime()
    lim = RateLimiter(30.0, time_fn=clock)
    assert lim.on_rate_limited(7, 5.0) == "chat"
    assert lim.chat_wait(7) == pytest.approx(5.0)
    assert lim.paused_for(7) == pytest.approx(5.0)
    assert lim.chat_wait(8) == 0.0 and lim.paused_for(8) == 0.0
    clock.t += 5.0
    assert lim.chat_wait(7) == 0.0


def test_429s_across_chats_pause_the_lane() -> None:
    clock = FakeTime()
    lim = RateLimiter(30.0, paid_rate=1000.0, time_fn=clock)
    assert lim.on_rate_limited(1, 3.0) == "chat"
    clock.t += 0.2
    assert lim.on_rate_limited(2, 3.0) == "chat"
    clock.t += 0.2
    assert lim.on_rate_limited(3, 3.0) == "global"
    assert lim.chat_wait(99) == pytest.approx(3.0)
    assert lim.reserve(99) == pytest.approx(3.0)  # the booked slot is after the pause
    assert lim.chat_wait(100, paid=True) == 0.0  # the paid lane has its own budget
    clock.t += 5
    assert lim.on_rate_limited(4, 1.0) == "chat"  # old 429s no longer count


def test_paid_lane_is_separate_and_faster() -> None:
    clock = FakeTime()
    lim = RateLimiter(30.0, paid_rate=1000.0, time_fn=clock)
    assert lim.uses_paid_lane(True) and not lim.uses_paid_lane(False)
    free = simulate(lim, clock, list(range(1, 301)))
    clock.t = 1000.0
    lim2 = RateLimiter(30.0, paid_rate=1000.0, time_fn=clock)
    paid = simulate(lim2, clock, list(range(1, 301)), paid=True)
    assert free[-1] - free[0] == pytest.approx(299 / 30)
    assert paid[-1] - paid[0] < 0.3
    off = RateLimiter.from_config(DeliveryConfig(paid_rate=0.0), time_fn=clock)
    assert not off.uses_paid_lane(True)


def test_idle_chats_are_forgotten() -> None:
    clock = FakeTime()
    lim = RateLimiter(1e6, time_fn=clock)
    for chat in range(1, 5001):
        lim.reserve(chat)
        clock.t += 0.001
    assert len(lim._chats) < 5000
    lim.forget(4999)
    assert 4999 not in lim._chats


def test_pace_spreads_senders_that_wake_together_after_a_stall() -> None:
    clock = FakeTime()
    lim = RateLimiter(10.0, time_fn=clock)
    slots = [lim.reserve(chat) for chat in range(1, 6)]  # 0.0, 0.1, ... 0.4 s ahead
    assert slots == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    clock.t += 1.0  # the process stalled: every slot has passed, all wake at once
    delays = [lim.pace() for _ in range(5)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    clock.t += 2.0  # on schedule again: no extra wait
    assert lim.pace() == 0.0


def test_a_reply_goes_ahead_of_the_booked_outbox_and_pushes_it_back() -> None:
    clock = FakeTime()
    lim = RateLimiter(10.0, time_fn=clock)
    booked = [lim.reserve(chat) for chat in range(1, 11)]  # one second of alerts booked ahead
    assert booked[-1] == pytest.approx(0.9)
    assert lim.reserve_reply(500) == (0.0, True)  # the reply goes now, not after a second
    # The next alert comes one interval later than it would have: the rate holds.
    assert lim.reserve(11) == pytest.approx(1.1)
    # Replies among themselves keep the global rate, and a chat's own spacing.
    assert lim.reserve_reply(501) == (pytest.approx(0.1), True)
    assert lim.reserve_reply(502) == (pytest.approx(0.2), True)  # booked 0.2 s ahead
    # Another reply to 502 waits until that one's time comes; nothing is booked for it
    # meanwhile, so a reply to another chat is not held up behind it.
    assert lim.reserve_reply(502) == (pytest.approx(0.2), False)
    assert lim.reserve_reply(503) == (pytest.approx(0.3), True)
    clock.t += 0.2
    assert lim.reserve_reply(502) == (pytest.approx(0.2), True)  # after 503's slot
    clock.t += 0.2
    # PRIVATE_BURST (2) replies in a row; the third a second after the first (at 1.2).
    assert lim.reserve_reply(502) == (pytest.approx(0.8), False)
    # A 429 pause covers replies too.
    lim.on_rate_limited(504, 5.0)
    assert lim.reserve_reply(504) == (pytest.approx(5.0), False)


def test_a_channel_takes_only_slots_no_other_chat_booked() -> None:
    clock = FakeTime()
    lim = RateLimiter(10.0, time_fn=clock)
    lim.mark_channel(-1001)
    assert lim.is_channel(-1001) and not lim.is_channel(-200)
    # Five private chats book the next half second of the lane ahead of time.
    assert [round(lim.reserve(chat), 3) for chat in range(1, 6)] == [0, 0.1, 0.2, 0.3, 0.4]
    # The channel waits until no more than two slots are booked ahead of it.
    ahead = CHANNEL_LOOKAHEAD * 0.1
    assert lim.chat_wait(-1001) == pytest.approx(0.5 - ahead)
    assert lim.chat_wait(-200) == 0  # a group books ahead like a private chat
    assert lim.chat_wait(6) == 0
    clock.t += lim.chat_wait(-1001)
    assert lim.chat_wait(-1001) == pytest.approx(0)
    assert lim.reserve(-1001) == pytest.approx(ahead)
    # A private chat arriving now waits behind the channel's post: a few slots at most.
    assert lim.reserve(7) == pytest.approx(ahead + 0.1)
    lim.mark_channel(-1002)  # another channel: the lane is booked too far ahead for it
    assert lim.chat_wait(-1002) == pytest.approx(ahead + 0.2 - ahead)
