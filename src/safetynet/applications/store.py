"""Tables of applications and decisions: the application with a date and a timestamp per state, its
history (who, when, what, why), and the documents attached to it (the verification report)."""

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
)

from safetynet.applications.model import Status
from safetynet.db import metadata

# as warnings.id and tasks.id (SQLite aliases only INTEGER PRIMARY KEY to the rowid)
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")
TS = DateTime(timezone=True)
#: undecided states (model.OPEN): one application per household and matter among them
OPEN_STATES = ["submitted", "accepted", "investigating", "notice"]

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("matter", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    # the register's number and place at submission: lists and scope read them without the register
    Column("household_no", String(64), nullable=False),
    Column("region_code", String(14), nullable=False),
    Column("grid_code", String(14)),
    Column("applicant_person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("warning_id", _BIG_ID, ForeignKey("warnings.id")),
    Column("task_id", _BIG_ID, ForeignKey("tasks.id")),
    Column("department", String(32), nullable=False),  # the routing table's department id
    Column("decides", String(16), nullable=False),  # township | county | department
    Column("enrols", String(24)),  # the tier an approval opens (the catalogue's, at submission)
    Column("needs_notice", Boolean, nullable=False),
    Column("aid_first_hours", Integer),  # emergency: help within this many hours of acceptance
    # the time limit taken from the catalogue at acceptance, with its source (a later change of the
    # catalogue does not move an accepted application's due date)
    Column("limit_working_days", Integer),
    Column("limit_source", Text),
    Column("due_on", Date),  # accepted_on + the limit in working days
    Column("due_at", TS),  # emergency: the first aid is due (24 h after acceptance)
    Column("investigation_due_on", Date),  # the investigation starts by then (3 working days)
    Column("refusal_notice_due_on", Date),  # the written refusal is sent by then (3 working days)
    # true when the calendar lacked a year and Monday–Friday stood in (counted again by the sweep)
    Column("dates_provisional", Boolean, nullable=False, default=False),
    Column("notice_until", Date),  # the last day of the public notice
    Column("investigators", JSON),  # the staff names (≥ 2), or the platform acting for the township
    Column("reason", Text),  # the latest reasons given (not accepted, refused, withdrawn)
    Column("aid_on", Date),
    Column("aid_at", TS),
    Column("aid_amount_fen", BigInteger),
    Column("aid_assistance_id", Integer, ForeignKey("assistance_records.id")),
    Column("refusal_notified_on", Date),
    Column("verification", JSON),  # summary of the attached verification report, or why there is none
    Column("assessment", JSON),  # the rules' assessment behind the decision (amounts in fen)
    # the enrolment an approval opened: {tier, starts_on, monthly_amount_fen, persons, registry_import_id}
    Column("enrolment", JSON),
    Column("enrolment_starts_on", Date),
    # a date and a timestamp per state of the lifecycle
    *(Column(f"{state.value}_on", Date) for state in Status),
    *(Column(f"{state.value}_at", TS) for state in Status),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("ix_applications_region_status", "region_code", "status"),
    Index("ix_applications_household", "household_id", "matter"),
    Index("ix_applications_status_due", "status", "due_on"),
)
# one open application per household and matter, whatever two clerks submit at once
Index(
    "uq_applications_open",
    applications.c.household_id,
    applications.c.matter,
    unique=True,
    sqlite_where=applications.c.status.in_(OPEN_STATES),
    postgresql_where=applications.c.status.in_(OPEN_STATES),
)

application_events = Table(
    "application_events",
    metadata,
    Column("id", _BIG_ID, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("action", String(16), nullable=False),  # submit, accept, investigate, … (model.Action)
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("dated_on", Date, nullable=False),  # the business date the step is dated
    Column("at", TS, nullable=False),  # when it was recorded
    Column("actor", String(64), nullable=False),  # a username, or the platform acting for the township
    Column("actor_role", String(32)),
    Column("note", Text),
    Column("detail", JSON),
    Index("ix_application_events_application", "application_id", "id"),
)

application_documents = Table(
    "application_documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id"), nullable=False),
    Column("kind", String(32), nullable=False),  # verification_report
    Column("body", JSON, nullable=False),  # masked as the report shows it
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Index("ix_application_documents_application", "application_id", "kind"),
)
