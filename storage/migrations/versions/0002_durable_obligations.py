"""Durable obligations: the alert queue, leader terms, outbox claims by term.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

- alert_queue: stories whose followers have not been matched yet (written with the story).
- counters: named counters shared by all processes (leader_term).
- outbox.claim_term: the leader term a row was claimed under.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_queue",
        sa.Column("story_id", BigId, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"],
                                name=op.f("fk_alert_queue_story_id_stories"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("story_id", name=op.f("pk_alert_queue")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    # A plain ADD COLUMN (SQLite has it): no copy of a possibly large outbox table.
    op.add_column("outbox", sa.Column("claim_term", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claim_term")
    op.drop_table("counters")
    op.drop_table("alert_queue")
