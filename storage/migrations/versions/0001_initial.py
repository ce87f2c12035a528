"""Initial schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

While the first release is being built this migration creates the schema from
storage.tables; it is frozen into explicit operations before release (see README).
"""

from alembic import op

from storage.tables import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
