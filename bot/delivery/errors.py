"""Translate python-telegram-bot's errors into what the sender should do with the row."""

from __future__ import annotations

import html
import re
import warnings
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)


class Action(StrEnum):
    RATE_LIMITED = "rate_limited"  # wait retry_after for the scope, retry; never drop
    BLOCKED = "blocked"  # permanent: the chat is gone for us (blocked, deactivated, kicked)
    MIGRATED = "migrated"  # the group became a supergroup: move and resend
    PLAIN_FALLBACK = "plain_fallback"  # our HTML was wrong: resend once as plain text
    RETRY = "retry"  # network, timeout, 5xx: back off and retry up to max_attempts
    RETRY_FEW = "retry_few"  # a 403 that may pass ("can't send messages"): a few retries
    FAIL = "fail"  # any other 400: Telegram will never accept this message
    HOLD = "hold"  # our token was refused: keep every row, try again later, count nothing
    # no answer after the request left: Telegram may have delivered it (it has no
    # idempotency key); delivery.unknown_outcome decides between resending and giving up
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Outcome:
    action: Action
    error: str
    retry_after: float = 0.0
    new_chat_id: int | None = None


# Forbidden texts that mean "never again" (the rest can pass later).
_PERMANENT_403 = ("bot was blocked by the user", "user is deactivated",
                  "bot was kicked", "bot is not a member", "chat was deleted")
_GONE_400 = ("chat not found", "peer_id_invalid", "user not found",
             "need administrator rights in the channel chat")  # a channel's rights lost


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError) -> Outcome:
    """What to do after this error from send_message."""
    message = exc.message
    lower = message.lower()
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 warns the type will become timedelta
            warnings.simplefilter("ignore")
            retry_after = _seconds(exc.retry_after)
        return Outcome(Action.RATE_LIMITED, message, retry_after=retry_after)
    if isinstance(exc, ChatMigrated):
        return Outcome(Action.MIGRATED, message, new_chat_id=int(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        if any(p in lower for p in _PERMANENT_403):
            return Outcome(Action.BLOCKED, message)
        return Outcome(Action.RETRY_FEW, message)
    if isinstance(exc, BadRequest):
        if "can't parse entities" in lower or "can't find end tag" in lower:
            return Outcome(Action.PLAIN_FALLBACK, message)
        if any(p in lower for p in _GONE_400):
            return Outcome(Action.BLOCKED, message)
        return Outcome(Action.FAIL, message)
    if isinstance(exc, InvalidToken):
        return Outcome(Action.HOLD, message)  # an operator problem: keep the rows
    if isinstance(exc, TimedOut | NetworkError):
        return Outcome(Action.RETRY if never_sent(exc) else Action.UNKNOWN, message)
    return Outcome(Action.RETRY, message)  # Conflict or unknown: retry, never drop


# What the request layers say when the request never left this process: no connection
# could be made, or none was free (PTB's HTTPXRequest, our LeanRequest).
_NOT_SENT_MESSAGES = ("pool timeout", "connect timed out", "connect failed")
_NOT_SENT_CAUSES = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
                    ConnectionRefusedError)


def never_sent(exc: TelegramError) -> bool:
    """True when a network error surely happened before Telegram could see the request."""
    if exc.message.lower().startswith(_NOT_SENT_MESSAGES):
        return True
    cause = exc.__cause__
    return isinstance(cause, _NOT_SENT_CAUSES)


_TAG_RE = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|span|tg-spoiler|a|code|pre|blockquote|tg-emoji)"
    r"(?:\s[^<>]*)?/?>", re.IGNORECASE)


def html_to_plain(text: str) -> str:
    """Plain text of (possibly broken) Telegram HTML: formatting tags dropped, entities
    unescaped; anything else (a stray '<') stays as the text it was."""
    return html.unescape(_TAG_RE.sub("", text))
