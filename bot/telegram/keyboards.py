"""Inline keyboards of the user area and the callback_data they carry (<= 64 bytes each).

Prefixes owned here: "f:" follow (f:c:<city>, f:t:<topic>, f:p:<phrase>, f:x:<token> for a
phrase kept server-side), "uns:<subscription id>" remove from a list, "unf:<subscription
id>" / "mute:1h" under alerts (rendered by bot.alerts.render; "mute:off" unmutes),
"undo:<removed subscription id>" under /list right after a removal, "lst:<kind>:<key>" latest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.alerts.html import truncate_text
from bot.domain import TagKind

CALLBACK_MAX = 64
LABEL_MAX = 30
KIND_CODE = {TagKind.CITY: "c", TagKind.TOPIC: "t", TagKind.PHRASE: "p", TagKind.PLACE: "u"}
CODE_KIND = {v: k for k, v in KIND_CODE.items()}


@dataclass(frozen=True, slots=True)
class Choice:
    """One thing a button can follow."""

    kind: TagKind
    key: str
    label: str


def fits(data: str) -> bool:
    """True when callback_data is within Telegram's 64 bytes."""
    return len(data.encode("utf-8")) <= CALLBACK_MAX


def follow_data(kind: TagKind, key: str) -> str | None:
    """'f:c:kherson'; None when it does not fit in 64 bytes (keep the phrase server-side)."""
    data = f"f:{KIND_CODE[TagKind(kind)]}:{key}"
    return data if fits(data) else None


def latest_data(kind: TagKind, key: str) -> str | None:
    """'lst:c:kherson', the "Latest news" button; None when it does not fit."""
    data = f"lst:{KIND_CODE[TagKind(kind)]}:{key}"
    return data if fits(data) else None


def with_exclude(data: str | None, exclude: Sequence[str]) -> str | None:
    """Follow data that also carries the words to leave out (a name offered after
    "/subscribe Ivanivka -football"): "fx:u:football,матч:UA63..."; the data unchanged
    when there are none; None when they do not fit in the 64 bytes (or hold ":" or ",")."""
    parsed = parse_follow(data) if data is not None and exclude else None
    if parsed is None or parsed[0] not in ("c", "t", "u"):
        return data
    if any(":" in w or "," in w for w in exclude):
        return None
    code, key, _words = parsed
    carried = f"fx:{code}:{','.join(exclude)}:{key}"
    return carried if fits(carried) else None


def parse_follow(data: str) -> tuple[str, str, tuple[str, ...]] | None:
    """("c"|"t"|"p"|"u"|"x", key, words to leave out) from follow callback_data, or None
    when malformed."""
    if data.startswith("fx:"):
        parts = data.split(":", 3)
        if len(parts) != 4 or parts[1] not in ("c", "t", "u") or not parts[3]:
            return None
        return parts[1], parts[3], tuple(w for w in parts[2].split(",") if w)
    parts = data.split(":", 2)
    if len(parts) != 3 or parts[0] != "f" or parts[1] not in ("c", "t", "p", "u", "x") \
            or not parts[2]:
        return None
    return parts[1], parts[2], ()


def parse_id(data: str, prefix: str) -> int | None:
    """The integer after 'prefix:' ('uns:42' -> 42), or None."""
    head, _, tail = data.partition(":")
    if head != prefix or not tail.isdigit() or len(tail) > 18:
        return None
    return int(tail)


def short(label: str, limit: int = LABEL_MAX) -> str:
    """A button label within `limit` characters, cut between words."""
    return truncate_text(" ".join(label.split()), limit)


def follow_button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(short(text, 40), callback_data=data)


def grid(buttons: Sequence[InlineKeyboardButton], per_row: int = 2) -> InlineKeyboardMarkup:
    """Buttons in rows of `per_row`."""
    rows = [list(buttons[i:i + per_row]) for i in range(0, len(buttons), per_row)]
    return InlineKeyboardMarkup(rows)


def choices_keyboard(choices: Iterable[tuple[str, str]], per_row: int = 2
                     ) -> InlineKeyboardMarkup | None:
    """A keyboard of (button text, callback_data) pairs; None when there are none."""
    buttons = [follow_button(text, data) for text, data in choices]
    return grid(buttons, per_row) if buttons else None


def places_keyboard(choices: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """Candidates that differ by their raion and oblast: one a row, long enough to read
    ("Іванівка — Чугуївський р-н, Харківська область")."""
    buttons = [InlineKeyboardButton(short(text, 60), callback_data=data)
               for text, data in choices]
    return grid(buttons, 1) if buttons else None
