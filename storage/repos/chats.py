"""Repository for chats, their settings and subscriptions (rows the alert index is built from)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.domain import (
    Chat,
    ChatSettings,
    ChatStatus,
    DeliveryKind,
    OutboxStatus,
    Subscription,
    SubscriptionMode,
    TagKind,
)
from storage.repos.base import Repo
from storage.repos.values import aware, aware_or_none, chunks
from storage.tables import chats, outbox, subscriptions


class SettingsUpdate(TypedDict, total=False):
    """The settings columns ChatRepo.update_settings writes, as their readers expect them.

    Values are not checked here: bot.alerts.prefs parses and validates everything a chat
    types or taps (the one place that knows what a valid setting is), and code passes its
    own values (a mute's end). The readers survive a stored value they cannot use
    (bot.alerts.slots raises ValueError, which AlertService and BriefingService catch).
    """

    language: str  # a supported UI language code
    timezone: str  # an IANA name or a fixed offset ("UTC+2"), as prefs.parse_timezone returns
    briefing_times: Sequence[str]  # sorted, unique, canonical local "HH:MM"
    skip_empty_briefing: bool
    quiet_start: str | None  # canonical local "HH:MM"; both None = no quiet hours
    quiet_end: str | None
    quiet_mode: str  # "silent" | "hold"
    alerts_per_hour: int  # >= 0, 0 = no cap
    muted_until: datetime | None  # aware
    last_briefing_at: datetime | None  # aware


_SETTINGS_COLUMNS = frozenset(SettingsUpdate.__annotations__)
# Bound parameters per IN (...) list: far below SQLite's and asyncpg's limits (32766/32767).
_CHUNK = 5000


def _chat(row: Any) -> Chat:
    return Chat(id=row.id, type=row.type, title=row.title, language=row.language,
                timezone=row.timezone, status=ChatStatus(row.status),
                created_at=aware_or_none(row.created_at))


def _settings(row: Any) -> ChatSettings:
    return ChatSettings(
        language=row.language, timezone=row.timezone,
        briefing_times=tuple(row.briefing_times or ()),
        skip_empty_briefing=bool(row.skip_empty_briefing),
        quiet_start=row.quiet_start, quiet_end=row.quiet_end, quiet_mode=row.quiet_mode,
        alerts_per_hour=row.alerts_per_hour, muted_until=aware_or_none(row.muted_until),
        last_briefing_at=aware_or_none(row.last_briefing_at),
    )


def _subscription(row: Any) -> Subscription:
    return Subscription(id=row.id, chat_id=row.chat_id, kind=TagKind(row.kind), key=row.key,
                        label=row.label, mode=SubscriptionMode(row.mode),
                        created_at=aware_or_none(row.created_at),
                        exclude=tuple(row.exclude or ()))


@dataclass(frozen=True, slots=True)
class AlertTarget:
    """What the alert fan-out needs to know about one chat."""

    status: ChatStatus
    settings: ChatSettings
    recent_alerts: int  # alerts queued in the cap window
    briefing_only: frozenset[int] = frozenset()  # subscription ids not to alert on
    # Ids of the chat's subscriptions that exist now in instant mode: the DB, not another
    # process's view, decides (a follow or unfollow may have been made by another process).
    instant: frozenset[int] = frozenset()
    important: frozenset[int] = frozenset()  # "important only": alert once N outlets carry it
    exclude: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # sub id -> words


class ChatRepo(Repo):
    """Chats, their settings and subscriptions."""

    # --- chats -----------------------------------------------------------------------

    async def upsert(self, chat_id: int, *, type: str, title: str | None,
                     language: str | None = None, timezone: str | None = None,
                     now: datetime) -> Chat:
        """Create the chat with defaults, or refresh type/title; a blocked chat becomes active.

        `language` and `timezone` are the new chat's defaults; an existing chat keeps its own.
        """
        for attempt in (1, 2):
            try:
                async with self.session.begin() as s:
                    row = (await s.execute(select(chats).where(chats.c.id == chat_id))).first()
                    if row is None:
                        await s.execute(insert(chats).values(
                            id=chat_id, type=type, title=title, language=language or "en",
                            timezone=timezone or "UTC",
                            status=ChatStatus.ACTIVE.value, briefing_times=[],
                            created_at=now, updated_at=now))
                    else:
                        values: dict[str, Any] = {"type": type, "title": title,
                                                  "updated_at": now}
                        # Writing to us again is how a blocked user comes back; /stop
                        # (paused) is lifted only by /start, through set_status.
                        if row.status == ChatStatus.BLOCKED.value:
                            values["status"] = ChatStatus.ACTIVE.value
                        await s.execute(update(chats).where(chats.c.id == chat_id)
                                        .values(**values))
                    fresh = (await s.execute(select(chats).where(chats.c.id == chat_id))).one()
                    return _chat(fresh)
            except IntegrityError:
                # Two updates from a new chat raced to insert it; the second one updates.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, chat_id: int) -> Chat | None:
        """The chat, or None when Herald never heard from it."""
        async with self.session.begin() as s:
            row = (await s.execute(select(chats).where(chats.c.id == chat_id))).first()
        return _chat(row) if row else None

    async def set_status(self, chat_id: int, status: ChatStatus, now: datetime) -> bool:
        """Set active/paused/blocked; False when the chat is unknown."""
        async with self.session.begin() as s:
            res = await s.execute(update(chats).where(chats.c.id == chat_id)
                                  .values(status=ChatStatus(status).value, updated_at=now))
        return bool(res.rowcount)

    async def migrate(self, old_id: int, new_id: int, now: datetime) -> None:
        """A group became a supergroup: the chat and its subscriptions move to the new id
        (follows the new chat already has are kept once). Idempotent."""
        now = aware(now)
        async with self.session.begin() as s:
            old = (await s.execute(select(chats).where(chats.c.id == old_id))).mappings().first()
            if old is None:
                return
            has_new = (await s.execute(select(chats.c.id).where(chats.c.id == new_id))).first()
            if has_new is None:
                copy = dict(old)
                copy.update(id=new_id, type="supergroup", updated_at=now)
                await s.execute(insert(chats).values(**copy))
            # Subscriptions the new chat already has would collide on (chat, kind, key).
            have = {(r.kind, r.key) for r in (await s.execute(
                select(subscriptions.c.kind, subscriptions.c.key)
                .where(subscriptions.c.chat_id == new_id))).all()}
            for kind, key in have:
                await s.execute(delete(subscriptions).where(
                    subscriptions.c.chat_id == old_id, subscriptions.c.kind == kind,
                    subscriptions.c.key == key))
            await s.execute(update(subscriptions).where(subscriptions.c.chat_id == old_id)
                            .values(chat_id=new_id))
            await s.execute(delete(chats).where(chats.c.id == old_id))

    async def update_settings(self, chat_id: int, now: datetime,
                              **fields: Unpack[SettingsUpdate]) -> bool:
        """Write settings columns; False when the chat is unknown.

        The values are trusted (see SettingsUpdate: bot.alerts.prefs validates them); only
        the names are checked, so nothing writes `status` or `id` through here.
        """
        unknown = fields.keys() - _SETTINGS_COLUMNS
        if unknown:
            raise ValueError(f"not chat settings: {sorted(unknown)}")
        values: dict[str, Any] = dict(fields)
        if "briefing_times" in values:
            values["briefing_times"] = list(values["briefing_times"])  # a JSON array
        if not values:
            return await self.get(chat_id) is not None
        async with self.session.begin() as s:
            res = await s.execute(update(chats).where(chats.c.id == chat_id)
                                  .values(updated_at=now, **values))
        return bool(res.rowcount)

    async def settings(self, chat_id: int) -> ChatSettings:
        """The chat's settings (defaults when the chat is unknown)."""
        async with self.session.begin() as s:
            row = (await s.execute(select(chats).where(chats.c.id == chat_id))).first()
        return _settings(row) if row else ChatSettings()

    async def alert_targets(self, chat_ids: Sequence[int], since: datetime
                            ) -> dict[int, AlertTarget]:
        """Status, settings, alerts queued since `since` and briefing-only subscriptions,
        for many chats at once.

        Three queries (chats, outbox counts, briefing-only subscriptions) per 5,000 ids in
        one transaction: the alert fan-out must not cost a query per chat.
        """
        out: dict[int, AlertTarget] = {}
        ids = sorted(set(chat_ids))
        async with self.session.begin() as s:
            for part in chunks(ids, _CHUNK):
                counts: dict[int, int] = {}
                q = (select(outbox.c.chat_id, func.count())
                     .where(outbox.c.chat_id.in_(part),
                            outbox.c.kind == DeliveryKind.ALERT.value,
                            outbox.c.created_at >= since,
                            outbox.c.status != OutboxStatus.CANCELLED.value)
                     .group_by(outbox.c.chat_id))
                for chat_id, n in (await s.execute(q)).all():
                    counts[chat_id] = n
                # The DB, not the in-memory index, is the truth about modes.
                briefing: dict[int, set[int]] = {}
                instant: dict[int, set[int]] = {}
                important: dict[int, set[int]] = {}
                exclude: dict[int, dict[int, tuple[str, ...]]] = {}
                q = select(subscriptions.c.chat_id, subscriptions.c.id,
                           subscriptions.c.mode, subscriptions.c.exclude
                           ).where(subscriptions.c.chat_id.in_(part))
                for chat_id, sub_id, mode, words in (await s.execute(q)).all():
                    into = (instant if mode == SubscriptionMode.INSTANT.value else
                            important if mode == SubscriptionMode.IMPORTANT.value else briefing)
                    into.setdefault(chat_id, set()).add(sub_id)
                    if words:
                        exclude.setdefault(chat_id, {})[sub_id] = tuple(words)
                rows = (await s.execute(select(chats).where(chats.c.id.in_(part)))).all()
                for row in rows:
                    out[row.id] = AlertTarget(
                        status=ChatStatus(row.status), settings=_settings(row),
                        recent_alerts=counts.get(row.id, 0),
                        briefing_only=frozenset(briefing.get(row.id, ())),
                        instant=frozenset(instant.get(row.id, ())),
                        important=frozenset(important.get(row.id, ())),
                        exclude=exclude.get(row.id, {}))
        return out

    # --- subscriptions ---------------------------------------------------------------

    async def subscribe(self, chat_id: int, kind: TagKind, key: str, label: str,
                        mode: SubscriptionMode = SubscriptionMode.INSTANT, *,
                        now: datetime) -> tuple[Subscription, bool]:
        """Follow (kind, key); returns the subscription and whether it is new."""
        where = and_(subscriptions.c.chat_id == chat_id,
                     subscriptions.c.kind == TagKind(kind).value, subscriptions.c.key == key)
        for attempt in (1, 2):
            try:
                async with self.session.begin() as s:
                    row = (await s.execute(select(subscriptions).where(where))).first()
                    if row is not None:
                        return _subscription(row), False
                    known = (await s.execute(select(chats.c.id)
                                             .where(chats.c.id == chat_id))).first()
                    if known is None:
                        raise ValueError(f"chat {chat_id} is not known; upsert it first")
                    await s.execute(insert(subscriptions).values(
                        chat_id=chat_id, kind=TagKind(kind).value, key=key, label=label[:200],
                        mode=SubscriptionMode(mode).value, created_at=now))
                    row = (await s.execute(select(subscriptions).where(where))).one()
                    return _subscription(row), True
            except IntegrityError:
                if attempt == 2:  # the unique key raced with a double tap: read the winner
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def subscribe_many(self, chat_id: int,
                             wanted: Sequence[tuple[TagKind, str, str, SubscriptionMode]], *,
                             now: datetime) -> list[tuple[Subscription, bool]]:
        """Follow several (kind, key, label, mode) in one transaction: all or none; each
        with whether it is new (a repeated key counts once)."""
        for attempt in (1, 2):
            try:
                async with self.session.begin() as s:
                    known = (await s.execute(select(chats.c.id)
                                             .where(chats.c.id == chat_id))).first()
                    if known is None:
                        raise ValueError(f"chat {chat_id} is not known; upsert it first")
                    out: list[tuple[Subscription, bool]] = []
                    for kind, key, label, mode in wanted:
                        where = and_(subscriptions.c.chat_id == chat_id,
                                     subscriptions.c.kind == TagKind(kind).value,
                                     subscriptions.c.key == key)
                        row = (await s.execute(select(subscriptions).where(where))).first()
                        created = row is None
                        if created:
                            await s.execute(insert(subscriptions).values(
                                chat_id=chat_id, kind=TagKind(kind).value, key=key,
                                label=label[:200], mode=SubscriptionMode(mode).value,
                                created_at=now))
                            row = (await s.execute(select(subscriptions).where(where))).one()
                        out.append((_subscription(row), created))
                    return out
            except IntegrityError:
                if attempt == 2:  # raced with another follow of the same key: read again
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def unsubscribe(self, chat_id: int, subscription_id: int) -> Subscription | None:
        """Remove one of this chat's own subscriptions; None when it is not theirs/absent."""
        async with self.session.begin() as s:
            row = (await s.execute(select(subscriptions).where(
                subscriptions.c.id == subscription_id,
                subscriptions.c.chat_id == chat_id))).first()
            if row is None:
                return None
            await s.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))
        return _subscription(row)

    async def find_subscription(self, chat_id: int, kind: TagKind,
                                key: str) -> Subscription | None:
        """The chat's subscription to (kind, key), if any."""
        async with self.session.begin() as s:
            row = (await s.execute(select(subscriptions).where(
                subscriptions.c.chat_id == chat_id, subscriptions.c.kind == TagKind(kind).value,
                subscriptions.c.key == key))).first()
        return _subscription(row) if row else None

    async def unsubscribe_key(self, chat_id: int, kind: TagKind, key: str) -> bool:
        """Stop following (kind, key); False when the chat did not follow it."""
        async with self.session.begin() as s:
            res = await s.execute(delete(subscriptions).where(
                subscriptions.c.chat_id == chat_id, subscriptions.c.kind == TagKind(kind).value,
                subscriptions.c.key == key))
        return bool(res.rowcount)

    async def set_mode(self, chat_id: int, subscription_id: int,
                       mode: SubscriptionMode) -> bool:
        """Switch one of the chat's subscriptions between instant and briefing-only."""
        async with self.session.begin() as s:
            res = await s.execute(update(subscriptions).where(
                subscriptions.c.id == subscription_id, subscriptions.c.chat_id == chat_id,
            ).values(mode=SubscriptionMode(mode).value))
        return bool(res.rowcount)

    async def set_exclude(self, chat_id: int, subscription_id: int,
                          words: Sequence[str]) -> bool:
        """The words that keep a story from matching one of the chat's subscriptions."""
        async with self.session.begin() as s:
            res = await s.execute(update(subscriptions).where(
                subscriptions.c.id == subscription_id, subscriptions.c.chat_id == chat_id,
            ).values(exclude=list(words)))
        return bool(res.rowcount)

    async def subscriptions(self, chat_id: int) -> list[Subscription]:
        """The chat's subscriptions, oldest first."""
        async with self.session.begin() as s:
            rows = (await s.execute(select(subscriptions)
                                    .where(subscriptions.c.chat_id == chat_id)
                                    .order_by(subscriptions.c.id))).all()
        return [_subscription(r) for r in rows]

    async def get_subscription(self, subscription_id: int) -> Subscription | None:
        """One subscription by id (callers check it belongs to the asking chat)."""
        async with self.session.begin() as s:
            row = (await s.execute(select(subscriptions)
                                   .where(subscriptions.c.id == subscription_id))).first()
        return _subscription(row) if row else None

    async def iter_all_subscriptions(self, batch: int = 10000, *, after: int = 0
                                     ) -> AsyncIterator[list[Subscription]]:
        """Every subscription with id > `after` in id order, `batch` at a time (keyset
        paging, bounded memory)."""
        last = after
        cols = (subscriptions.c.id, subscriptions.c.chat_id, subscriptions.c.kind,
                subscriptions.c.key, subscriptions.c.label, subscriptions.c.mode)
        kinds = {k.value: k for k in TagKind}
        modes = {m.value: m for m in SubscriptionMode}
        # Thousands of rows share a key and label ("kherson"/"Kherson"): one string object
        # each, so a consumer that keeps them all (the alert index) stays small.
        strings: dict[str, str] = {}
        intern = strings.setdefault
        while True:
            async with self.session.begin() as s:
                rows = (await s.execute(select(*cols).where(subscriptions.c.id > last)
                                        .order_by(subscriptions.c.id).limit(batch))).all()
            if not rows:
                return
            # created_at is left out: the in-memory index does not need it.
            yield [Subscription(id=id_, chat_id=chat_id, kind=kinds[kind], key=intern(key, key),
                                label=intern(label, label), mode=modes[mode])
                   for id_, chat_id, kind, key, label, mode in rows]
            last = rows[-1][0]

    def _followers_query(self, kind: TagKind | None, key: str | None) -> Any:
        # Broadcasts are for people: a channel's readers never get an admin announcement.
        active = and_(chats.c.status == ChatStatus.ACTIVE.value, chats.c.type != "channel")
        if kind is None:
            return select(chats.c.id).where(active)
        conds = [subscriptions.c.kind == TagKind(kind).value, active]
        if key is not None:
            conds.append(subscriptions.c.key == key)
        return (select(chats.c.id).distinct()
                .select_from(chats.join(subscriptions, subscriptions.c.chat_id == chats.c.id))
                .where(*conds))

    async def followers(self, kind: TagKind | None = None,
                        key: str | None = None) -> list[int]:
        """Active chats following (kind, key); kind None = every active chat (broadcasts)."""
        async with self.session.begin() as s:
            rows = (await s.execute(self._followers_query(kind, key))).all()
        return sorted(r[0] for r in rows)

    async def count_followers(self, kind: TagKind | None = None, key: str | None = None) -> int:
        """How many chats followers() would return."""
        q = select(func.count()).select_from(self._followers_query(kind, key).subquery())
        async with self.session.begin() as s:
            return int((await s.execute(q)).scalar_one())

    async def counts(self, top: int = 10) -> dict[str, Any]:
        """Figures for /stats: chats by status (channels apart: ChannelRepo.stats),
        subscriptions by kind, the most followed keys."""
        async with self.session.begin() as s:
            by_status = {st.value: 0 for st in ChatStatus}
            for status, n in (await s.execute(select(chats.c.status, func.count())
                                              .where(chats.c.type != "channel")
                                              .group_by(chats.c.status))).all():
                by_status[status] = n
            by_kind = {k.value: 0 for k in TagKind}
            for kind, n in (await s.execute(select(subscriptions.c.kind, func.count())
                                            .group_by(subscriptions.c.kind))).all():
                by_kind[kind] = n
            n_col = func.count().label("n")
            top_rows = (await s.execute(
                select(subscriptions.c.kind, subscriptions.c.key, func.min(subscriptions.c.label),
                       n_col)
                .group_by(subscriptions.c.kind, subscriptions.c.key)
                .order_by(n_col.desc(), subscriptions.c.kind, subscriptions.c.key)
                .limit(top))).all()
        return {
            "chats": by_status,
            "chats_total": sum(by_status.values()),
            "subscriptions": by_kind,
            "subscriptions_total": sum(by_kind.values()),
            "top": [{"kind": k, "key": key, "label": label, "followers": n}
                    for k, key, label, n in top_rows],
        }
