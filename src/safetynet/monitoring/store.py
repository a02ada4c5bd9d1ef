"""Tables of the monitoring capability: monthly monitor runs, warnings, and each month a warning fired.

A warning is one (rule, person, month raised). A rule firing again inside its suppression window
updates that warning instead of raising a new one, so `warning_firings` keeps every month it fired:
a month's list and the scoring of a month are exact even when the warning was raised earlier."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from safetynet.db import metadata

# SQLite only aliases INTEGER PRIMARY KEY to the rowid (autoincrement): BIGINT there would not be
_WARNING_ID = BigInteger().with_variant(Integer, "sqlite")

monitor_runs = Table(
    "monitor_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("engine", String(16), nullable=False),  # duckdb | spark
    Column("catalogue_digest", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # running | finished | failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("seconds", Float),
    Column("peak_rss_bytes", BigInteger),
    Column("counts", JSON),  # by rule, level, region
    Column("actor", String(128), nullable=False),
    Index("ix_monitor_runs_month", "month", "id"),
)

warnings = Table(
    "warnings", metadata,
    Column("id", _WARNING_ID, primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("month", String(7), nullable=False),  # the month the warning was raised
    Column("last_month", String(7), nullable=False),  # the latest month it fired
    Column("level", String(8), nullable=False),  # blue | yellow | orange | red: the highest it reached
    Column("need", String(32)),
    Column("side", String(8), nullable=False),  # entry | exit
    Column("id_number", String(18), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id")),
    Column("household_id", Integer, ForeignKey("households.id")),
    Column("household_no", String(64)),  # as imported
    Column("region_code", String(14), nullable=False),  # the household's village: readers' scope
    Column("status", String(16), nullable=False, default="new"),
    Column("value", Text),  # the indicator's value as shown, e.g. "0.62" or "-35%"
    Column("evidence", JSON, nullable=False),  # [{feed, record_id, month}] of the latest month
    Column("first_run_id", Integer, ForeignKey("monitor_runs.id"), nullable=False),
    Column("last_run_id", Integer, ForeignKey("monitor_runs.id"), nullable=False),
    Column("fired_months", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # also the lookup of "the latest warning of this rule and person" when recording
    UniqueConstraint("rule", "id_number", "month", name="uq_warnings_rule_person_month"),
    Index("ix_warnings_region_status", "region_code", "status"),
    Index("ix_warnings_status", "status", "id"),
    Index("ix_warnings_month", "month", "id"),
)

warning_firings = Table(
    "warning_firings", metadata,
    Column("warning_id", _WARNING_ID, ForeignKey("warnings.id"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("run_id", Integer, ForeignKey("monitor_runs.id"), nullable=False),
    Column("level", String(8), nullable=False),
    Column("value", Text),
    Column("evidence", JSON, nullable=False),
    # a month's list: every warning that fired that month
    Index("ix_warning_firings_month", "month", "warning_id"),
)
