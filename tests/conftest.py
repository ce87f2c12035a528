"""Shared fixtures: a real database on every backend, paths to shared data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from datapaths import (  # noqa: F401 - re-exported for older imports
    BACKENDS,
    PG_URL,
    SHARED_FEEDS,
    SHARED_SAMPLES,
    TEST_DATA,
    create_pg_database,
    drop_pg_database,
    shared_feed,
    shared_sample,
)

from storage.store import Store


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL on each backend (SQLite file; PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'herald.db'}"
    else:
        url = await create_pg_database()
        try:
            yield url
        finally:
            await drop_pg_database(url)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A migrated Store on each backend."""
    s = await Store.open(db_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated Store on SQLite only (for tests that are not about the backend)."""
    s = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'herald.db'}")
    try:
        yield s
    finally:
        await s.close()
