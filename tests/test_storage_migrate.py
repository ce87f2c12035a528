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


async def test_migrations_match_the_tables(db_url: str) -> None:
    """The migrated schema is exactly storage.tables: a changed table needs a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from storage.tables import metadata

    s = await Store.open(db_url)
    try:
        async with s.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(
                    c, opts={"compare_type": True}), metadata))
    finally:
        await s.close()
    assert diff == []
