"""Engine and schema plumbing shared by every capability's store.

SQLite is the embedded default: WAL for concurrent readers, synchronous=FULL so a
committed transaction survives a power cut, foreign keys on. PostgreSQL through psycopg 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, MetaData, create_engine, event

# Deterministic constraint names so Alembic migrations are reproducible on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the process."""
    if url is None:
        from safetynet.config import get_settings

        settings = get_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url()
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work: committed whole or rolled back whole."""
    with engine.begin() as conn:
        yield conn
