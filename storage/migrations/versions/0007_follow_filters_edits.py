"""Less noise and alerts that grow: excluded words per follow, official sources, alert edits.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-07

- subscriptions.exclude: words that keep a story from matching this follow (JSON list).
  "Important only" is a third value of subscriptions.mode ("important"): no schema change.
- sources.official: an official source's story is important at once (config flag).
- outbox.edit_message_id: the row edits this message of its chat instead of sending one
  ("+3 sources" when a story grows); outbox.expires_at: a row not sent by then is dropped
  (an edit is pointless once the message is 48 h old).
- ix_outbox_story_id: which chats got an alert for a story (to edit them).
- alert_queue.grown: the mark is for a story matched before that gained an outlet (its
  alerts are edited; only "important only" follows may get a first alert from it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("exclude", sa.JSON(), nullable=False,
                                             server_default=sa.text("'[]'")))
    op.add_column("sources", sa.Column("official", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column("outbox", sa.Column("edit_message_id", sa.BigInteger(), nullable=True))
    op.add_column("outbox", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_story_id", "outbox", ["story_id"])
    op.add_column("alert_queue", sa.Column("grown", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("alert_queue") as batch:
        batch.drop_column("grown")
    op.drop_index("ix_outbox_story_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("edit_message_id")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("official")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("exclude")
