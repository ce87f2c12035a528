"""next_check: the schedule is a pure function."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from bot.config import PollerConfig
from bot.news.schedule import next_check

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
CFG = PollerConfig(min_interval=60, max_interval=86_400, max_backoff=21_600)


def delay(**kw: object) -> float:
    args: dict[str, object] = {"now": NOW, "interval": 300, "failures": 0, "cfg": CFG,
                               "rand": random.Random(1)}
    args.update(kw)
    return (next_check(**args) - NOW).total_seconds()  # type: ignore[arg-type]


def test_success_uses_longest_hint_within_bounds() -> None:
    assert delay() == 300
    assert delay(ttl_minutes=30) == 1800
    assert delay(max_age=900, ttl_minutes=5) == 900
    assert delay(max_age=10) == 300  # hints only ever slow us down
    assert delay(interval=5) == 60  # min_interval
    assert delay(ttl_minutes=100_000) == 86_400  # max_interval


def test_failure_backs_off_exponentially_with_jitter_and_cap() -> None:
    delays = [delay(failures=n) for n in range(1, 12)]
    for n, d in enumerate(delays[:5], start=1):
        nominal = 300 * 2**n
        assert 0.75 * nominal <= d <= nominal
    assert all(d <= 21_600 for d in delays)
    assert delays[-1] >= 0.75 * 21_600  # reached the cap, stays there
    assert delay(failures=10_000) <= 21_600  # no overflow
    # jitter spreads sources that failed together
    spread = {delay(failures=3, rand=random.Random(seed)) for seed in range(20)}
    assert len(spread) > 10


def test_retry_after_is_a_floor_but_capped() -> None:
    assert delay(failures=1, retry_after=7200) == 7200
    assert delay(failures=1, retry_after=10**9) == 86_400  # always tried again
    assert delay(failures=0, retry_after=5000) == 5000
    assert delay(failures=1, retry_after=1) >= 450
