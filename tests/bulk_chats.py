"""Chats and subscriptions in bulk, straight into the tables (as many users would over
time): for the broadcast, admin and handover tests. Imported by name, like datapaths."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert

from storage.store import Store
from storage.tables import chats, subscriptions

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


async def add_chats(store: Store, ids: Sequence[int], *, follow: Sequence[tuple[str, str]] = (),
                    status: str = "active") -> None:
    """Insert chats (and their subscriptions) in bulk, as many users would over time."""
    async with store.session.begin() as s:
        await s.execute(insert(chats), [
            {"id": i, "type": "private" if i > 0 else "group", "language": "en",
             "timezone": "UTC", "status": status, "briefing_times": [], "created_at": NOW,
             "updated_at": NOW} for i in ids])
        rows = [{"chat_id": i, "kind": kind, "key": key, "label": key.title(),
                 "mode": "instant", "created_at": NOW} for i in ids for kind, key in follow]
        if rows:
            await s.execute(insert(subscriptions), rows)
