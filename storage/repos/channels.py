"""Repository for channels Herald posts to (a chat of type "channel" plus a `channels` row).

A channel's follows, language and briefing times live on its chat like any chat's; this
repository keeps who set it up, its own settings and whether it is paused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.domain import Channel, ChatStatus, DeliveryKind, OutboxStatus
from storage.repos.base import Repo
from storage.repos.values import aware, aware_or_none, chunks
from storage.tables import channels, chats, outbox, subscriptions

_CHUNK = 5000
_WAITING = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
_NOT_POSTS = (DeliveryKind.PIN.value, DeliveryKind.UNPIN.value)  # rows that post nothing


def _channel(row: Any) -> Channel:
    return Channel(chat_id=row.chat_id, username=row.username, title=row.title,
                   link_button=bool(row.link_button), pin_alerts=bool(row.pin_alerts),
                   admin_ids=tuple(int(a) for a in (row.admin_ids or ())),
                   paused_reason=row.paused_reason, paused_at=aware_or_none(row.paused_at),
                   created_at=aware_or_none(row.created_at))


def _select() -> Any:
    return (select(channels, chats.c.title)
            .select_from(channels.join(chats, chats.c.id == channels.c.chat_id)))


@dataclass(frozen=True, slots=True)
class PostTarget:
    """What the alert fan-out needs to post to one channel."""

    link_button: bool
    # When the channel's last waiting post is due (None: nothing waiting): new posts are
    # spaced after it, so a burst waits in the outbox instead of in the sender.
    last_due: datetime | None


class ChannelRepo(Repo):
    """Channels: set-up, settings, pause and resume."""

    async def register(self, chat_id: int, *, username: str | None, title: str | None,
                       admin_id: int | None, language: str, timezone: str,
                       now: datetime) -> tuple[Channel, bool]:
        """Create the channel (and its chat), or refresh its name and add `admin_id` to
        the admins who are told about it; (channel, created). A paused channel stays
        paused (resume() lifts it)."""
        for attempt in (1, 2):
            try:
                return await self._register(chat_id, username, title, admin_id, language,
                                            timezone, aware(now))
            except IntegrityError:
                # Two updates of a new channel (Herald added, a command) raced to insert
                # it; the second one updates.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _register(self, chat_id: int, username: str | None, title: str | None,
                        admin_id: int | None, language: str, timezone: str,
                        now: datetime) -> tuple[Channel, bool]:
        name = username.lower().lstrip("@") if username else None
        async with self.session.begin() as s:
            chat = (await s.execute(select(chats.c.id, chats.c.type)
                                    .where(chats.c.id == chat_id))).first()
            if chat is None:
                await s.execute(insert(chats).values(
                    id=chat_id, type="channel", title=title, language=language,
                    timezone=timezone, status=ChatStatus.ACTIVE.value, briefing_times=[],
                    created_at=now, updated_at=now))
            else:
                await s.execute(update(chats).where(chats.c.id == chat_id).values(
                    type="channel", title=title, updated_at=now))
            row = (await s.execute(select(channels).where(channels.c.chat_id == chat_id))
                   ).first()
            created = row is None
            if row is None:
                # Set up (again, after /channel remove): the chat posts from now on.
                await s.execute(update(chats).where(chats.c.id == chat_id).values(
                    status=ChatStatus.ACTIVE.value))
                await s.execute(insert(channels).values(
                    chat_id=chat_id, username=name, link_button=False,
                    admin_ids=[admin_id] if admin_id else [], created_at=now, updated_at=now))
            else:
                admins = [int(a) for a in (row.admin_ids or ())]
                if admin_id and admin_id not in admins:
                    admins.append(admin_id)
                await s.execute(update(channels).where(channels.c.chat_id == chat_id).values(
                    username=name or row.username, admin_ids=admins, updated_at=now))
            fresh = (await s.execute(_select().where(channels.c.chat_id == chat_id))).one()
        return _channel(fresh), created

    async def get(self, chat_id: int) -> Channel | None:
        """The channel, or None when this chat is not one Herald posts to."""
        async with self.session.begin() as s:
            row = (await s.execute(_select().where(channels.c.chat_id == chat_id))).first()
        return _channel(row) if row else None

    async def by_username(self, username: str) -> Channel | None:
        """The channel with this public @name (any case, with or without the @)."""
        name = username.lower().lstrip("@")
        async with self.session.begin() as s:
            row = (await s.execute(_select().where(channels.c.username == name))).first()
        return _channel(row) if row else None

    async def list_all(self) -> list[Channel]:
        """Every channel, oldest first."""
        async with self.session.begin() as s:
            rows = (await s.execute(_select().order_by(channels.c.created_at,
                                                       channels.c.chat_id))).all()
        return [_channel(r) for r in rows]

    async def set_link_button(self, chat_id: int, on: bool, now: datetime) -> bool:
        """Show or hide the URL button to the bot under each post; False if unknown."""
        async with self.session.begin() as s:
            res = await s.execute(update(channels).where(channels.c.chat_id == chat_id)
                                  .values(link_button=on, updated_at=aware(now)))
        return bool(res.rowcount)

    async def set_pin_alerts(self, chat_id: int, on: bool, now: datetime) -> bool:
        """Pin official air-raid alerts while active (or not); True when this changed it."""
        async with self.session.begin() as s:
            res = await s.execute(update(channels).where(
                channels.c.chat_id == chat_id, channels.c.pin_alerts.is_not(on))
                .values(pin_alerts=on, updated_at=aware(now)))
        return bool(res.rowcount)

    async def pinning(self, chat_ids: Sequence[int]) -> set[int]:
        """Those of these chats that are channels posting now and pinning air-raid alerts."""
        return await self._among(chat_ids, channels.c.chat_id, channels.c.pin_alerts.is_(True),
                                 channels.c.paused_reason.is_(None))

    async def _among(self, chat_ids: Sequence[int], column: Any, *where: Any) -> set[int]:
        """Those of these chat ids (channels' ids are negative) whose `column` row meets
        `where`; no query when none could be a channel."""
        ids = sorted({c for c in chat_ids if c < 0})
        found: set[int] = set()
        if not ids:
            return found
        async with self.session.begin() as s:
            for part in chunks(ids, _CHUNK):
                found.update((await s.execute(select(column).where(
                    column.in_(part), *where))).scalars())
        return found

    async def pause(self, chat_id: int, reason: str, now: datetime) -> Channel | None:
        """Stop posting (rights lost, removed): the channel when this call paused it, None
        when it was paused already or is unknown, so its admins are told once. Its
        waiting posts are cancelled: they would only fail."""
        now = aware(now)
        async with self.session.begin() as s:
            res = await s.execute(update(channels).where(
                channels.c.chat_id == chat_id, channels.c.paused_reason.is_(None),
            ).values(paused_reason=reason[:500], paused_at=now, updated_at=now))
            await s.execute(update(chats).where(chats.c.id == chat_id).values(
                status=ChatStatus.PAUSED.value, updated_at=now))
            await s.execute(update(outbox).where(
                outbox.c.chat_id == chat_id, outbox.c.status == OutboxStatus.PENDING.value,
            ).values(status=OutboxStatus.CANCELLED.value, error="channel paused"))
            if not res.rowcount:
                return None
            row = (await s.execute(_select().where(channels.c.chat_id == chat_id))).one()
        return _channel(row)

    async def resume(self, chat_id: int, now: datetime) -> bool:
        """Post again (rights given back, set up again); True when it was paused."""
        now = aware(now)
        async with self.session.begin() as s:
            res = await s.execute(update(channels).where(
                channels.c.chat_id == chat_id, channels.c.paused_reason.is_not(None),
            ).values(paused_reason=None, paused_at=None, updated_at=now))
            await s.execute(update(chats).where(chats.c.id == chat_id).values(
                status=ChatStatus.ACTIVE.value, updated_at=now))
        return bool(res.rowcount)

    async def remove(self, chat_id: int, now: datetime) -> bool:
        """Herald stops posting to the channel for good: its follows and its row go, its
        waiting posts are cancelled, its chat is paused. False when it was not a channel."""
        now = aware(now)
        async with self.session.begin() as s:
            res = await s.execute(delete(channels).where(channels.c.chat_id == chat_id))
            if not res.rowcount:
                return False
            await s.execute(delete(subscriptions).where(subscriptions.c.chat_id == chat_id))
            await s.execute(update(chats).where(chats.c.id == chat_id).values(
                status=ChatStatus.PAUSED.value, updated_at=now))
            await s.execute(update(outbox).where(
                outbox.c.chat_id == chat_id, outbox.c.status == OutboxStatus.PENDING.value,
            ).values(status=OutboxStatus.CANCELLED.value, error="channel removed"))
        return True

    async def which(self, chat_ids: Sequence[int]) -> set[int]:
        """Those of these chat ids that are channels (the sender's lane decision)."""
        return await self._among(chat_ids, chats.c.id, chats.c.type == "channel")

    async def post_targets(self, chat_ids: Sequence[int]) -> dict[int, PostTarget]:
        """For those of these chats that are channels: their button setting and when their
        last waiting post is due."""
        ids = sorted({c for c in chat_ids if c < 0})
        out: dict[int, PostTarget] = {}
        async with self.session.begin() as s:
            for part in chunks(ids, _CHUNK):
                buttons: dict[int, bool] = dict((await s.execute(select(
                    channels.c.chat_id, channels.c.link_button).where(
                    channels.c.chat_id.in_(part)))).all())
                if not buttons:
                    continue
                due = func.max(func.coalesce(outbox.c.not_before, outbox.c.created_at))
                last = dict((await s.execute(select(outbox.c.chat_id, due).where(
                    outbox.c.chat_id.in_(list(buttons)), outbox.c.status.in_(_WAITING),
                ).group_by(outbox.c.chat_id))).all())
                for chat_id, button in buttons.items():
                    out[chat_id] = PostTarget(bool(button), aware_or_none(last.get(chat_id)))
        return out

    async def counts(self) -> dict[str, int]:
        """Channels posting ("active") and paused (metrics)."""
        paused = channels.c.paused_reason.is_not(None)
        async with self.session.begin() as s:
            rows = (await s.execute(select(paused, func.count()).group_by(paused))).all()
        by = {bool(p): int(n) for p, n in rows}
        return {"active": by.get(False, 0), "paused": by.get(True, 0)}

    async def stats(self, since: datetime) -> dict[str, int]:
        """For /stats: channels posting and paused, posts sent since (by kind) and edits."""
        is_channel = select(channels.c.chat_id).scalar_subquery()
        async with self.session.begin() as s:
            active = (await s.execute(select(func.count()).select_from(channels).where(
                channels.c.paused_reason.is_(None)))).scalar_one()
            paused = (await s.execute(select(func.count()).select_from(channels).where(
                channels.c.paused_reason.is_not(None)))).scalar_one()
            posts = dict((await s.execute(select(outbox.c.kind, func.count()).where(
                outbox.c.status == OutboxStatus.SENT.value, outbox.c.sent_at >= aware(since),
                outbox.c.chat_id.in_(is_channel)).group_by(outbox.c.kind))).all())
        edits = int(posts.pop("edit", 0))  # a grown story's post edited in place
        for kind in _NOT_POSTS:  # pinning an air-raid alert is no post of its own
            posts.pop(kind, None)
        return {"active": int(active), "paused": int(paused),
                "posts": int(sum(posts.values())), "alerts": int(posts.get("alert", 0)),
                "briefings": int(posts.get("briefing", 0)), "edits": edits}

    async def posts_since(self, chat_id: int, since: datetime) -> int:
        """Posts sent to one channel since `since` (/channel list)."""
        async with self.session.begin() as s:
            return int((await s.execute(select(func.count()).select_from(outbox).where(
                outbox.c.chat_id == chat_id, outbox.c.status == OutboxStatus.SENT.value,
                outbox.c.kind.not_in(("edit", *_NOT_POSTS)),
                outbox.c.sent_at >= aware(since)))).scalar_one())
