"""Paths to test data and PostgreSQL helpers, importable from any test as `datapaths`.

(Not in conftest.py: several conftest modules exist, so `from conftest import` is ambiguous.)
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import normalize_url

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
