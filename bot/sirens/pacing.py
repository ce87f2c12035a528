"""When the alerts API may be asked next; pure. The clock it reads is persisted (see
SirenRepo.mark_request), so the limit holds across restarts and leader changes."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import SirenPollState

RATE_LIMITED_WAIT = 60.0  # after a 429 without Retry-After: a full minute of silence
MAX_BLOCKED_WAIT = 3600.0  # 403/401: doubling from a minute up to an hour
MAX_ERROR_WAIT = 300.0


MARGIN_S = 0.1  # per interval: jitter in when requests arrive never fits one more in a minute


def interval_s(requests_per_minute: float) -> float:
    """Seconds between two requests at this rate: no 60 s window, measured at the API,
    holds more than `requests_per_minute` of them."""
    return 60.0 / requests_per_minute + MARGIN_S


def next_request_at(state: SirenPollState, interval: float, now: datetime) -> datetime:
    """The earliest time of the next request: one interval after the last one (even when
    the clock went back), and not before a wait the API imposed."""
    due = now
    if state.last_request_at is not None:
        due = max(due, min(state.last_request_at, now) + timedelta(seconds=interval))
    if state.not_before is not None:
        due = max(due, state.not_before)
    return due


def backoff_s(status: str, failures: int, interval: float,
              retry_after: float | None = None) -> float:
    """How long to stay silent after a failure (`failures` counts this one)."""
    n = max(0, failures - 1)
    if status == "rate_limited":
        return max(retry_after or 0.0, RATE_LIMITED_WAIT)
    if status in ("blocked", "unauthorized"):
        return min(60.0 * 2 ** n, MAX_BLOCKED_WAIT)
    return min(interval * 2 ** n, MAX_ERROR_WAIT)
