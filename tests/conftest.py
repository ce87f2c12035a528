"""Shared fixtures: a real database on every backend, paths to shared data."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import normalize_url
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SHARED_FEEDS = SHARED / "feeds"
SHARED_SAMPLES = SHARED / "samples"
TEST_DATA = Path(__file__).resolve().parent / "data"

PG_URL = os.environ.get("HERALD_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def shared_feed(name: str) -> Path:
    """Path of a real publisher feed in ../shared/feeds, or skip the test."""
    path = SHARED_FEEDS / name
    if not path.exists():
        pytest.skip(f"shared feed {name} not available")
    return path


def shared_sample(name: str) -> Path:
    path = SHARED_SAMPLES / name
    if not path.exists():
        pytest.skip(f"shared sample {name} not available")
    return path


async def create_pg_database() -> str:
    """Create a throw-away database on the test server; return its URL."""
    base = make_url(normalize_url(PG_URL))
    name = f"herald_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    base = make_url(normalize_url(PG_URL))
    name = make_url(url).database
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


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
