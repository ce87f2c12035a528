"""Base class for repositories."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.store import Store


class Repo:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def session(self):  # type: ignore[no-untyped-def]
        """An async_sessionmaker: `async with self.session.begin() as s: ...`."""
        return self.store.session
