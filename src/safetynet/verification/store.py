"""Tables of the verification capability: the families' authorisations on record."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table

from safetynet.db import metadata

# One row per signed authorisation (授权书) a family gave for the verification of its economic
# condition. `scope` is the list of kinds of data it covers (model.SCOPES). A revoked
# authorisation is kept with revoked_at/by; nothing is deleted.
verification_authorisations = Table(
    "verification_authorisations", metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("scope", JSON, nullable=False),
    Column("valid_until", Date),  # null: until revoked
    Column("signer_name", String(64), nullable=False),
    Column("document_ref", String(255), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String(128)),
    Index("ix_verification_authorisations_household", "household_id", "signed_on"),
)
