"""Tables of the linkage capability: the clerical review queue."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, ForeignKey, Index, Integer, String, Table

from safetynet.db import metadata

# One row per (quarantined row, candidate person) pair scored between the review and the
# auto-link thresholds. status: pending | accepted | rejected | superseded (another
# candidate of the same row was accepted).
link_candidates = Table(
    "link_candidates", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("quarantine_id", BigInteger().with_variant(Integer, "sqlite"), ForeignKey("quarantine.id"),
           nullable=False, index=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("match_probability", Float, nullable=False),
    Column("match_weight", Float, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(128)),
    Index("ix_link_candidates_status", "status", "id"),
)
