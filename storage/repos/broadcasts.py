"""Repository for admin broadcasts and their progress (status, fan-out cursor, progress message)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from bot.domain import Broadcast, BroadcastStatus, ChatStatus, OutboxStatus, TagKind
from storage.repos.base import Repo
from storage.repos.values import aware_or_none
from storage.tables import broadcasts, chats, outbox, subscriptions

# Statuses in which a broadcast still has work to do (fan-out or sending).
ACTIVE = (BroadcastStatus.QUEUED, BroadcastStatus.RUNNING)


def _broadcast(row: Any) -> Broadcast:
    return Broadcast(
        id=row.id, created_by=row.created_by, admin_chat_id=row.admin_chat_id, text=row.text,
        status=BroadcastStatus(row.status),
        segment_kind=TagKind(row.segment_kind) if row.segment_kind else None,
        segment_key=row.segment_key, segment_label=row.segment_label, total=row.total,
        enqueued=row.enqueued or 0, fanout_cursor=row.fanout_cursor,
        progress_message_id=row.progress_message_id, created_at=aware_or_none(row.created_at),
        confirmed_at=aware_or_none(row.confirmed_at), finished_at=aware_or_none(row.finished_at))


def _values(statuses: Iterable[BroadcastStatus]) -> list[str]:
    return [BroadcastStatus(s).value for s in statuses]


class BroadcastRepo(Repo):
    """Admin broadcasts. Status changes are compare-and-set, so a double tap or a forged
    button press racing with another process changes a broadcast at most once."""

    async def create(self, *, created_by: int, admin_chat_id: int, text: str,
                     segment_kind: TagKind | None, segment_key: str | None,
                     segment_label: str | None, total: int, now: datetime) -> Broadcast:
        """Store a draft (previewed, not yet confirmed)."""
        async with self.session.begin() as s:
            res = await s.execute(insert(broadcasts).values(
                created_by=created_by, admin_chat_id=admin_chat_id, text=text,
                segment_kind=TagKind(segment_kind).value if segment_kind else None,
                segment_key=segment_key, segment_label=segment_label,
                status=BroadcastStatus.DRAFT.value, total=total, enqueued=0,
                created_at=now).returning(broadcasts))
            return _broadcast(res.one())

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast, or None."""
        async with self.session.begin() as s:
            row = (await s.execute(select(broadcasts)
                                   .where(broadcasts.c.id == broadcast_id))).first()
        return _broadcast(row) if row else None

    async def transition(self, broadcast_id: int, to: BroadcastStatus,
                         expect: Iterable[BroadcastStatus], now: datetime) -> Broadcast | None:
        """Move to `to` only from one of `expect`; the updated broadcast, or None if it was not
        in one of those statuses (already confirmed, cancelled, done, or unknown)."""
        values: dict[str, Any] = {"status": BroadcastStatus(to).value}
        if to == BroadcastStatus.QUEUED:
            values["confirmed_at"] = now
        if to in (BroadcastStatus.CANCELLED, BroadcastStatus.DONE):
            values["finished_at"] = now
        async with self.session.begin() as s:
            res = await s.execute(update(broadcasts).where(
                broadcasts.c.id == broadcast_id,
                broadcasts.c.status.in_(_values(expect))).values(**values))
            if not res.rowcount:
                return None
            row = (await s.execute(select(broadcasts)
                                   .where(broadcasts.c.id == broadcast_id))).one()
        return _broadcast(row)

    async def advance(self, broadcast_id: int, cursor: int, added: int) -> bool:
        """Record fan-out progress: chats up to `cursor` are in the outbox (`added` new rows).

        Only while QUEUED: a cancel that won the race is not undone.
        """
        async with self.session.begin() as s:
            res = await s.execute(update(broadcasts).where(
                broadcasts.c.id == broadcast_id,
                broadcasts.c.status == BroadcastStatus.QUEUED.value,
            ).values(fanout_cursor=cursor, enqueued=broadcasts.c.enqueued + added))
        return bool(res.rowcount)

    async def set_progress_message(self, broadcast_id: int, message_id: int | None) -> None:
        """Remember which admin message shows the progress (edited as it goes)."""
        async with self.session.begin() as s:
            await s.execute(update(broadcasts).where(broadcasts.c.id == broadcast_id)
                            .values(progress_message_id=message_id))

    async def recipients(self, kind: TagKind | None, key: str | None, *, after: int | None,
                         limit: int) -> list[int]:
        """The next `limit` active chats of a segment with an id above `after`, in id order
        (keyset paging: the fan-out never holds the whole audience in memory)."""
        # Broadcasts are for people: a channel's readers never get an admin announcement
        # (the same segment as ChatRepo.followers, which counts the preview).
        active = and_(chats.c.status == ChatStatus.ACTIVE.value, chats.c.type != "channel")
        if kind is None:
            q = select(chats.c.id).where(active)
        else:
            # (chat_id, kind, key) is unique in subscriptions: one row per chat, no DISTINCT.
            q = (select(chats.c.id)
                 .select_from(chats.join(subscriptions, subscriptions.c.chat_id == chats.c.id))
                 .where(active, subscriptions.c.kind == TagKind(kind).value,
                        subscriptions.c.key == key))
        if after is not None:
            q = q.where(chats.c.id > after)
        async with self.session.begin() as s:
            return list((await s.execute(q.order_by(chats.c.id).limit(limit))).scalars())

    async def active(self) -> list[Broadcast]:
        """Broadcasts with work left (queued or running), oldest first."""
        async with self.session.begin() as s:
            rows = (await s.execute(select(broadcasts)
                                    .where(broadcasts.c.status.in_(_values(ACTIVE)))
                                    .order_by(broadcasts.c.id))).all()
        return [_broadcast(r) for r in rows]

    async def recent(self, limit: int = 10) -> list[Broadcast]:
        """The newest broadcasts, newest first."""
        async with self.session.begin() as s:
            rows = (await s.execute(select(broadcasts).order_by(broadcasts.c.id.desc())
                                    .limit(limit))).all()
        return [_broadcast(r) for r in rows]

    # --- delivery figures for admins (read-only queries over the outbox) ------------------

    async def delivery_stats(self, since: datetime) -> dict[str, Any]:
        """For /stats: rows sent since `since` by kind, failed and blocked since then, and
        the queue (pending, in flight) now."""
        recent = outbox.c.created_at >= since
        out: dict[str, Any] = {"sent_by_kind": {}, "failed": 0, "blocked": 0, "pending": 0,
                               "sending": 0}
        async with self.session.begin() as s:
            for kind, n in (await s.execute(
                    select(outbox.c.kind, func.count())
                    .where(outbox.c.status == OutboxStatus.SENT.value, outbox.c.sent_at >= since)
                    .group_by(outbox.c.kind))).all():
                out["sent_by_kind"][kind] = n
            failed = outbox.c.status == OutboxStatus.FAILED.value
            out["failed"] = (await s.execute(select(func.count()).where(
                failed, recent))).scalar_one()
            out["blocked"] = (await s.execute(select(func.count()).where(
                failed, recent, _BLOCKED))).scalar_one()
            for status, n in (await s.execute(
                    select(outbox.c.status, func.count())
                    .where(outbox.c.status.in_([OutboxStatus.PENDING.value,
                                                OutboxStatus.SENDING.value]))
                    .group_by(outbox.c.status))).all():
                out[status] = n
        return out

    async def story_deliveries(self, story_id: int) -> dict[tuple[str, str], int]:
        """For /why: outbox rows of a story by (kind, status), counts only."""
        async with self.session.begin() as s:
            rows = (await s.execute(select(outbox.c.kind, outbox.c.status, func.count())
                                    .where(outbox.c.story_id == story_id)
                                    .group_by(outbox.c.kind, outbox.c.status))).all()
        return {(kind, status): n for kind, status, n in rows}

    async def has_unsent(self, broadcast_id: int) -> bool:
        """True while some row of the broadcast is waiting or being sent (a cheap check the
        leader makes every second; the full counts are read only to show them)."""
        q = (select(outbox.c.id).where(
            outbox.c.broadcast_id == broadcast_id,
            outbox.c.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]))
            .limit(1))
        async with self.session.begin() as s:
            return (await s.execute(q)).first() is not None

    async def blocked_count(self, broadcast_id: int) -> int:
        """Rows of a broadcast that failed because the chat blocked the bot (or is gone)."""
        async with self.session.begin() as s:
            return int((await s.execute(select(func.count()).where(
                outbox.c.broadcast_id == broadcast_id,
                outbox.c.status == OutboxStatus.FAILED.value, _BLOCKED))).scalar_one())


# A failed row whose chat blocked the bot or was deactivated (the sender records Telegram's
# 403 description as the error).
_BLOCKED = or_(outbox.c.error.ilike("%blocked%"), outbox.c.error.ilike("%deactivated%"),
               outbox.c.error.ilike("%forbidden%"))
