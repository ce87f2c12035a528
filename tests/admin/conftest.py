"""Fixtures for the admin tests: chats and subscriptions in bulk, the Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from telegram import Bot

from bot.testing.botapi import BotApiEmulator
from storage.store import Store
from storage.tables import chats, subscriptions

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


async def add_chats(store: Store, ids: Sequence[int], *, follow: Sequence[tuple[str, str]] = (),
                    status: str = "active") -> None:
    """Insert chats (and their subscriptions) in bulk, as many users would over time."""
    async with store.session.begin() as s:
        await s.execute(insert(chats), [
            {"id": i, "type": "private" if i > 0 else "group", "language": "en",
             "timezone": "UTC", "status": status, "briefing_times": [], "created_at": NOW,
             "updated_at": NOW} for i in ids])
        rows = [{"chat_id": i, "kind": kind, "key": key, "label": key.title(),
                 "mode": "instant", "created_at": NOW} for i in ids for kind, key in follow]
        if rows:
            await s.execute(insert(subscriptions), rows)


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    emu = BotApiEmulator(enforce_limits=False)
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def tg_bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    bot = Bot(emulator.token, base_url=emulator.base_url)
    await bot.initialize()
    try:
        yield bot
    finally:
        await bot.shutdown()
