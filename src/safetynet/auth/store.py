"""Tables of sign-in: accounts, sessions (only a hash of each session token is stored) and the
counters that throttle guessing (auth/throttle.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table

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
    # the last accepted TOTP time step (unix time // 30): a code of that step or earlier is refused
    Column("totp_last_step", BigInteger),
    # the account-wide ceiling (all client addresses): failures (and attempts in flight) counted
    # since failures_since; reaching the ceiling locks the whole account until locked_until
    Column("failed_attempts", Integer, nullable=False),
    Column("failures_since", DateTime(timezone=True)),
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

# Failed sign-ins per account and client address (the lockout a stranger cannot impose on the
# owner elsewhere): consecutive failures (and attempts in flight) since the last success or lock.
login_failures = Table(
    "login_failures", metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("client", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Sign-in attempts per client address in fixed windows (shared by every server process: the
# per-address rate limit); rows of windows past are deleted as new windows open.
login_rate = Table(
    "login_rate", metadata,
    Column("client", String(64), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Index("ix_login_rate_window_start", "window_start"),
)
