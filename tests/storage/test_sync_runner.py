"""storage.sync_runner: one transaction per call, on SQLite in the runner's own thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, select

from bot.domain import SourceConfig
from storage.store import Store
from storage.tables import sources

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def _where_and_count(conn: Connection) -> tuple[str, int]:
    n = conn.execute(select(func.count()).select_from(sources)).scalar_one()
    return threading.current_thread().name, n


def _insert_then_fail(conn: Connection) -> None:
    conn.execute(sources.insert().values(name="half", url="https://half.example.org/rss",
                                         language="en", created_at=NOW))
    raise RuntimeError("after the insert")


async def test_runs_in_one_transaction_on_both_backends(store: Store) -> None:
    await store.sources.add(SourceConfig(name="one", url="https://one.example.org/rss"),
                            now=NOW)
    where, n = await store.sync.transaction(_where_and_count)
    assert n == 1  # sees what the async engine committed
    if store.is_sqlite:
        assert store.sync.threaded and where.startswith("herald-sqlite")
    else:
        assert not store.sync.threaded  # asyncpg under run_sync, in the loop's thread
    with pytest.raises(RuntimeError, match="after the insert"):
        await store.sync.transaction(_insert_then_fail)
    assert (await store.sync.transaction(_where_and_count))[1] == 1  # rolled back
    assert [s.name for s in await store.sources.list_all()] == ["one"]
