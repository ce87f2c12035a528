"""Paths to test data and PostgreSQL helpers, importable from any test as `datapaths`.

(Not in conftest.py: several conftest modules exist, so `from conftest import` is ambiguous.)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import normalize_url
from storage.scratch import create_scratch_database, drop_scratch_database
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
    """Create a throw-away, empty database on the test server; return its URL."""
    return await create_scratch_database(PG_URL)


async def drop_pg_database(url: str) -> None:
    await drop_scratch_database(PG_URL, url)


_template: str | None = None  # this test process's migrated template database (its URL)
_sqlite_template: Path | None = None  # this test process's migrated SQLite file


async def migrated_sqlite_file(path: Path) -> str:
    """Put a migrated SQLite database at `path`, unless a database is there already (a
    copy of a file this test process migrated once: a fresh migration costs ~0.1 s of
    CPU, a copy almost nothing; opening it still checks it is at the newest revision);
    return its URL."""
    global _sqlite_template
    if _sqlite_template is None:
        made = Path(tempfile.mkdtemp(prefix="herald-tmpl-")) / "template.db"
        store = await Store.open(f"sqlite+aiosqlite:///{made}")
        await store.close()
        _sqlite_template = made
    _copy_unless_there(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def _copy_unless_there(template: Path, path: Path) -> None:
    if not path.exists():
        shutil.copyfile(template, path)


async def create_migrated_pg_database() -> str:
    """A throw-away database with Herald's schema; return its URL.

    Copied from a template migrated once per test process (CREATE DATABASE ... TEMPLATE):
    about half the cost of an empty database that each test migrates. Each process (a
    second pytest run in parallel, say) has its own template."""
    global _template
    if _template is None:
        url = await create_scratch_database(PG_URL, prefix="herald_tmpl")
        store = await Store.open(url)
        await store.close()  # no session may stay connected to a template
        _template = url
    name = f"herald_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(make_url(normalize_url(PG_URL)), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(
                f'CREATE DATABASE "{name}" TEMPLATE "{make_url(_template).database}"'))
    finally:
        await admin.dispose()
    return make_url(_template).set(database=name).render_as_string(hide_password=False)


def drop_pg_template() -> None:
    """Drop this process's template database, if one was made (end of the test session)."""
    global _template
    if _template is not None:
        asyncio.run(drop_scratch_database(PG_URL, _template))
        _template = None
