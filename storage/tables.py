"""SQLAlchemy Core tables: the one schema that SQLite and PostgreSQL share."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = DateTime(timezone=True)
# BigInteger ids that are still autoincrementing INTEGER PRIMARY KEY on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("url", String(2000), nullable=False, unique=True),
    Column("language", String(8), nullable=False, default="en"),
    Column("cities", JSON, nullable=False, default=list),
    Column("topics", JSON, nullable=False, default=list),
    Column("poll_interval", Integer, nullable=False, default=600),
    Column("paused", Boolean, nullable=False, default=False),
    Column("origin", String(16), nullable=False, default="config"),  # config | admin
    # an official source (a government channel, say): its story is important at once
    Column("official", Boolean, nullable=False, default=False),
    Column("etag", String(500)),
    Column("last_modified", String(100)),
    Column("next_check_at", TS, index=True),
    Column("last_checked_at", TS),
    Column("last_success_at", TS),
    Column("failure_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", TS, nullable=False),
)

stories = Table(
    "stories",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("title", Text, nullable=False),
    Column("url", String(2000)),
    Column("summary", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    # The lead item's publication time, never after first_seen_at: the story's time for users.
    Column("published_at", TS, nullable=False),
    Column("first_seen_at", TS, nullable=False, index=True),
    Column("updated_at", TS, nullable=False),
    Column("source_count", Integer, nullable=False, default=1),
    Column("cities", JSON, nullable=False, default=list),
    Column("topics", JSON, nullable=False, default=list),
    # KATOTTG codes of the story's Ukrainian places and their ancestors (Tags.places)
    Column("places", JSON, nullable=False, default=list),
    Column("fingerprint", JSON),  # near-duplicate signature of the lead item
)

items = Table(
    "items",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("story_id", BigId, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("guid", String(2000)),
    Column("url", String(2000), index=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("published_at", TS, nullable=False),
    Column("fetched_at", TS, nullable=False, index=True),
    Column("language", String(8), nullable=False, default="en"),
    Column("tags", JSON, nullable=False, default=dict),  # {"cities","topics","evidence"}
)

# One row per (story, tag): the index behind /kherson, /latest and briefings. published_at
# is a copy of the story's (also for a tag the story gains later), so one index range per
# tag lists its stories in publication order.
story_tags = Table(
    "story_tags",
    metadata,
    Column("story_id", BigId, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # city | topic
    Column("key", String(200), primary_key=True),
    Column("published_at", TS, nullable=False),
    Index("ix_story_tags_kind_key_published", "kind", "key", "published_at"),
)

# Stories whose followers have not been matched yet. A row is written in the transaction
# that stores the story and deleted once the story's alerts are in the outbox, so a crash
# or an error between the two leaves a mark the next poll cycle acts on.
alert_queue = Table(
    "alert_queue",
    metadata,
    Column("story_id", BigId, ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", TS, nullable=False),
    # a story matched before that gained an outlet (a new story's mark stays False)
    Column("grown", Boolean, nullable=False, default=False),
)

chats = Table(
    "chats",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # Telegram chat id
    Column("type", String(16), nullable=False, default="private"),
    Column("title", String(300)),
    Column("language", String(8), nullable=False, default="en"),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("status", String(16), nullable=False, default="active", index=True),
    Column("briefing_times", JSON, nullable=False, default=list),  # ["08:00", "19:00"]
    Column("skip_empty_briefing", Boolean, nullable=False, default=False),
    Column("quiet_start", String(5)),  # "23:00"
    Column("quiet_end", String(5)),  # "07:00"
    Column("quiet_mode", String(8), nullable=False, default="silent"),  # silent | hold
    Column("alerts_per_hour", Integer, nullable=False, default=0),  # 0 = no cap
    Column("muted_until", TS),
    Column("last_briefing_at", TS),
    Column("next_briefing_at", TS, index=True),  # UTC; the briefing due-query reads this
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# Chats of type "channel" Herald posts to: who set each one up (told when it is paused)
# and its channel-only settings. Follows, language and briefing times are its chat's.
channels = Table(
    "channels",
    metadata,
    Column("chat_id", BigInteger, ForeignKey("chats.id", ondelete="CASCADE"),
           primary_key=True, autoincrement=False),
    Column("username", String(64), index=True),  # lower case, without the @
    Column("link_button", Boolean, nullable=False, default=False),
    # pin official air-raid alerts while active, unpin at the all-clear
    Column("pin_alerts", Boolean, nullable=False, default=False),
    Column("admin_ids", JSON, nullable=False, default=list),  # Telegram user ids
    Column("paused_reason", Text),  # None = posting
    Column("paused_at", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("chat_id", BigInteger, ForeignKey("chats.id", ondelete="CASCADE",
                                             onupdate="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # city | topic | phrase
    Column("key", String(200), nullable=False),
    Column("label", String(200), nullable=False),
    Column("mode", String(16), nullable=False, default="instant"),  # | important | briefing
    Column("created_at", TS, nullable=False),
    Column("exclude", JSON, nullable=False, default=list),  # words that keep a story out
    UniqueConstraint("chat_id", "kind", "key", name="uq_subscriptions_chat_kind_key"),
    Index("ix_subscriptions_kind_key", "kind", "key"),
)

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_by", BigInteger, nullable=False),
    Column("admin_chat_id", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("segment_kind", String(8)),  # None = everyone; city | topic | phrase
    Column("segment_key", String(200)),
    Column("status", String(16), nullable=False, default="draft"),
    # draft | queued | running | cancelled | done
    Column("total", Integer, nullable=False, default=0),
    Column("progress_message_id", BigInteger),
    Column("segment_label", String(200)),
    Column("enqueued", Integer, nullable=False, default=0),
    Column("fanout_cursor", BigInteger),  # highest chat id enqueued: where a restart resumes
    Column("created_at", TS, nullable=False),
    Column("confirmed_at", TS),
    Column("finished_at", TS),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("chat_id", BigInteger, nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # alert | briefing | broadcast
    Column("text", Text, nullable=False),
    Column("thread_id", BigInteger),
    Column("disable_notification", Boolean, nullable=False, default=False),
    Column("reply_markup", Text),
    Column("story_id", BigInteger),
    Column("broadcast_id", Integer, index=True),
    Column("paid", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", TS),
    Column("created_at", TS, nullable=False),
    Column("claimed_at", TS),
    Column("claimed_by", String(64)),
    Column("sent_at", TS),
    Column("message_id", BigInteger),
    Column("error", Text),
    Column("dedup_key", String(100)),
    # The leader term under which the row was claimed: a leader of a later term takes over
    # rows claimed under an earlier one at once (their holder is known to be gone).
    Column("claim_term", BigInteger),
    # An edit ("+3 sources"): edit this message of the chat instead of sending a new one.
    Column("edit_message_id", BigInteger),
    Column("expires_at", TS),  # not sent by then: given up (an edit of a 48 h old message)
    UniqueConstraint("chat_id", "dedup_key", name="uq_outbox_chat_dedup"),
    Index("ix_outbox_status_id", "status", "id"),
    # The sender's claim asks "does this chat have an earlier row still waiting?"
    Index("ix_outbox_chat_status_id", "chat_id", "status", "id"),
    Index("ix_outbox_story_id", "story_id"),  # which chats got a story's alert (edits)
    # Air-raid alerts (kind "siren") are claimed ahead of everything else.
    Index("ix_outbox_status_kind_id", "status", "kind", "id"),
)

# Named counters shared by every process (the leader term: one more at each election).
counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False, default=0),
)

# --- official air-raid alerts (bot/sirens) ------------------------------------------------

# The alerts API poller's state, one row per API: its request clock (persisted before each
# request, so the rate limit holds across restarts), conditional-GET validator and health.
siren_state = Table(
    "siren_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_request_at", TS),
    Column("not_before", TS),  # no request before this (after a 429 or 403)
    Column("last_modified", String(100)),
    Column("last_success_at", TS),
    Column("last_status", String(32)),  # ok | not_modified | blocked | rate_limited | error
    Column("failure_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("unknown", JSON),  # titles of locations the last list had that we cannot place
    Column("updated_at", TS, nullable=False),
)

# The alerts active as of the last list Herald read: what the next list is compared with.
siren_active = Table(
    "siren_active",
    metadata,
    Column("key", String(200), primary_key=True),  # "<location_uid>|<alert_type>"
    Column("alert_id", BigInteger),
    Column("location_uid", String(64), nullable=False),
    Column("location_type", String(16), nullable=False),
    Column("title", String(300), nullable=False),
    Column("code", String(24)),  # KATOTTG code of the location; None when unknown
    Column("alert_type", String(24), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("start_event_id", BigInteger),
)

# Alert started / ended, written with the change of siren_active in one transaction; `done`
# once every follower's message is in the outbox (as alert_queue does for stories).
siren_events = Table(
    "siren_events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("kind", String(8), nullable=False),  # start | end
    Column("key", String(200), nullable=False),
    Column("alert_id", BigInteger),
    Column("location_type", String(16), nullable=False),
    Column("title", String(300), nullable=False),
    Column("code", String(24)),
    Column("alert_type", String(24), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("at", TS, nullable=False),  # when it started (start) or ended (end)
    Column("start_event_id", BigInteger),  # an end: its start event
    Column("done", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    Index("ix_siren_events_done_id", "done", "id"),
)

# Per-chat choices about air-raid alerts; no row = the defaults (on, every type, loud).
siren_prefs = Table(
    "siren_prefs",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("types", JSON),  # alert types wanted; None = all
    Column("loud", Boolean, nullable=False, default=True),  # loud even in quiet hours
    Column("asked", Boolean, nullable=False, default=False),  # the one-time question shown
    Column("updated_at", TS, nullable=False),
)
