"""Tables of the feeds capability: the load ledger, the lake-file register, the quarantine."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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

# The lake files of a feed, registered in the transaction that commits them: a file on disk
# that is not listed here (a load that crashed before its commit) is invisible to readers
# and is deleted by the next load of the feed. Every file carries, per row, `record_id`,
# `content_digest` and `version`: the lake itself is the record index (duplicates and
# corrections are found by a DuckDB join over these columns, not by per-row database rows).
# kind: "load" (the accepted rows of a delivery) | "linkage" (quarantined rows of that
# delivery later linked to a person; `load_id` is the delivery they came in).
feed_lake_files = Table(
    "feed_lake_files", metadata,
    Column("id", Integer, primary_key=True),
    Column("load_id", Integer, ForeignKey("feed_loads.id"), nullable=False, index=True),
    Column("feed", String(32), nullable=False),
    Column("month", String(7), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("path", String(1024), nullable=False, unique=True),
    Column("rows", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_feed_lake_files_feed", "feed", "id"),
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


def registered_files(conn: Connection, feed: str) -> list[dict]:
    """The committed lake files of a feed, oldest first."""
    t = feed_lake_files
    q = select(t).where(t.c.feed == feed).order_by(t.c.id)
    return [dict(r) for r in conn.execute(q).mappings()]
