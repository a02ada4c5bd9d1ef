"""The `audit_log` table and the head of its hash chain.

Append-only: triggers (migration 0008) refuse UPDATE and DELETE on SQLite and PostgreSQL. It
records which fields were touched, never their values. Each row carries `hash`, an HMAC over
the previous row's hash (`prev_hash`) and the row's own content (audit/model.py), so a row
altered, inserted or removed by someone with rights on the database (who can drop those
triggers) breaks the chain; `audit_chain_head` keeps the last row's id and hash, so removing
the newest rows is seen too (`safetynet audit verify`)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, Integer, String, Table, Text

from safetynet.db import metadata

audit_log = Table(
    "audit_log", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(32), nullable=False),  # username, or "-" when none is known
    Column("actor_role", String(32)),
    Column("actor_region", String(14)),  # the actor's region code (scope of audit reads)
    Column("action", String(16), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64)),
    Column("fields", Text),  # JSON list of field names
    Column("purpose", String(500)),
    Column("result", String(16), nullable=False),
    Column("detail", String(200)),
    Column("prev_hash", String(64)),  # the previous row's `hash` (the first row: 64 zeros)
    Column("hash", String(64)),  # HMAC-SHA256 (hex) of prev_hash and this row's content
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor", "at"),
    Index("ix_audit_log_object", "object_type", "object_id"),
)

# One row (id 1). Writers lock it (UPDATE first thing) so the chain never forks.
audit_chain_head = Table(
    "audit_chain_head", metadata,
    Column("id", Integer, primary_key=True),
    Column("last_id", BigInteger, nullable=False),  # 0: no row chained yet
    Column("last_hash", String(64), nullable=False),
    # HMAC of (last_id, last_hash): the head cannot be set back to an older row
    Column("head_mac", String(64), nullable=False),
    Column("key_check", String(64), nullable=False),  # HMAC of a fixed text: which key made the chain
    CheckConstraint("id = 1", name="one_row"),
)
