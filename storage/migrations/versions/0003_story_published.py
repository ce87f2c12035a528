"""A story's publication time: stories.published_at; story_tags orders by it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09

- stories.published_at: when the story was published (its earliest item), never later
  than first_seen_at. Existing stories get the earliest publication time of their items,
  bounded by first_seen_at.
- story_tags.seen_at becomes story_tags.published_at, a copy of the story's publication
  time (index ix_story_tags_kind_key_published), so /kherson lists stories as published.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
PLACEHOLDER = sa.text("'1970-01-01 00:00:00.000000'")  # SQLite only, see upgrade()


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite adds a NOT NULL column only with a default, and the other way (batch mode:
        # copy the table, drop the old one) would delete every item and tag of every story
        # through their ON DELETE CASCADE. The placeholder is overwritten just below, and
        # Herald always writes the column.
        op.add_column("stories", sa.Column("published_at", TS, nullable=False,
                                           server_default=PLACEHOLDER))
    else:
        op.add_column("stories", sa.Column("published_at", TS, nullable=True))
    # Timestamps are stored in one format on each backend: min() and < compare them right.
    op.execute(
        "UPDATE stories SET published_at = COALESCE("
        "(SELECT min(items.published_at) FROM items WHERE items.story_id = stories.id"
        " AND items.published_at < stories.first_seen_at), first_seen_at)")
    if not sqlite:
        op.alter_column("stories", "published_at", existing_type=TS, nullable=False)

    op.drop_index("ix_story_tags_kind_key_seen", table_name="story_tags")
    op.alter_column("story_tags", "seen_at", new_column_name="published_at",
                    existing_type=TS, existing_nullable=False)
    op.execute(
        "UPDATE story_tags SET published_at = (SELECT stories.published_at FROM stories"
        " WHERE stories.id = story_tags.story_id)")
    op.create_index("ix_story_tags_kind_key_published", "story_tags",
                    ["kind", "key", "published_at"], unique=False)


def downgrade() -> None:
    # The tags' first-seen times are not kept: seen_at comes back holding publication times.
    op.drop_index("ix_story_tags_kind_key_published", table_name="story_tags")
    op.alter_column("story_tags", "published_at", new_column_name="seen_at",
                    existing_type=TS, existing_nullable=False)
    op.create_index("ix_story_tags_kind_key_seen", "story_tags", ["kind", "key", "seen_at"],
                    unique=False)
    # A plain DROP COLUMN (SQLite has it since 3.35): a copy of stories would cascade.
    op.drop_column("stories", "published_at")
