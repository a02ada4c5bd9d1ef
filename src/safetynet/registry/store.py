"""Registry tables: households, persons, membership over time, tiers with history.

Current rows live in `households` / `persons`; each time an import changes one, the
previous content is kept in `*_versions`. Membership and tiers are intervals
(`valid_from`/`valid_to`, `since`/`until`): the open interval is the current state.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
)

from safetynet.db import metadata

registry_imports = Table(
    "registry_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("households_digest", String(64), nullable=False),
    Column("persons_digest", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("partial", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # loaded | unchanged
    Column("counts", JSON, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)

households = Table(
    "households",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_no", String(64), nullable=False, unique=True),  # the register's own id
    Column("region_code", String(14), ForeignKey("regions.code"), nullable=False, index=True),
    Column("registration", String(8), nullable=False),
    Column("address", Text),
    Column("grid_code", String(14), ForeignKey("regions.code")),
    Column("phone", String(32)),
    Column("version", Integer, nullable=False),
    Column("import_id", Integer, ForeignKey("registry_imports.id"), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # search lists a region's households in this order: one index range, no sort
    Index("ix_households_region_no", "region_code", "household_no"),
)

household_versions = Table(
    "household_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("import_id", Integer, ForeignKey("registry_imports.id"), nullable=False),
    Column("superseded_at", DateTime(timezone=True), nullable=False),
    Column("superseded_by_import", Integer, ForeignKey("registry_imports.id"), nullable=False),
)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    # sensitive: read unmasked only through the service, which masks and audits
    Column("id_number", String(18), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("import_id", Integer, ForeignKey("registry_imports.id"), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # search: name exact or prefix (pattern ops so LIKE 'x%' uses it in any PG collation)
    # covering on PostgreSQL (migration 0015): a name-prefix search reads name → id from the index
    Index("ix_persons_name", "name", postgresql_ops={"name": "varchar_pattern_ops"},
          postgresql_include=["id"]),
)
# search by the last 4 characters of the id number (what a caller reads off a card)
Index("ix_persons_id_last4", func.substr(persons.c.id_number, 15, 4))

person_versions = Table(
    "person_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("import_id", Integer, ForeignKey("registry_imports.id"), nullable=False),
    Column("superseded_at", DateTime(timezone=True), nullable=False),
    Column("superseded_by_import", Integer, ForeignKey("registry_imports.id"), nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("relation", String(16), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),  # null: still a member
    Column("import_id", Integer, ForeignKey("registry_imports.id"), nullable=False),
    Column("ended_by_import", Integer, ForeignKey("registry_imports.id")),
    Index("ix_memberships_person_current", "person_id", "valid_to", postgresql_include=["household_id"]),
    Index("ix_memberships_household_current", "household_id", "valid_to"),
)

person_tiers = Table(
    "person_tiers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("tier", String(24), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date),  # null: current
    Column("support_form", String(16)),
    Column("care_level", String(16)),
    Column("monthly_benefit_fen", BigInteger),  # money in integer fen, never float
    Column("import_id", Integer, ForeignKey("registry_imports.id"), nullable=False),
    Column("ended_by_import", Integer, ForeignKey("registry_imports.id")),
    Index("ix_person_tiers_person_current", "person_id", "until"),
    Index("ix_person_tiers_tier_current", "tier", "until"),
    Index("ix_person_tiers_household", "household_id", "until"),
)

household_tiers = Table(
    "household_tiers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("tier", String(24), nullable=False),
    Column("since", Date, nullable=False),
    Column("until", Date),
    Column("import_id", Integer, ForeignKey("registry_imports.id"), nullable=False),
    Column("ended_by_import", Integer, ForeignKey("registry_imports.id")),
    Index("ix_household_tiers_household_current", "household_id", "until"),
    Index("ix_household_tiers_tier_current", "tier", "until", "household_id"),
)


def is_member(conn: Connection, *, person_id: int, household_id: int) -> bool:
    """Whether the person is, or was, a member of the household (any membership on record)."""
    return conn.execute(
        select(memberships.c.id)
        .where(memberships.c.person_id == person_id, memberships.c.household_id == household_id)
        .limit(1)
    ).first() is not None
