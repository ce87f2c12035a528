"""Repository for the persistent outbox: enqueue, claim, mark sent/failed, retry.

A row is committed before it is sent and marked sent after. `claim` hands a sender the
due rows in id order, never a row of a chat whose earlier message is still waiting, so
each chat receives its messages in order even across retries and several senders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain import (
    URGENT_KINDS,
    Delivery,
    DeliveryKind,
    OutboxStatus,
    OutgoingMessage,
    utcnow,
)
from storage.repos.base import Repo
from storage.repos.values import aware, aware_or_none, chunks
from storage.tables import outbox

_CHUNK = 1000
_ACTIVE = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
_CLAIM_LOCK = 0x4845524C  # pg_advisory_xact_lock key: claims are serialized across processes
# Official air-raid alerts (and their pinning in channels) go ahead of everything else.
_URGENT = tuple(sorted(k.value for k in URGENT_KINDS))


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id, chat_id=row.chat_id, kind=DeliveryKind(row.kind), text=row.text,
        status=OutboxStatus(row.status), thread_id=row.thread_id,
        disable_notification=bool(row.disable_notification), reply_markup=row.reply_markup,
        story_id=row.story_id, broadcast_id=row.broadcast_id, paid=bool(row.paid),
        attempts=row.attempts, not_before=aware_or_none(row.not_before),
        created_at=aware_or_none(row.created_at), sent_at=aware_or_none(row.sent_at),
        message_id=row.message_id, error=row.error, edit_message_id=row.edit_message_id,
        expires_at=aware_or_none(row.expires_at), dedup_key=row.dedup_key)


@dataclass(frozen=True, slots=True)
class AlertState:
    """Where one chat's alert about one story stands (see OutboxRepo.alert_states)."""

    alert_id: int
    status: OutboxStatus
    message_id: int | None
    sent_at: datetime | None
    edits: int = 0  # edit rows queued or sent for it (not cancelled or failed)
    pending_edit_id: int | None = None  # an edit row not claimed yet: update it instead


def _claim_order(d: Delivery) -> tuple[bool, int]:
    """Air-raid alerts first, then id order."""
    return d.kind not in URGENT_KINDS, d.id


class OutboxRepo(Repo):
    """The persistent outbox."""

    def _insert(self) -> Any:
        return (sqlite_insert if self.store.is_sqlite else pg_insert)(outbox)

    async def enqueue(self, messages: Sequence[OutgoingMessage],
                      now: datetime | None = None) -> int:
        """Insert messages; a (chat_id, dedup_key) already queued is skipped. Rows inserted."""
        now = aware(now or utcnow())
        rows: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for m in messages:
            if m.dedup_key is not None:
                if (m.chat_id, m.dedup_key) in seen:
                    continue
                seen.add((m.chat_id, m.dedup_key))
            rows.append({
                "chat_id": m.chat_id, "kind": m.kind.value, "text": m.text,
                "thread_id": m.thread_id, "disable_notification": m.disable_notification,
                "reply_markup": m.reply_markup, "story_id": m.story_id,
                "broadcast_id": m.broadcast_id, "paid": m.paid,
                "status": OutboxStatus.PENDING.value, "attempts": 0,
                "not_before": aware_or_none(m.not_before), "created_at": now,
                "dedup_key": m.dedup_key, "edit_message_id": m.edit_message_id,
                "expires_at": aware_or_none(m.expires_at)})
        if not rows:
            return 0
        stmt = self._insert().on_conflict_do_nothing(
            index_elements=["chat_id", "dedup_key"]).returning(outbox.c.id)
        inserted = 0
        async with self.session.begin() as s:
            for i in range(0, len(rows), _CHUNK):
                result = await s.execute(stmt, rows[i:i + _CHUNK])
                inserted += len(result.all())
        return inserted

    async def claim(self, worker: str, now: datetime, limit: int,
                    claim_timeout: int, term: int | None = None) -> list[Delivery]:
        """Take up to `limit` due rows (and rows abandoned by a crashed sender) for `worker`.

        A row is skipped while an earlier row of its chat is still waiting (pending but not
        due, or claimed by a live sender), which keeps every chat's messages in order.
        """
        now = aware(now)
        stale = now - timedelta(seconds=claim_timeout)
        earlier = outbox.alias("earlier")
        # An earlier row of the same chat that is still waiting holds the later ones back.
        blocking = exists().where(
            earlier.c.chat_id == outbox.c.chat_id, earlier.c.id < outbox.c.id,
            earlier.c.status.in_(_ACTIVE),
            or_(and_(earlier.c.status == OutboxStatus.PENDING.value,
                     earlier.c.not_before > now),
                and_(earlier.c.status == OutboxStatus.SENDING.value,
                     earlier.c.claimed_at >= stale)))
        # Two simple scans instead of one OR: each walks the (status, id) index in id order
        # and stops at `limit`, however many rows wait behind.
        due = (select(outbox.c.id).where(
            outbox.c.status == OutboxStatus.PENDING.value, outbox.c.kind.not_in(_URGENT),
            or_(outbox.c.not_before.is_(None), outbox.c.not_before <= now), ~blocking)
            .order_by(outbox.c.id).limit(limit))
        # Air-raid alerts first (their own scan of the (status, kind, id) index): only an
        # earlier air-raid alert of the same chat holds one back.
        sirens = (select(outbox.c.id).where(
            outbox.c.status == OutboxStatus.PENDING.value, outbox.c.kind.in_(_URGENT),
            or_(outbox.c.not_before.is_(None), outbox.c.not_before <= now),
            ~blocking.where(earlier.c.kind.in_(_URGENT))).order_by(outbox.c.id).limit(limit))
        abandoned = (select(outbox.c.id).where(
            outbox.c.status == OutboxStatus.SENDING.value, outbox.c.claimed_at < stale,
            ~blocking).order_by(outbox.c.id).limit(limit))
        claimed = {"status": OutboxStatus.SENDING.value, "claimed_by": worker,
                   "claimed_at": now, "claim_term": term}
        async with self.session.begin() as s:
            if self.store.is_sqlite:
                both = union_all(select(sirens.subquery().c.id, literal(0).label("p")),
                                 select(abandoned.subquery().c.id, literal(1).label("p")),
                                 select(due.subquery().c.id, literal(1).label("p"))).subquery()
                pick = select(both.c.id).order_by(both.c.p, both.c.id).limit(limit)
                # One statement: SQLite takes the write lock before it reads, so two
                # senders can never pick the same row.
                rows = (await s.execute(update(outbox).where(
                    outbox.c.id.in_(pick.scalar_subquery())).values(**claimed)
                    .returning(*outbox.c))).all()
                return sorted((_delivery(r) for r in rows), key=_claim_order)
            await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})
            first = list((await s.execute(sirens.with_for_update(skip_locked=True))).scalars())
            ids = list((await s.execute(abandoned.with_for_update(skip_locked=True))).scalars())
            ids += (await s.execute(due.with_for_update(skip_locked=True))).scalars()
            ids = sorted(first)[:limit] + sorted(set(ids) - set(first))[:limit - len(first)]
            if not ids:
                return []
            await s.execute(update(outbox).where(outbox.c.id.in_(ids)).values(**claimed))
            rows = (await s.execute(select(outbox).where(outbox.c.id.in_(ids))
                                    .order_by(outbox.c.id))).all()
        return sorted((_delivery(r) for r in rows), key=_claim_order)

    async def take_over(self, term: int) -> int:
        """Return rows claimed under an earlier leader term to pending; how many.

        A leader (or a restarted process) of `term` knows every holder of an earlier term is
        gone: it lost the leader lock or its process ended. Its rows need not wait for
        claim_timeout. Only the sends it had in flight can reach a chat twice.
        """
        async with self.session.begin() as s:
            result = await s.execute(update(outbox).where(
                outbox.c.status == OutboxStatus.SENDING.value,
                or_(outbox.c.claim_term.is_(None), outbox.c.claim_term < term),
            ).values(status=OutboxStatus.PENDING.value, claimed_by=None, claimed_at=None,
                     claim_term=None))
        return int(result.rowcount or 0)

    async def mark_unknown(self, id: int, error: str, now: datetime) -> None:
        """A send that may or may not have reached the chat, not to be sent again."""
        async with self.session.begin() as s:
            await s.execute(update(outbox).where(outbox.c.id == id).values(
                status=OutboxStatus.UNKNOWN.value, error=error[:2000], claimed_by=None))

    async def mark_sent(self, id: int, message_id: int | None, now: datetime) -> None:
        """Record a delivered row with Telegram's message_id."""
        await self.mark_sent_many([(id, message_id)], now)

    async def mark_sent_many(self, done: Sequence[tuple[int, int | None]],
                             now: datetime) -> None:
        """Record several delivered rows in one transaction (the sender's group commit)."""
        if not done:
            return
        async with self.session.begin() as s:
            await s.execute(
                update(outbox).where(outbox.c.id == bindparam("oid")).values(
                    status=OutboxStatus.SENT.value, message_id=bindparam("mid"),
                    sent_at=aware_or_none(now), error=None),
                [{"oid": i, "mid": m} for i, m in done])

    async def mark_failed(self, id: int, error: str, now: datetime) -> None:
        """Give a row up for good."""
        async with self.session.begin() as s:
            await s.execute(update(outbox).where(outbox.c.id == id).values(
                status=OutboxStatus.FAILED.value, error=error[:2000], claimed_by=None))

    async def retry_later(self, id: int, not_before: datetime, error: str | None,
                          count_attempt: bool = True) -> None:
        """Back to pending, due at not_before; count an attempt unless it was a rate limit."""
        values: dict[str, Any] = {"status": OutboxStatus.PENDING.value, "claimed_by": None,
                                  "claimed_at": None, "not_before": aware_or_none(not_before),
                                  "error": error[:2000] if error else None}
        if count_attempt:
            values["attempts"] = outbox.c.attempts + 1
        async with self.session.begin() as s:
            await s.execute(update(outbox).where(
                outbox.c.id == id, outbox.c.status.in_(_ACTIVE)).values(**values))

    async def release(self, ids: Sequence[int], not_before: datetime | None = None) -> int:
        """Return claimed, unsent rows to pending (graceful shutdown), due at not_before."""
        values: dict[str, Any] = {"status": OutboxStatus.PENDING.value, "claimed_by": None,
                                  "claimed_at": None}
        if not_before is not None:
            values["not_before"] = aware(not_before)
        released = 0
        async with self.session.begin() as s:
            for part in chunks(list(ids), _CHUNK):
                result = await s.execute(update(outbox).where(
                    outbox.c.id.in_(part), outbox.c.status == OutboxStatus.SENDING.value,
                ).values(**values))
                released += int(result.rowcount or 0)
        return released

    async def fail_chat(self, chat_id: int, error: str = "blocked") -> int:
        """Give up every waiting row of a chat (it blocked the bot); how many."""
        async with self.session.begin() as s:
            result = await s.execute(update(outbox).where(
                outbox.c.chat_id == chat_id, outbox.c.status.in_(_ACTIVE),
            ).values(status=OutboxStatus.FAILED.value, error=error, claimed_by=None))
        return int(result.rowcount or 0)

    async def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its waiting rows go to the new id, except those the
        new chat already has (the same dedup_key), which are cancelled."""
        async with self.session.begin() as s:
            taken = select(outbox.c.dedup_key).where(outbox.c.chat_id == new_id,
                                                     outbox.c.dedup_key.is_not(None))
            await s.execute(update(outbox).where(
                outbox.c.chat_id == old_id, outbox.c.status.in_(_ACTIVE),
                outbox.c.dedup_key.in_(taken.scalar_subquery()),
            ).values(status=OutboxStatus.CANCELLED.value, error="migrated (duplicate)"))
            await s.execute(update(outbox).where(
                outbox.c.chat_id == old_id, outbox.c.status.in_(_ACTIVE),
            ).values(chat_id=new_id))

    async def pending_count(self) -> int:
        """Rows not yet sent nor given up (pending or being sent)."""
        async with self.session.begin() as s:
            return int((await s.execute(select(func.count()).select_from(outbox).where(
                outbox.c.status.in_(_ACTIVE)))).scalar_one())

    async def next_due(self) -> datetime | None:
        """When the earliest pending row becomes due (None: nothing pending)."""
        async with self.session.begin() as s:
            row = (await s.execute(select(
                func.count(), func.min(func.coalesce(outbox.c.not_before, outbox.c.created_at)),
            ).where(outbox.c.status == OutboxStatus.PENDING.value))).one()
        return aware_or_none(row[1]) if row[0] else None

    async def counts(self, broadcast_id: int | None = None) -> dict[str, int]:
        """Rows by status (for one broadcast, or all)."""
        q = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        if broadcast_id is not None:
            q = q.where(outbox.c.broadcast_id == broadcast_id)
        async with self.session.begin() as s:
            rows = (await s.execute(q)).all()
        counts = {status.value: 0 for status in OutboxStatus}
        counts.update({r[0]: int(r[1]) for r in rows})
        return counts

    async def cancel_broadcast(self, broadcast_id: int) -> int:
        """Cancel the broadcast's rows that are not being sent yet; return how many."""
        async with self.session.begin() as s:
            result = await s.execute(update(outbox).where(
                outbox.c.broadcast_id == broadcast_id,
                outbox.c.status == OutboxStatus.PENDING.value,
            ).values(status=OutboxStatus.CANCELLED.value))
        return int(result.rowcount or 0)

    async def alert_states(self, story_ids: Sequence[int]
                           ) -> dict[tuple[int, int], AlertState]:
        """(chat id, story id) -> its alert row and edits, for every chat that has an alert
        row of these stories (any destination: a private chat, a group, a channel)."""
        out: dict[tuple[int, int], AlertState] = {}
        edits: dict[tuple[int, int], list[Any]] = {}
        async with self.session.begin() as s:
            for part in chunks(sorted(set(story_ids)), _CHUNK):
                rows = (await s.execute(select(
                    outbox.c.id, outbox.c.chat_id, outbox.c.story_id, outbox.c.kind,
                    outbox.c.status, outbox.c.message_id, outbox.c.sent_at,
                ).where(outbox.c.story_id.in_(part), outbox.c.kind.in_(
                    (DeliveryKind.ALERT.value, DeliveryKind.EDIT.value))).order_by(outbox.c.id)
                )).all()
                for r in rows:
                    key = (r.chat_id, r.story_id)
                    if r.kind == DeliveryKind.ALERT.value:
                        out[key] = AlertState(r.id, OutboxStatus(r.status), r.message_id,
                                              aware_or_none(r.sent_at))
                    else:
                        edits.setdefault(key, []).append(r)
        for key, rows in edits.items():
            state = out.get(key)
            if state is None:
                continue
            live = [r for r in rows if r.status not in (OutboxStatus.CANCELLED.value,
                                                        OutboxStatus.FAILED.value)]
            waiting = [r.id for r in live if r.status == OutboxStatus.PENDING.value]
            out[key] = replace(state, edits=len(live),
                               pending_edit_id=waiting[-1] if waiting else None)
        return out

    async def update_pending(self, rows: Sequence[tuple[int, str, str | None]]) -> None:
        """New (text, reply_markup) for rows no sender has taken yet, in one transaction; a
        row taken meanwhile keeps its text (it is being sent as it was)."""
        if not rows:
            return
        stmt = update(outbox).where(
            outbox.c.id == bindparam("oid"), outbox.c.status == OutboxStatus.PENDING.value,
        ).values(text=bindparam("b_text"), reply_markup=bindparam("b_markup"))
        async with self.session.begin() as s:
            for part in chunks(list(rows), _CHUNK):
                await s.execute(stmt, [{"oid": i, "b_text": t, "b_markup": m}
                                       for i, t, m in part])

    async def sent_message_id(self, chat_id: int, dedup_key: str) -> int | None:
        """Telegram's message id of the row (chat_id, dedup_key) once it was sent."""
        async with self.session.begin() as s:
            found = (await s.execute(select(outbox.c.message_id).where(
                outbox.c.chat_id == chat_id, outbox.c.dedup_key == dedup_key,
                outbox.c.status == OutboxStatus.SENT.value))).scalar_one_or_none()
        return int(found) if found is not None else None

    async def get(self, id: int) -> Delivery | None:
        """One row by id."""
        async with self.session.begin() as s:
            row = (await s.execute(select(outbox).where(outbox.c.id == id))).first()
        return _delivery(row) if row is not None else None

