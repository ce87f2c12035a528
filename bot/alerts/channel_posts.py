"""What differs for a channel's posts: spaced in the outbox, no per-reader buttons.

A channel may get about 20 posts a minute (like a group). A burst of matching stories is
spaced here, when the posts are queued (each due `spacing` after the channel's previous
one), so it waits in the outbox, where it holds no place in the sender's batch and takes
no send slot from private chats, instead of meeting a 429 at Telegram.

Edits of a grown story ("+3 sources", bot.alerts.growth) reach channels as for any chat: a
channel's post is an ordinary outbox row (kind alert, story_id, dedup_key "story:<id>",
Telegram's message_id recorded when sent); AlertService renders the edit the channel's way
(no "You follow", no Unfollow/Mute, the URL button if on) and spaces it like a post.

Official air-raid alerts: a channel is a chat of type "channel" following places, so the
air-raid fan-out by place (bot.sirens.service) includes it once its operator turns them on
(`/channel set @name sirens on`; off by default for a channel); pinned while active and
unpinned at the all-clear with `... pin on` (bot.sirens.pins).
"""

from __future__ import annotations

from datetime import datetime, timedelta

GROUP_WINDOW = 61.0  # seconds: Telegram counts 20 posts per 60 s, one second of margin


def post_spacing(per_minute: int) -> timedelta:
    """The gap between two posts to one channel for `per_minute` posts a minute."""
    return timedelta(seconds=GROUP_WINDOW / max(1, per_minute))


def next_post_at(last_due: datetime | None, now: datetime, spacing: timedelta) -> datetime:
    """When the channel's next post may go: now, or `spacing` after the last one waiting."""
    if last_due is None:
        return now
    return max(now, last_due + spacing)
