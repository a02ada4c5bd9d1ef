"""Tables of the closed loop: the routing table (with history), tasks and their history, feedback,
assistance records (the chain's own entries) and in-platform notifications."""

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
    Text,
    UniqueConstraint,
)

from safetynet.db import metadata

# as warnings.id (SQLite aliases only INTEGER PRIMARY KEY to the rowid)
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("need", String(32), nullable=False),
    Column("department", String(32), nullable=False),  # civil_affairs: the township itself
    Column("level", String(16), nullable=False),  # township | county: where the department acts
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),  # null: in force
    Column("source", Text, nullable=False),
    Column("note", Text),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_routing_rules_need", "need", "valid_from"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", _BIG_ID, primary_key=True),
    Column("warning_id", _BIG_ID, ForeignKey("warnings.id"), nullable=False),
    Column("task_type", String(16), nullable=False),
    Column("need", String(32)),
    Column("department", String(32)),  # department tasks: who acts
    Column("level", String(16), nullable=False),  # township | county | ...: the responsible level now
    Column("status", String(16), nullable=False),
    # the queue: users of this role whose region is (or contains, for liaisons) this region see it
    Column("queue_role", String(32), nullable=False),
    Column("queue_region", String(14), nullable=False),
    Column("assignee", String(64)),  # the user who accepted it (or it was reassigned to)
    Column("household_id", Integer, ForeignKey("households.id")),
    Column("person_id", Integer, ForeignKey("persons.id")),
    Column("region_code", String(14), nullable=False),  # the household's village: readers' scope
    Column("grid_code", String(14)),
    Column("deadline_at", DateTime(timezone=True), nullable=False),
    # true when the working-day calendar lacked a year and Monday–Friday stood in for it
    Column("deadline_provisional", Boolean, nullable=False, default=False),
    Column("escalations", Integer, nullable=False, default=0),
    Column("routing_rule_id", Integer, ForeignKey("routing_rules.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True)),
    Column("pushed_at", DateTime(timezone=True)),
    Column("accepted_at", DateTime(timezone=True)),
    Column("verifying_at", DateTime(timezone=True)),
    Column("feedback_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("returned_at", DateTime(timezone=True)),
    Column("escalated_at", DateTime(timezone=True)),
    Column("first_action_at", DateTime(timezone=True)),  # first acceptance: "time to first action"
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # dispatching a month twice creates nothing new
    UniqueConstraint("warning_id", "task_type", "department", name="uq_tasks_warning_type_department"),
    Index("ix_tasks_region_status", "region_code", "status"),
    Index("ix_tasks_queue", "queue_role", "queue_region", "status"),
    Index("ix_tasks_household", "household_id"),
    Index("ix_tasks_deadline", "status", "deadline_at"),
)

task_events = Table(
    "task_events",
    metadata,
    Column("id", _BIG_ID, primary_key=True),
    Column("task_id", _BIG_ID, ForeignKey("tasks.id"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(64), nullable=False),  # a username, or "system" (dispatch, sweep)
    Column("actor_role", String(32)),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
    Column("detail", JSON),  # e.g. the queue before and after a reassignment or escalation
    Index("ix_task_events_task", "task_id", "id"),
)

task_feedback = Table(
    "task_feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", _BIG_ID, ForeignKey("tasks.id"), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("notes", Text),
    Column("refusal_reason", Text),
    Column("assistance_id", Integer, ForeignKey("assistance_records.id")),
    Column("attachment_name", String(200)),
    Column("attachment_type", String(64)),
    Column("attachment_size", Integer),
    Column("attachment_sha256", String(64)),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_task_feedback_task", "task_id", "id"),
)

assistance_records = Table(
    "assistance_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id")),
    Column("source_kind", String(16), nullable=False),  # civil_affairs | department | charity
    Column("source", String(64), nullable=False),  # the department code, the charity's name, civil_affairs
    Column("kind", String(32), nullable=False),
    Column("amount_fen", BigInteger),  # money in fen; null for services and goods
    Column("given_on", Date, nullable=False),
    Column("task_id", _BIG_ID, ForeignKey("tasks.id")),
    Column("warning_id", _BIG_ID, ForeignKey("warnings.id")),
    Column("region_code", String(14), nullable=False),
    Column("notes", Text),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # recorded once: one record per task, and the same aid is not entered twice by hand
    UniqueConstraint("task_id", name="uq_assistance_task"),
    UniqueConstraint("household_id", "source", "kind", "given_on", "amount_fen", name="uq_assistance_once"),
    Index("ix_assistance_household", "household_id", "given_on"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", _BIG_ID, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("task_id", _BIG_ID, ForeignKey("tasks.id")),
    Column("title_zh", Text, nullable=False),
    Column("title_en", Text, nullable=False),
    Column("link", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_notifications_user", "username", "read_at", "id"),
)
