"""Repository for official air-raid alerts: the poller's clock, the active alerts, the
durable start/end events, and chats' choices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.domain import (
    SIREN_TYPES,
    ActiveAlert,
    ChatStatus,
    OutboxStatus,
    SirenEvent,
    SirenEventKind,
    SirenPollState,
    SirenPrefs,
    SirenTarget,
    TagKind,
)
from storage.repos.base import Repo
from storage.repos.values import aware, aware_or_none, chunks
from storage.tables import (
    chats,
    outbox,
    siren_active,
    siren_events,
    siren_prefs,
    siren_state,
    subscriptions,
)

_CHUNK = 1000
_GOT = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value, OutboxStatus.SENT.value,
        OutboxStatus.UNKNOWN.value)


def _event(row: Any) -> SirenEvent:
    return SirenEvent(id=row.id, kind=SirenEventKind(row.kind), key=row.key,
                      alert_id=row.alert_id, location_type=row.location_type, title=row.title,
                      code=row.code, alert_type=row.alert_type,
                      started_at=aware(row.started_at), at=aware(row.at),
                      start_event_id=row.start_event_id)


# A channel posts official alerts only once its operator turns them on (/channel set);
# a person's chat has them on until asked otherwise.
CHANNEL_PREFS = SirenPrefs(enabled=False, asked=True)
CHAT_PREFS = SirenPrefs()


def _prefs(row: Any, default: SirenPrefs = CHAT_PREFS) -> SirenPrefs:
    if row is None or row.enabled is None:
        return default
    types = tuple(t for t in (row.types or SIREN_TYPES) if t in SIREN_TYPES)
    return SirenPrefs(enabled=bool(row.enabled), types=types if row.types is not None
                      else SIREN_TYPES, loud=bool(row.loud), asked=bool(row.asked))


class SirenRepo(Repo):
    """siren_state, siren_active, siren_events, siren_prefs."""

    def _upsert(self, table: Any) -> Any:
        return (sqlite_insert if self.store.is_sqlite else pg_insert)(table)

    # --- the poller's clock and health ---------------------------------------------

    async def state(self, name: str) -> SirenPollState:
        """The poller's state (empty before its first request)."""
        async with self.session.begin() as s:
            row = (await s.execute(select(siren_state).where(
                siren_state.c.name == name))).first()
        if row is None:
            return SirenPollState()
        return SirenPollState(
            last_request_at=aware_or_none(row.last_request_at),
            not_before=aware_or_none(row.not_before), last_modified=row.last_modified,
            last_success_at=aware_or_none(row.last_success_at), last_status=row.last_status,
            failure_count=row.failure_count or 0, last_error=row.last_error,
            unknown=tuple(row.unknown or ()))

    async def _set_state(self, name: str, now: datetime, values: dict[str, Any]) -> None:
        stmt = self._upsert(siren_state).values(name=name, updated_at=now, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["name"],
                                          set_={"updated_at": now, **values})
        async with self.session.begin() as s:
            await s.execute(stmt)

    async def mark_request(self, name: str, at: datetime) -> None:
        """Record a request about to be made: committed before it leaves, so that a restart
        right after it still waits its turn."""
        await self._set_state(name, aware(at), {"last_request_at": aware(at)})

    async def claim_request(self, name: str, at: datetime, interval: float) -> bool:
        """Take the turn for a request at `at`: True (and recorded, committed) only when the
        last request was at least `interval` seconds before, atomically, so that two
        processes (a leader and its successor, for a moment) never both ask."""
        at = aware(at)
        stmt = self._upsert(siren_state).values(name=name, updated_at=at)
        async with self.session.begin() as s:
            await s.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
            result = await s.execute(update(siren_state).where(
                siren_state.c.name == name,
                (siren_state.c.last_request_at.is_(None))
                | (siren_state.c.last_request_at <= at - timedelta(seconds=interval))
                | (siren_state.c.last_request_at > at + timedelta(seconds=interval)),
            ).values(last_request_at=at, updated_at=at))
        return bool(result.rowcount)

    async def record_poll(self, name: str, now: datetime, *, status: str, ok: bool,
                          error: str | None = None, last_modified: str | None = None,
                          not_before: datetime | None = None,
                          unknown: Sequence[str] | None = None) -> None:
        """The outcome of a request: success resets the failure count, a failure adds one."""
        values: dict[str, Any] = {"last_status": status, "last_error": error,
                                  "not_before": aware_or_none(not_before)}
        if ok:
            values.update(last_success_at=aware(now), failure_count=0)
        else:
            values["failure_count"] = siren_state.c.failure_count + 1
        if last_modified is not None:
            values["last_modified"] = last_modified[:100]
        if unknown is not None:
            values["unknown"] = list(unknown)[:20]
        insert_values = dict(values)
        if not ok:
            insert_values["failure_count"] = 1
        stmt = self._upsert(siren_state).values(name=name, updated_at=aware(now),
                                                **insert_values)
        stmt = stmt.on_conflict_do_update(index_elements=["name"],
                                          set_={"updated_at": aware(now), **values})
        async with self.session.begin() as s:
            await s.execute(stmt)

    # --- active alerts and events ---------------------------------------------------

    async def active(self) -> dict[str, ActiveAlert]:
        """The alerts active as of the last list read, by key."""
        async with self.session.begin() as s:
            rows = (await s.execute(select(siren_active))).all()
        return {r.key: ActiveAlert(
            key=r.key, alert_id=r.alert_id, location_uid=r.location_uid,
            location_type=r.location_type, title=r.title, code=r.code,
            alert_type=r.alert_type, started_at=aware(r.started_at),
            start_event_id=r.start_event_id) for r in rows}

    async def apply_change(self, started: Sequence[ActiveAlert],
                           ended: Sequence[tuple[ActiveAlert, datetime]],
                           now: datetime) -> list[SirenEvent]:
        """In one transaction: the events of a change and the new active set. Ends first
        (a restarted alert ends, then starts again under the same key)."""
        now = aware(now)
        made: list[SirenEvent] = []
        async with self.session.begin() as s:
            for old, at in ended:
                row = {"kind": SirenEventKind.END.value, "key": old.key,
                       "alert_id": old.alert_id, "location_type": old.location_type,
                       "title": old.title, "code": old.code, "alert_type": old.alert_type,
                       "started_at": aware(old.started_at), "at": aware(at),
                       "start_event_id": old.start_event_id, "done": False,
                       "created_at": now}
                new_id = (await s.execute(insert(siren_events).values(**row)
                                          .returning(siren_events.c.id))).scalar_one()
                made.append(_event(_Row(id=new_id, **row)))
                await s.execute(delete(siren_active).where(siren_active.c.key == old.key))
            for a in started:
                row = {"kind": SirenEventKind.START.value, "key": a.key,
                       "alert_id": a.alert_id, "location_type": a.location_type,
                       "title": a.title, "code": a.code, "alert_type": a.alert_type,
                       "started_at": aware(a.started_at), "at": aware(a.started_at),
                       "start_event_id": None, "done": False, "created_at": now}
                new_id = (await s.execute(insert(siren_events).values(**row)
                                          .returning(siren_events.c.id))).scalar_one()
                made.append(_event(_Row(id=new_id, **row)))
                await s.execute(delete(siren_active).where(siren_active.c.key == a.key))
                await s.execute(insert(siren_active).values(
                    key=a.key, alert_id=a.alert_id, location_uid=a.location_uid,
                    location_type=a.location_type, title=a.title, code=a.code,
                    alert_type=a.alert_type, started_at=aware(a.started_at),
                    start_event_id=new_id))
        return made

    async def pending_events(self, limit: int = 500) -> list[SirenEvent]:
        """Events whose messages are not all in the outbox yet, oldest first."""
        async with self.session.begin() as s:
            rows = (await s.execute(select(siren_events).where(
                siren_events.c.done.is_(False)).order_by(siren_events.c.id).limit(limit))).all()
        return [_event(r) for r in rows]

    async def events_done(self, ids: Sequence[int]) -> None:
        """Every message of these events is in the outbox."""
        if not ids:
            return
        async with self.session.begin() as s:
            await s.execute(update(siren_events).where(siren_events.c.id.in_(list(ids)))
                            .values(done=True))

    async def event(self, id: int) -> SirenEvent | None:
        async with self.session.begin() as s:
            row = (await s.execute(select(siren_events).where(
                siren_events.c.id == id))).first()
        return _event(row) if row is not None else None

    # --- chats ------------------------------------------------------------------------

    async def prefs(self, chat_id: int) -> SirenPrefs:
        """A chat's choices (the defaults when it made none: CHANNEL_PREFS for a channel)."""
        async with self.session.begin() as s:
            row = (await s.execute(select(siren_prefs).where(
                siren_prefs.c.chat_id == chat_id))).first()
            if row is not None:
                return _prefs(row)
            kind = (await s.execute(select(chats.c.type).where(
                chats.c.id == chat_id))).scalar_one_or_none()
        return CHANNEL_PREFS if kind == "channel" else CHAT_PREFS

    async def set_prefs(self, chat_id: int, now: datetime, **values: Any) -> SirenPrefs:
        """Change some of enabled, types, loud, asked; returns the chat's choices."""
        if "types" in values and values["types"] is not None:
            values["types"] = [t for t in SIREN_TYPES if t in values["types"]]
        defaults = {"enabled": True, "types": None, "loud": True, "asked": False}
        stmt = self._upsert(siren_prefs).values(chat_id=chat_id, updated_at=aware(now),
                                                **{**defaults, **values})
        stmt = stmt.on_conflict_do_update(index_elements=["chat_id"],
                                          set_={"updated_at": aware(now), **values})
        async with self.session.begin() as s:
            await s.execute(stmt)
        return await self.prefs(chat_id)

    async def claim_ask(self, chat_id: int, now: datetime) -> bool:
        """True once per chat: whether to ask it about alerts now (and mark it asked)."""
        stmt = self._upsert(siren_prefs).values(
            chat_id=chat_id, enabled=True, types=None, loud=True, asked=True,
            updated_at=aware(now)).on_conflict_do_nothing(index_elements=["chat_id"])
        async with self.session.begin() as s:
            inserted = (await s.execute(stmt)).rowcount
            if inserted:
                return True
            result = await s.execute(update(siren_prefs).where(
                siren_prefs.c.chat_id == chat_id, siren_prefs.c.asked.is_(False))
                .values(asked=True, updated_at=aware(now)))
        return bool(result.rowcount)

    async def targets(self, chat_ids: Sequence[int]) -> dict[int, SirenTarget]:
        """Status, language, time zone, quiet hours and choices of many chats at once."""
        out: dict[int, SirenTarget] = {}
        ids = sorted(set(chat_ids))
        async with self.session.begin() as s:
            for part in chunks(ids, _CHUNK):
                q = (select(chats.c.id, chats.c.type, chats.c.status, chats.c.language,
                            chats.c.timezone,
                            chats.c.quiet_start, chats.c.quiet_end, siren_prefs.c.enabled,
                            siren_prefs.c.types, siren_prefs.c.loud, siren_prefs.c.asked)
                     .select_from(chats.outerjoin(siren_prefs,
                                                  siren_prefs.c.chat_id == chats.c.id))
                     .where(chats.c.id.in_(part)))
                for r in (await s.execute(q)).all():
                    out[r.id] = SirenTarget(
                        status=ChatStatus(r.status), language=r.language,
                        timezone=r.timezone, quiet_start=r.quiet_start,
                        quiet_end=r.quiet_end,
                        prefs=_prefs(r, CHANNEL_PREFS if r.type == "channel" else CHAT_PREFS))
        return out

    async def place_follows(self, chat_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
        """The (kind, key) of every place and city follow of these chats, from the database
        (the truth when another process has changed them since the index was built)."""
        out: dict[int, set[tuple[str, str]]] = {}
        async with self.session.begin() as s:
            for part in chunks(sorted(set(chat_ids)), _CHUNK):
                rows = await s.execute(select(
                    subscriptions.c.chat_id, subscriptions.c.kind, subscriptions.c.key).where(
                    subscriptions.c.chat_id.in_(part),
                    subscriptions.c.kind.in_((TagKind.PLACE.value, TagKind.CITY.value))))
                for chat_id, kind, key in rows:
                    out.setdefault(chat_id, set()).add((kind, key))
        return out

    async def got_start(self, chat_ids: Sequence[int], start_event_id: int) -> set[int]:
        """The chats among these that were sent (or are being sent) an event's start."""
        return await self.got(chat_ids, f"siren:{start_event_id}")

    async def got(self, chat_ids: Sequence[int], key: str) -> set[int]:
        """The chats among these that were sent (or are being sent) the row `key`."""
        got: set[int] = set()
        ids = sorted(set(chat_ids))
        async with self.session.begin() as s:
            for part in chunks(ids, _CHUNK):
                rows = await s.execute(select(outbox.c.chat_id).where(
                    outbox.c.chat_id.in_(part), outbox.c.dedup_key == key,
                    outbox.c.status.in_(_GOT)))
                got.update(r[0] for r in rows)
        return got


class _Row:
    """Attribute access over a dict (an inserted row, for _event)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)
