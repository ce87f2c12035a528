"""Throw-away PostgreSQL databases for the tests and the benchmarks (never for production)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.engine import normalize_url


async def create_scratch_database(server_url: str, prefix: str = "herald_t") -> str:
    """Create an empty database on the server of `server_url`; return its URL."""
    base = make_url(normalize_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


async def drop_scratch_database(server_url: str, url: str) -> None:
    """Drop the database of `url` (made by create_scratch_database), closing its sessions."""
    admin = create_async_engine(make_url(normalize_url(server_url)),
                                isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" '
                                "WITH (FORCE)"))
    await admin.dispose()
