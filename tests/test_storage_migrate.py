from __future__ import annotations

from storage.migrate import current
from storage.store import Store


async def test_migrate_is_idempotent(db_url: str) -> None:
    s = await Store.open(db_url)
    await s.close()
    s = await Store.open(db_url)
    try:
        assert await current(s.engine) is not None
    finally:
        await s.close()
