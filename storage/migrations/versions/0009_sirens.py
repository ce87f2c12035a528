"""Official air-raid alerts (issue 12): the API poller's state, the active alerts, the
durable start/end events, per-chat choices, and an outbox index for their priority.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "siren_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last_request_at", TS),
        sa.Column("not_before", TS),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("last_success_at", TS),
        sa.Column("last_status", sa.String(32)),
        sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("unknown", sa.JSON),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "siren_active",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("alert_id", sa.BigInteger),
        sa.Column("location_uid", sa.String(64), nullable=False),
        sa.Column("location_type", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("code", sa.String(24)),
        sa.Column("alert_type", sa.String(24), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("start_event_id", sa.BigInteger),
    )
    op.create_table(
        "siren_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("alert_id", sa.BigInteger),
        sa.Column("location_type", sa.String(16), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("code", sa.String(24)),
        sa.Column("alert_type", sa.String(24), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("start_event_id", sa.BigInteger),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_siren_events_done_id", "siren_events", ["done", "id"])
    op.create_table(
        "siren_prefs",
        sa.Column("chat_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("types", sa.JSON),
        sa.Column("loud", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("asked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_outbox_status_kind_id", "outbox", ["status", "kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_kind_id", table_name="outbox")
    op.drop_table("siren_prefs")
    op.drop_index("ix_siren_events_done_id", table_name="siren_events")
    op.drop_table("siren_events")
    op.drop_table("siren_active")
    op.drop_table("siren_state")
