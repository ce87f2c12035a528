"""Base class for repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.store import Store


class Repo:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def session(self) -> Any:  # async_sessionmaker[AsyncSession]; Any keeps rowcount usable
        """An async_sessionmaker: `async with self.session.begin() as s: ...`."""
        return self.store.session
