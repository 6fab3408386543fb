"""Alembic environment: the URL comes from the caller (billbot db upgrade, which reads it from
the settings)."""
from __future__ import annotations

from alembic import context

from billing.db.engine import make_engine
from bot import all_models

config = context.config
target_metadata = all_models.Base.metadata


def run_migrations_online() -> None:
    """Apply the migrations on the caller's connection, or on one to the configured URL."""
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run billbot db upgrade")
run_migrations_online()
