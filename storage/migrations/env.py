"""Alembic environment: always given a live connection by storage.migrate."""

from alembic import context

from storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic without a connection
    raise SystemExit("run migrations with `herald db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
