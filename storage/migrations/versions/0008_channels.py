"""Channels Herald posts to: table `channels` (issue 15).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A channel is a chat of type "channel" (its follows, language and briefing times are its
chat's); this table holds who set it up and the channel-only settings.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("link_button", sa.Boolean(), nullable=False),
        sa.Column("admin_ids", sa.JSON(), nullable=False),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chats.id"], ondelete="CASCADE",
                                name="fk_channels_chat_id_chats"),
        sa.PrimaryKeyConstraint("chat_id", name="pk_channels"),
    )
    op.create_index("ix_channels_username", "channels", ["username"])


def downgrade() -> None:
    op.drop_index("ix_channels_username", table_name="channels")
    op.drop_table("channels")
