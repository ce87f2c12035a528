"""Shared fixtures: a real database on every backend, paths to shared data."""

from __future__ import annotations

import sys

# Cache compiled modules even where the environment says not to (PYTHONDONTWRITEBYTECODE):
# each test process (three xdist workers, the `herald run` subprocesses of the crash tests)
# would otherwise compile the project and rewrite every test module again, about a tenth of
# the suite's CPU. Set before the imports below, so the project's modules are cached too.
sys.dont_write_bytecode = False

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from datapaths import (  # noqa: F401 - re-exported for older imports
    BACKENDS,
    PG_URL,
    SHARED_FEEDS,
    SHARED_SAMPLES,
    TEST_DATA,
    create_migrated_pg_database,
    create_pg_database,
    drop_pg_database,
    drop_pg_template,
    migrated_sqlite_file,
    shared_feed,
    shared_sample,
)

from bot.testing.feed_server import FeedServer
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


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated Store on each backend (on PostgreSQL a copy of a migrated template)."""
    if request.param == "sqlite":
        s = await Store.open(await migrated_sqlite_file(tmp_path / "herald.db"))
        try:
            yield s
        finally:
            await s.close()
        return
    url = await create_migrated_pg_database()
    try:
        s = await Store.open(url)
        try:
            yield s
        finally:
            await s.close()
    finally:
        await drop_pg_database(url)


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template() -> Iterator[None]:
    """At the end of the session, drop the migrated template (made on first use)."""
    yield
    drop_pg_template()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated Store on SQLite only (for tests that are not about the backend)."""
    s = await Store.open(await migrated_sqlite_file(tmp_path / "herald.db"))
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    """The local feed server on loopback (bot.testing.feed_server), for one test."""
    srv = FeedServer()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database URL, or skip when HERALD_TEST_DATABASE_URL is unset."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need HERALD_TEST_DATABASE_URL")
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)
