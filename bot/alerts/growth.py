"""Alerts that grow with their story: what to do with a chat's alert when more outlets carry
the story ("+3 sources"). A pure decision; AlertService carries it out through the outbox.

- The alert is still waiting in the outbox: its text is updated there (nothing extra sent).
- It was sent less than EDIT_WINDOW ago: an edit row (DeliveryKind.EDIT) edits it in place,
  at most `max_edits` times per chat and story; an edit row still waiting is updated instead
  of adding another. The row expires when the message turns EDIT_WINDOW old.
- Otherwise (being sent right now, failed, too old, no message id): nothing.

Every destination that has an alert row of the story (a private chat, a group, a channel)
is handled the same way: the edit goes to the chat and message the alert row recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain import OutboxStatus

EDIT_WINDOW = timedelta(hours=48)


class Step(StrEnum):
    NONE = "none"
    UPDATE_ALERT = "update_alert"  # the alert row is pending: rewrite its text
    UPDATE_EDIT = "update_edit"  # an edit row is pending: rewrite its text
    NEW_EDIT = "new_edit"  # queue an edit row


@dataclass(frozen=True, slots=True)
class EditPlan:
    step: Step
    row_id: int | None = None  # the row to update (UPDATE_*)
    message_id: int | None = None  # the message to edit (NEW_EDIT)
    expires_at: datetime | None = None  # NEW_EDIT: give up after this


def plan_edit(*, status: OutboxStatus, message_id: int | None, sent_at: datetime | None,
              alert_id: int, edits: int, pending_edit_id: int | None, now: datetime,
              max_edits: int) -> EditPlan:
    """What to do with one chat's alert about a story that gained sources."""
    if max_edits <= 0:
        return EditPlan(Step.NONE)
    if status is OutboxStatus.PENDING:
        return EditPlan(Step.UPDATE_ALERT, row_id=alert_id)
    if status is not OutboxStatus.SENT or message_id is None or sent_at is None:
        return EditPlan(Step.NONE)
    expires = sent_at + EDIT_WINDOW
    if now >= expires:
        return EditPlan(Step.NONE)
    if pending_edit_id is not None:
        return EditPlan(Step.UPDATE_EDIT, row_id=pending_edit_id)
    if edits >= max_edits:
        return EditPlan(Step.NONE)
    return EditPlan(Step.NEW_EDIT, message_id=message_id, expires_at=expires)
