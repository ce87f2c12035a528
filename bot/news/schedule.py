"""When to check a source next: a pure function of now, the source and what the server said."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from bot.config import PollerConfig

# Backoff is randomized within [1 - JITTER, 1] of its nominal value so that sources that
# failed together (one host down) do not all come back in the same second.
JITTER = 0.25
_MAX_EXPONENT = 30  # 2**30 * any interval is far above any cap; keeps the number small


def next_check(*, now: datetime, interval: int, failures: int, cfg: PollerConfig,
               ttl_minutes: int | None = None, max_age: int | None = None,
               retry_after: float | None = None, jitter: float = 0.0,
               rand: random.Random | None = None) -> datetime:
    """The time of the next poll after a success (failures == 0) or the n-th failure in a row.

    Success: the longest of the source's interval, the feed's ttl and Cache-Control max-age,
    clamped to [min_interval, max_interval]. Failure: interval * 2**failures with jitter,
    capped at max_backoff; never sooner than min_interval or the server's Retry-After
    (itself capped at max_interval, so a source is always tried again). `jitter` lengthens
    a success's delay by up to that fraction, at random (never shortens it): channels read
    on the same interval drift apart instead of asking together.
    """
    interval = max(int(interval), 1)
    if failures <= 0:
        delay = float(max(interval, (ttl_minutes or 0) * 60, max_age or 0))
        delay = min(max(delay, cfg.min_interval), cfg.max_interval)
        if jitter > 0:
            delay *= 1.0 + jitter * (rand or random).random()
    else:
        nominal = min(float(interval) * 2 ** min(failures, _MAX_EXPONENT),
                      float(cfg.max_backoff))
        rng = rand or random
        delay = nominal * (1.0 - JITTER * rng.random())
        delay = max(delay, float(cfg.min_interval))
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), float(cfg.max_interval)))
    return now + timedelta(seconds=delay)
