"""Throw-away databases for benchmarks: a SQLite file and a PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def sqlite_url() -> Iterator[str]:
    path = Path(f"/tmp/safetynet-bench-{uuid.uuid4().hex[:6]}.sqlite3")
    try:
        yield f"sqlite:///{path}"
    finally:
        for p in path.parent.glob(path.name + "*"):
            p.unlink()


@contextmanager
def postgres_url(admin_url: str = DEFAULT_PG) -> Iterator[str]:
    name = f"safetynet_bench_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
