"""Fixtures for the ops tests: a PostgreSQL-only database URL (skips without one)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from datapaths import PG_URL, create_pg_database, drop_pg_database


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
