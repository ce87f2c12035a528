"""A channel's official air-raid alert, pinned while it is active and unpinned at the
all-clear, when the channel's operator allows it (/channel set @name pin on).

Pinning is an outbox row like the post itself, so a crash at any instant delays a pin and
never loses it: the fan-out queues, after a channel's post of an alert ("siren:<event>"),
a row of kind PIN ("pin:<event>"); after the all-clear's post, a row of kind UNPIN
("unpin:<start event>") for every channel whose PIN row was queued. The key of a PIN or
UNPIN row names the post it acts on; the sender looks up that post's message id when the
row's turn comes (the post goes first: the same chat, an earlier id, the same priority).
In a channel, pinning takes the administrator right to edit messages.
"""

from __future__ import annotations

from bot.domain import DeliveryKind

PIN_KINDS = frozenset({DeliveryKind.PIN, DeliveryKind.UNPIN})


def pin_key(event_id: int) -> str:
    """The PIN row of the post of event `event_id`."""
    return f"pin:{event_id}"


def unpin_key(start_event_id: int) -> str:
    """The UNPIN row at the all-clear of the alert that began with `start_event_id`."""
    return f"unpin:{start_event_id}"


def post_key(key: str | None) -> str | None:
    """The dedup_key of the post that a PIN or UNPIN row acts on ("pin:7" -> "siren:7")."""
    kind, _sep, event = (key or "").partition(":")
    if kind in ("pin", "unpin") and event.isdigit():
        return f"siren:{event}"
    return None


def rights_refused(error: str) -> bool:
    """Whether Telegram refused a pin for lack of rights (not, say, a deleted post)."""
    lower = error.lower()
    return "rights" in lower or "admin" in lower or "not enough" in lower
