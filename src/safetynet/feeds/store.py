"""Tables of the feeds capability: the load ledger, the record index, the quarantine."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.engine import Connection

from safetynet.db import metadata

# One row per delivered file per attempt. `loaded_digest` is set only on a successful load
# and is UNIQUE, so a file can be loaded once; rejected attempts are kept with their errors.
feed_loads = Table(
    "feed_loads", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_name", String(255), nullable=False),
    Column("digest", String(64), nullable=False, index=True),  # sha256 of the file's bytes
    Column("loaded_digest", String(64), unique=True),
    Column("feed", String(32), nullable=False),
    Column("month", String(7), nullable=False),
    Column("status", String(16), nullable=False),  # loaded | rejected
    Column("rows", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    Column("linked", Integer, nullable=False, default=0),
    Column("quarantined", Integer, nullable=False, default=0),
    Column("duplicate", Integer, nullable=False, default=0),
    Column("corrected", Integer, nullable=False, default=0),
    Column("errors", JSON, nullable=False),
    Column("lake_path", String(1024)),
    Column("actor", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

# Every accepted version of every record: duplicates and corrections are found here.
feed_records = Table(
    "feed_records", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("feed", String(32), nullable=False),
    Column("record_id", String(128), nullable=False),
    Column("content_digest", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("month", String(7), nullable=False),
    Column("load_id", Integer, ForeignKey("feed_loads.id"), nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("id_number", String(18)),
    Column("is_current", Boolean, nullable=False),
    Index("ix_feed_records_feed_record", "feed", "record_id"),
)

# Rows not loaded, with the reason; resolved by hand (or by linkage) later.
quarantine = Table(
    "quarantine", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("load_id", Integer, ForeignKey("feed_loads.id"), nullable=False, index=True),
    Column("feed", String(32), nullable=False),
    Column("record_id", String(128)),
    Column("content_digest", String(32)),
    Column("line", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("row", JSON, nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(128)),
    Column("resolution", Text),
    Index("ix_quarantine_feed_record", "feed", "record_id"),
)


def loaded_by_digest(conn: Connection, digest: str) -> dict | None:
    row = conn.execute(select(feed_loads).where(feed_loads.c.loaded_digest == digest)).mappings().first()
    return dict(row) if row else None


def loaded_digests(conn: Connection, feed: str) -> set[str]:
    q = select(feed_loads.c.loaded_digest).where(feed_loads.c.feed == feed,
                                                 feed_loads.c.loaded_digest.is_not(None))
    return {r[0] for r in conn.execute(q)}
