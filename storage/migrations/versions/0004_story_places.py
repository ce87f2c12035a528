"""Ukraine's places on stories: stories.places (KATOTTG codes with their ancestors).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Story tags of kind "place" need no schema change (story_tags and subscriptions take any
kind). Existing stories get an empty list: they were tagged before places existed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a default (SQLite cannot add a NOT NULL column without one,
    # and rebuilding `stories` would cascade-delete its items and tags).
    op.add_column("stories", sa.Column("places", sa.JSON(), nullable=False,
                                       server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("places")
