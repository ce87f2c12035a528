"""Paths to test data and PostgreSQL helpers, importable from any test as `datapaths`.

(Not in conftest.py: several conftest modules exist, so `from conftest import` is ambiguous.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.scratch import create_scratch_database, drop_scratch_database

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
    return await create_scratch_database(PG_URL)


async def drop_pg_database(url: str) -> None:
    await drop_scratch_database(PG_URL, url)
