"""The `audit_log` table. Append-only: triggers (migration 0008) refuse UPDATE and DELETE on
SQLite and PostgreSQL. It records which fields were touched, never their values."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

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
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor", "at"),
    Index("ix_audit_log_object", "object_type", "object_id"),
)
