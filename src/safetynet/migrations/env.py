"""Alembic environment: runs against the connection handed over by safetynet.bootstrap."""

from __future__ import annotations

from alembic import context

from safetynet.bootstrap import all_metadata

config = context.config
target_metadata = all_metadata()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from safetynet.db import get_engine

        with get_engine().begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
