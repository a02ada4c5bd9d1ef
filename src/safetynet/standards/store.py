"""Standards table: one row per (region, registration, kind, effective_from)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from safetynet.db import metadata

standards = Table(
    "standards",
    metadata,
    Column("id", Integer, primary_key=True),
    # county (or city/province for a wider default), 12 digits
    Column("region_code", String(14), ForeignKey("regions.code"), nullable=False),
    Column("registration", String(8), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("source", Text),  # the document that set it
    Column("derived_from", Integer, ForeignKey("standards.id")),  # linked kinds
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    UniqueConstraint("region_code", "registration", "kind", "effective_from",
                     name="uq_standards_key"),
)

# Corrections of an existing row keep the previous value here.
standard_versions = Table(
    "standard_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("standard_id", Integer, ForeignKey("standards.id"), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("source", Text),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("superseded_at", DateTime(timezone=True), nullable=False),
)
