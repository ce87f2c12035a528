"""Repository for named counters shared by every process (the leader term)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.repos.base import Repo
from storage.tables import counters

LEADER_TERM = "leader_term"


class CounterRepo(Repo):
    """counters: atomic increments that survive restarts."""

    async def increment(self, name: str) -> int:
        """Add one to the counter (created at 1) and return its new value, atomically."""
        insert: Any = sqlite_insert if self.store.is_sqlite else pg_insert
        stmt = insert(counters).values(name=name, value=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"], set_={"value": counters.c.value + 1},
        ).returning(counters.c.value)
        async with self.session.begin() as s:
            return int((await s.execute(stmt)).scalar_one())

    async def next_leader_term(self) -> int:
        """A new leader term, greater than every term handed out before."""
        return await self.increment(LEADER_TERM)
