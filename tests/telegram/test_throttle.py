"""FloodLimiter: a token bucket per user, one warning per episode, bounded memory."""

from __future__ import annotations

from bot.telegram.throttle import FloodLimiter


def test_bucket_refills_and_warns_once_per_episode() -> None:
    t = [0.0]
    lim = FloodLimiter(per_minute=6, now=lambda: t[0])  # one token every 10 s
    assert [lim.hit(1) for _ in range(6)] == [0.0] * 6
    wait = lim.hit(1)
    assert 9.9 < wait <= 10.0
    assert lim.first_refusal(1) and not lim.first_refusal(1)
    assert lim.hit(2) == 0.0  # another user is not affected
    t[0] += 10
    assert lim.hit(1) == 0.0  # refilled one token
    assert lim.hit(1) > 0 and lim.first_refusal(1)  # a new episode warns again
    t[0] += 3600
    assert [lim.hit(1) for _ in range(6)] == [0.0] * 6  # never more than capacity


def test_idle_users_are_forgotten_when_the_table_is_full() -> None:
    t = [0.0]
    lim = FloodLimiter(per_minute=60, now=lambda: t[0], max_users=100)
    for user in range(100):
        lim.hit(user)
    t[0] += 5  # everybody's bucket is full again
    lim.hit(1000)
    assert len(lim._buckets) == 1
