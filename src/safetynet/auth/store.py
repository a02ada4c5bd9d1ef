"""Tables of sign-in: accounts and sessions (only a hash of each session token is stored)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table

from safetynet.db import metadata

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(32), nullable=False),
    Column("region_code", String(14), ForeignKey("regions.code"), nullable=False, index=True),
    Column("department", String(32)),
    Column("active", Boolean, nullable=False),
    # TOTP second factor (administrators): secret set at setup (encrypted, auth/encryption.py),
    # enforced once confirmed
    Column("totp_secret", String(200)),
    Column("totp_enabled", Boolean, nullable=False),
    # lockout: consecutive failures since the last success / lock
    Column("failed_attempts", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(32)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("password_changed_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    # SHA-256 (hex) of the token in the cookie: a stolen database gives no usable session
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_sessions_user_id", "user_id"),
)
