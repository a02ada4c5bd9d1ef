"""Tables of the assessment capability: dated batch-assessment runs and their results.

A run is history: re-running a month adds a run, never changes an old one. Result rows are
keyed by (run, household) so one run's pages and change filters are index lookups."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from safetynet.db import metadata

assessment_runs = Table(
    "assessment_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("as_of", Date, nullable=False),  # the month's last day: register, standards and rules date
    Column("region", String(12)),  # code prefix assessed; null: the whole register
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("actor", String(128), nullable=False),
    Column("households", Integer, nullable=False, default=0),
    Column("persons", Integer, nullable=False, default=0),
    Column("changed", Integer, nullable=False, default=0),  # households whose change is not unchanged
    Column("monthly_benefit_fen", BigInteger, nullable=False, default=0),
    Column("summary", JSON, nullable=False),  # totals and by county: tiers, change kinds
    Column("provenance", JSON, nullable=False),  # rules version/digest, standards sources
    Column("timings", JSON, nullable=False),  # seconds: facts, assess, write
    Index("ix_assessment_runs_month", "month", "id"),
)

assessment_results = Table(
    "assessment_results", metadata,
    Column("run_id", Integer, ForeignKey("assessment_runs.id"), primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), primary_key=True),
    Column("household_no", String(64), nullable=False),  # as registered at the run
    Column("county_code", String(6), nullable=False),
    Column("region_code", String(14), nullable=False),  # the household's village: readers' scope
    Column("tier", String(24), nullable=False),  # assessed household tier ("none": no tier)
    Column("benefit_fen", BigInteger, nullable=False),  # monthly total benefit
    Column("per_capita_income_fen", BigInteger, nullable=False),
    Column("dibao_standard_fen", BigInteger, nullable=False),  # the local standard used
    Column("registered_tier", String(24)),  # the enrolment current on as_of; null: none
    Column("change", String(12), nullable=False),  # new / exit / up / down / unchanged
    Index("ix_assessment_results_change", "run_id", "change", "household_id"),
)

# Person-level decisions only (extremely poor persons, single-person dibao), not every member.
assessment_person_results = Table(
    "assessment_person_results", metadata,
    Column("run_id", Integer, ForeignKey("assessment_runs.id"), primary_key=True),
    Column("person_id", Integer, ForeignKey("persons.id"), primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("tier", String(24), nullable=False),
    Column("single_person_dibao", Boolean, nullable=False),
    Column("care_level", String(16)),  # extremely poor persons only
    Column("benefit_fen", BigInteger, nullable=False),
    Column("registered_tier", String(24)),
)
