"""Repository for briefings: which chats are due, and recording what was sent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from bot.domain import ChatStatus, Subscription, SubscriptionMode, TagKind
from storage.repos.base import Repo
from storage.repos.values import aware_or_none, chunks
from storage.tables import TS, chats, subscriptions

_CHUNK = 1000  # ids per IN (...) list


@dataclass(frozen=True, slots=True)
class BriefingChat:
    """A chat's briefing state: what the scheduler and the composer need, in one row."""

    chat_id: int
    status: ChatStatus
    language: str
    timezone: str
    briefing_times: tuple[str, ...]
    skip_empty: bool
    quiet_start: str | None
    quiet_end: str | None
    last_briefing_at: datetime | None
    next_briefing_at: datetime | None


@dataclass(frozen=True, slots=True)
class Advance:
    """Move one chat's schedule on: the conditional write behind "exactly once per slot"."""

    chat_id: int
    expected: datetime | None  # next_briefing_at as read; another writer wins if it moved
    next_at: datetime | None
    last_briefing_at: datetime | None = None  # None = leave as is


_COLS = (chats.c.id, chats.c.status, chats.c.language, chats.c.timezone,
         chats.c.briefing_times, chats.c.skip_empty_briefing, chats.c.quiet_start,
         chats.c.quiet_end, chats.c.last_briefing_at,
         chats.c.next_briefing_at)


def _row(r: Any) -> BriefingChat:
    return BriefingChat(chat_id=r.id, status=ChatStatus(r.status), language=r.language,
                        timezone=r.timezone, briefing_times=tuple(r.briefing_times or ()),
                        skip_empty=bool(r.skip_empty_briefing),
                        quiet_start=r.quiet_start, quiet_end=r.quiet_end,
                        last_briefing_at=aware_or_none(r.last_briefing_at),
                        next_briefing_at=aware_or_none(r.next_briefing_at))


class BriefingRepo(Repo):
    """Briefing schedule state per chat (chats.next_briefing_at, last_briefing_at)."""

    async def due(self, now: datetime, limit: int = 500) -> list[BriefingChat]:
        """Active chats whose next briefing is at or before `now`, earliest first."""
        q = (select(*_COLS)
             .where(chats.c.next_briefing_at <= now,
                    chats.c.status == ChatStatus.ACTIVE.value)
             .order_by(chats.c.next_briefing_at, chats.c.id).limit(limit))
        async with self.session.begin() as s:
            rows = (await s.execute(q)).all()
        return [_row(r) for r in rows]

    async def get(self, chat_id: int) -> BriefingChat | None:
        """One chat's briefing state, or None when the chat is unknown."""
        async with self.session.begin() as s:
            row = (await s.execute(select(*_COLS).where(chats.c.id == chat_id))).first()
        return _row(row) if row else None

    async def advance(self, chat_id: int, expected: datetime | None, next_at: datetime | None,
                      last_briefing_at: datetime | None = None) -> bool:
        """Set next_briefing_at (and last_briefing_at) if next_briefing_at is still `expected`."""
        values: dict[str, Any] = {"next_briefing_at": next_at}
        if last_briefing_at is not None:
            values["last_briefing_at"] = last_briefing_at
        cond = (chats.c.next_briefing_at.is_(None) if expected is None
                else chats.c.next_briefing_at == expected)
        async with self.session.begin() as s:
            res = await s.execute(update(chats).where(chats.c.id == chat_id, cond)
                                  .values(**values))
        return bool(res.rowcount)

    async def advance_many(self, moves: Sequence[Advance]) -> None:
        """Apply many conditional advances in one transaction (one executemany per shape).

        A move whose chat's next_briefing_at is no longer `expected` changes nothing: some
        other process sent that slot and moved the schedule on already.
        """
        keep_last = [m for m in moves if m.last_briefing_at is None]
        set_last = [m for m in moves if m.last_briefing_at is not None]
        async with self.session.begin() as s:
            for group, with_last in ((keep_last, False), (set_last, True)):
                if not group:
                    continue
                values: dict[str, Any] = {"next_briefing_at": bindparam("b_next", type_=TS)}
                if with_last:
                    values["last_briefing_at"] = bindparam("b_last", type_=TS)
                known = [m for m in group if m.expected is not None]
                unknown = [m for m in group if m.expected is None]
                if known:
                    stmt = (update(chats).where(
                        chats.c.id == bindparam("b_id"),
                        chats.c.next_briefing_at == bindparam("b_expected", type_=TS))
                        .values(**values))
                    await s.execute(stmt, [self._params(m, with_last) for m in known])
                if unknown:
                    stmt = (update(chats).where(chats.c.id == bindparam("b_id"),
                                                chats.c.next_briefing_at.is_(None))
                            .values(**values))
                    await s.execute(stmt, [self._params(m, with_last) for m in unknown])

    @staticmethod
    def _params(m: Advance, with_last: bool) -> dict[str, Any]:
        p: dict[str, Any] = {"b_id": m.chat_id, "b_expected": m.expected, "b_next": m.next_at}
        if with_last:
            p["b_last"] = m.last_briefing_at
        return p

    async def reschedule(self, chat_id: int, next_at: datetime | None) -> bool:
        """Set next_briefing_at unconditionally (after the time zone or schedule changed)."""
        async with self.session.begin() as s:
            res = await s.execute(update(chats).where(chats.c.id == chat_id)
                                  .values(next_briefing_at=next_at))
        return bool(res.rowcount)

    async def mark_sent(self, chat_id: int, last_briefing_at: datetime) -> bool:
        """Record that a briefing (e.g. /briefing) covered the period up to `last_briefing_at`."""
        async with self.session.begin() as s:
            res = await s.execute(update(chats).where(chats.c.id == chat_id)
                                  .values(last_briefing_at=last_briefing_at))
        return bool(res.rowcount)

    async def unscheduled(self, limit: int = 500) -> list[BriefingChat]:
        """Active chats with no next_briefing_at (new chats, or a schedule set elsewhere)."""
        q = (select(*_COLS).where(chats.c.next_briefing_at.is_(None),
                                  chats.c.status == ChatStatus.ACTIVE.value)
             .order_by(chats.c.id).limit(limit))
        async with self.session.begin() as s:
            rows = (await s.execute(q)).all()
        return [_row(r) for r in rows]

    async def subscriptions_of(self, chat_ids: Iterable[int]) -> dict[int, list[Subscription]]:
        """Every subscription of many chats (both modes), oldest first per chat."""
        ids = sorted(set(chat_ids))
        out: dict[int, list[Subscription]] = {i: [] for i in ids}
        async with self.session.begin() as s:
            for part in chunks(ids, _CHUNK):
                q = (select(subscriptions).where(subscriptions.c.chat_id.in_(part))
                     .order_by(subscriptions.c.chat_id, subscriptions.c.id))
                for r in (await s.execute(q)).all():
                    out[r.chat_id].append(Subscription(
                        id=r.id, chat_id=r.chat_id, kind=TagKind(r.kind), key=r.key,
                        label=r.label, mode=SubscriptionMode(r.mode),
                        created_at=aware_or_none(r.created_at),
                        exclude=tuple(r.exclude or ())))
        return out


__all__ = ["Advance", "BriefingChat", "BriefingRepo"]
