"""Fixtures of the end-to-end tests (the harness is in e2e_harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from e2e_harness import Harness, running


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with two empty local sources."""
    async with running(tmp_path) as h:
        yield h
