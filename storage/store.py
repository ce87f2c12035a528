"""The Store: one object that owns the engine and hands out repositories by role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain import ChatStatus
from storage.engine import create_engine, is_sqlite, sessionmaker, sqlite_pragmas
from storage.migrate import upgrade
from storage.repos.briefings import BriefingRepo
from storage.repos.broadcasts import BroadcastRepo
from storage.repos.channels import ChannelRepo
from storage.repos.chats import ChatRepo
from storage.repos.counters import CounterRepo
from storage.repos.news import NewsRepo
from storage.repos.outbox import OutboxRepo
from storage.repos.sources import SourceRepo
from storage.sync_runner import SyncRunner


class Store:
    """Repositories share one engine; each method owns its transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.session = sessionmaker(engine)
        # Batches of plain Core statements (the item pipeline's writes): see sync_runner.
        self.sync = SyncRunner(engine, on_connect=sqlite_pragmas)
        self.sources = SourceRepo(self)
        self.news = NewsRepo(self)
        self.chats = ChatRepo(self)
        self.outbox = OutboxRepo(self)
        self.broadcasts = BroadcastRepo(self)
        self.briefings = BriefingRepo(self)
        self.counters = CounterRepo(self)
        self.channels = ChannelRepo(self)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.engine)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, echo: bool = False) -> Store:
        """Create the engine and (by default) migrate to the newest schema."""
        engine = create_engine(url, echo=echo)
        if migrate:
            await upgrade(engine)
        return cls(engine)

    # --- what spans two repositories -------------------------------------------------

    async def block_chat(self, chat_id: int, now: datetime) -> int:
        """The chat blocked the bot: mark it blocked (no more alerts are queued for it),
        then give up its waiting rows; how many. Safe to repeat after a crash between."""
        await self.chats.set_status(chat_id, ChatStatus.BLOCKED, now)
        return await self.outbox.fail_chat(chat_id, "blocked")

    async def migrate_chat(self, old_id: int, new_id: int, now: datetime) -> None:
        """A group became a supergroup: the chat, its follows and its waiting rows move.
        Safe to repeat (a row left on the old id is migrated again when Telegram says so)."""
        await self.chats.migrate(old_id, new_id, now)
        await self.outbox.move_chat(old_id, new_id)

    async def close(self) -> None:
        await self.sync.close()
        await self.engine.dispose()
