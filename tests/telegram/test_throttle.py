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
    assert lim.hit(1) > 0 and not lim.first_refusal(1)  # the same flood: told once
    t[0] += 30
    assert lim.hit(1) == 0.0  # refilled halfway: the flood is over
    assert [lim.hit(1) for _ in range(2)] == [0.0, 0.0]
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


def test_a_steady_flood_is_told_once_and_every_token_is_answered() -> None:
    """Three commands a second for 25 commands, 20 a minute allowed (issue 13): the first 20
    and the tokens that trickle back are answered; one notice in all."""
    t = [0.0]
    lim = FloodLimiter(per_minute=20, now=lambda: t[0])
    allowed = notices = 0
    for _ in range(25):
        if lim.hit(7) == 0.0:
            allowed += 1
        elif lim.first_refusal(7):
            notices += 1
        t[0] += 1 / 3
    assert notices == 1
    assert allowed == 22  # 20, and 2 tokens back over the 8 seconds
